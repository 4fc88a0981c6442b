"""Video providers behind one small interface; chosen per job by name."""

from __future__ import annotations

from django.conf import settings

from .base import ProviderError, StartOutcome, VideoProvider
from .local import LocalProvider

PROVIDER_NAMES = ("local", "runway")


def get_provider(name: str) -> VideoProvider:
    if name == "local":
        return LocalProvider()
    if name == "runway":
        from .runway import RunwayProvider

        return RunwayProvider.from_settings()
    raise ProviderError(f"unknown provider {name!r}", code="unknown_provider")


def provider_unavailable_reason(name: str) -> str | None:
    """Why ``name`` cannot take jobs here, or None when it can."""
    if name not in PROVIDER_NAMES:
        return f"unknown provider {name!r}; use one of {', '.join(PROVIDER_NAMES)}"
    if name == "runway" and not settings.RUNWAY_API_KEY:
        return "the runway provider is not configured (RUNWAY_API_KEY is not set)"
    return None


__all__ = [
    "PROVIDER_NAMES",
    "ProviderError",
    "StartOutcome",
    "VideoProvider",
    "get_provider",
    "provider_unavailable_reason",
]
