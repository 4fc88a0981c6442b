"""Tenancy's one setting, read from the apps' dict ``settings.IMAGE_TO_VIDEO`` with its default."""

from __future__ import annotations

from django.conf import settings

TOKEN_MAX_AGE_DAYS = 90.0  # API tokens expire after this many days (0: never)


def token_max_age_days() -> float:
    return float((getattr(settings, "IMAGE_TO_VIDEO", None) or {}).get("TOKEN_MAX_AGE_DAYS", TOKEN_MAX_AGE_DAYS))
