"""The public side of share links: a page that plays one asset's video, and its file, without an account.

Anyone holding a live link may watch; an unknown or revoked link is 404, an expired one 410. Nothing
else of the asset (its metadata, its client, other assets) is reachable from here.
"""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from .models import Asset, ShareLink
from .selectors import LinkExpired, shared_asset
from .storage import presigned_url

PRIVATE = {
    "Cache-Control": "no-store",  # a revoked link must not play from a cache
    "Referrer-Policy": "no-referrer",  # the token is in the URL: never pass it on
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}


def part_response(asset: Asset, part: str, headers: dict[str, str]) -> FileResponse:
    """An asset's stored ``file`` or ``poster`` as a streamed response with ``headers``; 404 when it has
    none or the storage no longer holds it. Every view that serves an asset's bytes goes through here."""
    field = getattr(asset, part)
    if not field:
        raise Http404
    try:
        handle = field.storage.open(field.name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    content_type = asset.content_type if part == "file" else "image/jpeg"
    filename = (field.name or "").rsplit("/", 1)[-1]
    response = FileResponse(handle, content_type=content_type, as_attachment=False, filename=filename)
    for name, value in headers.items():
        response[name] = value
    return response


def _live(token: str) -> tuple[Asset, ShareLink] | None:
    """The asset and link of a live share link; None once it has expired (410); 404 unknown or revoked."""
    try:
        found = shared_asset(token)
    except LinkExpired:
        return None
    if found is None:
        raise Http404
    return found


def _gone() -> HttpResponse:
    response = HttpResponse("This share link has expired.", status=410, content_type="text/plain; charset=utf-8")
    for name, value in PRIVATE.items():
        response[name] = value
    return response


@require_safe
def shared_page(request: HttpRequest, token: str) -> HttpResponse:
    """A page with the video playing."""
    live = _live(token)
    if live is None:
        return _gone()
    asset, link = live
    left = int((link.expires_at - timezone.now()).total_seconds())
    video = presigned_url(asset.file.name or "", asset.file.storage, at_most=left) or reverse(
        "assets:shared-file", args=[token]
    )
    poster = None
    if asset.poster:
        poster = presigned_url(asset.poster.name or "", asset.poster.storage, at_most=left) or reverse(
            "assets:shared-poster", args=[token]
        )
    response = render(
        request,
        "assets/shared.html",
        {"asset": asset, "video": video, "poster": poster, "expires_at": link.expires_at},
    )
    for name, value in PRIVATE.items():
        response[name] = value
    return response


def _shared_part(part: str):
    @require_safe
    def view(request: HttpRequest, token: str) -> HttpResponseBase:
        live = _live(token)
        return _gone() if live is None else part_response(live[0], part, PRIVATE)

    view.__name__ = f"shared_{part}"
    return view


shared_file = _shared_part("file")
shared_poster = _shared_part("poster")
