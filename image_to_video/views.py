"""The page for people: server-rendered, talks only to the public API and the socket."""

import os

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from assets.clients import clients_of

from . import dispatch
from .conf import get_config
from .engine import DEFAULT_DIRECTION, DIRECTIONS, MOTION_TYPES, OUTPUT_FORMATS
from .engine.motion import (
    COMPLEX_DRIFT,
    COMPLEX_ROLL_DEG,
    COMPLEX_ZOOM,
    PAN_PER_STRENGTH,
    ROTATION_DEG_PER_STRENGTH,
    ZOOM_PER_STRENGTH,
)
from .engine.source import MAX_PIXELS, MAX_SIDE
from .events import WEBSOCKET_PREFIX
from .metrics import ServiceCollector
from .providers import PROVIDER_NAMES, provider_unavailable_reason
from .selectors import jobs_waiting_by_client

SOME_ID = "00000000-0000-0000-0000-000000000000"  # a stand-in the page's script replaces with a real id
# What strength 100 does, so the page can say what a strength means ("zoom to 1.25×") before any plan.
STRENGTH_EFFECTS = {
    "zoom": ZOOM_PER_STRENGTH,
    "pan": PAN_PER_STRENGTH,
    "rotation": ROTATION_DEG_PER_STRENGTH,
    "complexZoom": COMPLEX_ZOOM,
    "complexDrift": COMPLEX_DRIFT,
    "complexRoll": COMPLEX_ROLL_DEG,
}


def _logout_url() -> str | None:
    """Where the page's Log out button posts: the config's URL (name or path), else the host's "logout" or
    allauth's "account_logout"; None (no button) when there is none."""
    configured = get_config().LOGOUT_URL
    for name in [configured] if configured else ["logout", "account_logout"]:
        try:
            return reverse(name)
        except NoReverseMatch:
            if configured and "/" in configured:
                return configured
    return None


def _page_urls() -> dict[str, str]:
    """The routes the page's script calls, wherever the host mounted the apps."""
    return {
        "generate": reverse("image_to_video:job-generate"),
        "plan": reverse("image_to_video:job-plan"),
        "variants": reverse("image_to_video:job-variants"),
        "share": reverse("assets:asset-share", kwargs={"assetId": SOME_ID}),
        "job": reverse("image_to_video:job-detail", kwargs={"jobId": SOME_ID}),
        "cancel": reverse("image_to_video:job-cancel", kwargs={"jobId": SOME_ID}),
        "clientJobs": reverse("image_to_video:job-client", kwargs={"clientId": SOME_ID}),
        "wsTicket": reverse("image_to_video:ws-ticket"),
        "assets": reverse("assets:asset-list"),
        "asset": reverse("assets:asset-detail", kwargs={"assetId": SOME_ID}),
        "socket": f"{WEBSOCKET_PREFIX}{SOME_ID}/",
        "someId": SOME_ID,
    }


@login_required
def index(request):
    providers = [p for p in PROVIDER_NAMES if provider_unavailable_reason(p) is None]
    clients = list(clients_of(request.user))
    return render(
        request,
        "image_to_video/index.html",
        {
            "clients": clients,
            "providers": providers,
            "default_provider": get_config().PROVIDER,
            "motion_types": MOTION_TYPES,
            "output_formats": OUTPUT_FORMATS,
            "logout_url": _logout_url(),
            "max_upload_mb": get_config().MAX_UPLOAD_BYTES // (1024 * 1024),
            "config": {
                "urls": _page_urls(),
                "directions": DIRECTIONS,
                "defaults": DEFAULT_DIRECTION,
                "strength": STRENGTH_EFFECTS,
                "maxUploadBytes": get_config().MAX_UPLOAD_BYTES,
                "maxPixels": MAX_PIXELS,
                "maxSide": MAX_SIDE,
                "clients": [{"id": str(c.pk), "name": str(c)} for c in clients],
            },
        },
    )


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text format: this process's counters (all of this host's with PROMETHEUS_MULTIPROC_DIR),
    and the service-wide gauges read from the database."""
    counted = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    service = CollectorRegistry()
    service.register(ServiceCollector(jobs_waiting_by_client, dispatch.queue_stats))
    body = generate_latest(counted) + generate_latest(service)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)
