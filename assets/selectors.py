"""Reads of assets, scoped to the user's clients."""

import hashlib

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from .clients import clients_of
from .models import Asset, ShareLink


def assets_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Asset]:
    return Asset.objects.filter(client__in=clients_of(user)).prefetch_related("tags", "categories")


_now = timezone.now  # the share links' clock (a test freezes it)


def share_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class LinkExpired(Exception):
    """The share link existed and has expired (410 rather than 404)."""


def shared_asset(token: str) -> tuple[Asset, ShareLink] | None:
    """The asset a live share link plays, with the link; None for an unknown or revoked link; raises
    LinkExpired for one past its time."""
    link = ShareLink.objects.select_related("asset").filter(token_hash=share_token_hash(token)).first()
    if link is None:
        return None
    if link.expires_at <= _now():
        raise LinkExpired
    return link.asset, link


def live_share_links(asset: Asset) -> int:
    return ShareLink.objects.filter(asset=asset, expires_at__gt=_now()).count()
