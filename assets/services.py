"""Writes to the asset library: file a stored file as an asset, once per origin."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from tenancy.models import Client

from .models import Asset, Category, Tag

log = logging.getLogger(__name__)


class AssetStoreError(Exception):
    """The file could not be put in storage; nothing was created."""


def asset_create(
    *,
    client: Client,
    user: User,
    path: Path,
    storage_name: str,
    name: str,
    content_type: str,
    origin: str | None = None,
    tags: Iterable[str] = (),
    categories: Iterable[str] = (),
    metadata: dict[str, Any] | None = None,
    width: int | None = None,
    height: int | None = None,
    duration: float | None = None,
) -> tuple[Asset, bool]:
    """Store the local file at ``path`` as ``storage_name`` and make its asset; returns ``(asset, created)``.

    With an ``origin`` this is idempotent: the database holds one asset per
    origin, and a second call (or a concurrent one) returns the first asset.
    Raises AssetStoreError when storage fails; the local file is left as it is.
    """
    if origin:
        existing = Asset.objects.filter(origin=origin).first()
        if existing is not None:
            return existing, False
    try:
        if default_storage.exists(storage_name):
            default_storage.delete(storage_name)  # a leftover of an interrupted attempt (the name must stay)
        with path.open("rb") as fh:
            stored = default_storage.save(storage_name, File(fh, name=path.name))
    except Exception as exc:
        log.error("storing %s failed: %s", storage_name, exc)
        raise AssetStoreError(str(exc)) from exc
    try:
        with transaction.atomic():
            asset = Asset.objects.create(
                client=client,
                user=user,
                origin=origin,
                file=stored,
                name=name,
                content_type=content_type,
                size=path.stat().st_size,
                width=width,
                height=height,
                duration=duration,
                metadata=metadata or {},
            )
            asset.tags.set([Tag.objects.get_or_create(name=t)[0] for t in tags])
            asset.categories.set([Category.objects.get_or_create(name=c)[0] for c in categories])
    except IntegrityError:
        if origin and (first := Asset.objects.filter(origin=origin).first()) is not None:
            return first, False  # a concurrent call filed it first; same name, same file
        raise
    return asset, True
