"""Video providers behind one interface (:mod:`.base`); chosen per job by name."""

from __future__ import annotations

from .base import ProviderError, ProviderUpdate, RenderRequest, StartOutcome, VideoProvider
from .local import LocalProvider
from .runway import RunwayProvider

PROVIDERS: dict[str, type[VideoProvider]] = {"local": LocalProvider, "runway": RunwayProvider}
PROVIDER_NAMES = tuple(PROVIDERS)


def provider_names(*, remote: bool) -> tuple[str, ...]:
    """The providers a service renders for (``remote``), or those this project's workers render."""
    return tuple(name for name, provider in PROVIDERS.items() if provider.renders_here is not remote)


def provider_class(name: str) -> type[VideoProvider]:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise ProviderError(f"unknown provider {name!r}", code="unknown_provider") from None


def get_provider(name: str) -> VideoProvider:
    return provider_class(name).from_settings()


def provider_unavailable_reason(name: str) -> str | None:
    """Why ``name`` cannot take jobs here, or None when it can (each provider answers for itself)."""
    if name not in PROVIDERS:
        return f"unknown provider {name!r}; use one of {', '.join(PROVIDER_NAMES)}"
    return PROVIDERS[name].unavailable_reason()


__all__ = [
    "PROVIDERS",
    "PROVIDER_NAMES",
    "ProviderError",
    "ProviderUpdate",
    "RenderRequest",
    "StartOutcome",
    "VideoProvider",
    "get_provider",
    "provider_class",
    "provider_names",
    "provider_unavailable_reason",
]
