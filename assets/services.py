"""Writes to the asset library: file a stored file as an asset, once per origin."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone

from .models import Asset, Category, ShareLink, Tag
from .selectors import share_token_hash
from .storage import files_storage

log = logging.getLogger(__name__)


class AssetStoreError(Exception):
    """The file could not be filed (storage unavailable, or the file is not there); nothing was created."""


def asset_create(
    *,
    client: Model,
    user: AbstractBaseUser,
    stored_name: str,
    name: str,
    content_type: str,
    origin: str | None = None,
    tags: Iterable[str] = (),
    categories: Iterable[str] = (),
    metadata: dict[str, Any] | None = None,
    width: int | None = None,
    height: int | None = None,
    duration: float | None = None,
    fps: float | None = None,
    frame_count: int | None = None,
    codec: str = "",
    bitrate: int | None = None,
    poster_name: str = "",
) -> tuple[Asset, bool]:
    """Make the asset of a file already in the default storage; returns ``(asset, created)``.

    With an ``origin`` this is idempotent: the database holds one asset per
    origin, and a second call (or a concurrent one) returns the first asset.
    Raises AssetStoreError when the storage cannot say the file's size.
    """
    if origin:
        existing = Asset.objects.filter(origin=origin).first()
        if existing is not None:
            return existing, False
    try:
        size = files_storage.size(stored_name)
    except Exception as exc:
        raise AssetStoreError(f"{stored_name} is not readable in storage ({type(exc).__name__})") from exc
    try:
        with transaction.atomic():
            asset = Asset.objects.create(
                client_id=client.pk,
                user_id=user.pk,
                origin=origin,
                file=stored_name,
                name=name,
                content_type=content_type,
                size=size,
                width=width,
                height=height,
                duration=duration,
                fps=fps,
                frame_count=frame_count,
                codec=codec,
                bitrate=bitrate,
                poster=poster_name,
                metadata=metadata or {},
            )
            asset.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
            asset.categories.set([Category.objects.get_or_create(name=c)[0] for c in categories])
    except IntegrityError:
        if origin and (first := Asset.objects.filter(origin=origin).first()) is not None:
            return first, False  # a concurrent call filed it first
        raise
    return asset, True


def share_link_create(*, asset: Asset, user: AbstractBaseUser, expires_in: int) -> tuple[str, ShareLink]:
    """A new share link of ``asset`` living ``expires_in`` seconds: ``(token, link)``; the token is shown
    once (only its hash is stored)."""
    token = secrets.token_urlsafe(24)
    link = ShareLink.objects.create(
        asset=asset,
        token_hash=share_token_hash(token),
        created_by_id=user.pk,
        expires_at=timezone.now() + timedelta(seconds=expires_in),
    )
    return token, link


def share_links_revoke(*, asset: Asset) -> int:
    """Every share link of ``asset`` stops working at once; returns how many there were."""
    deleted, _ = ShareLink.objects.filter(asset=asset).delete()
    return deleted


def share_links_expired_delete(*, older_than: timedelta) -> int:
    """Forget links that expired more than ``older_than`` ago (until then they answer 410, not 404)."""
    deleted, _ = ShareLink.objects.filter(expires_at__lt=timezone.now() - older_than).delete()
    return deleted
