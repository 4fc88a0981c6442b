"""Rate limits on the shared cache (Redis when configured), so every web host counts the same requests."""

from __future__ import annotations

import logging

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from .conf import get_config

log = logging.getLogger(__name__)


class GenerateRateThrottle(UserRateThrottle):
    """``GENERATE_RATE`` (the config) submits per user (default 60 a minute); over it, 429 with Retry-After.

    When the cache is down the request is let through (and logged): the
    per-client active-job limit, kept in the database, still bounds the work.
    """

    scope = "image_to_video.generate"

    def get_rate(self) -> str:
        return get_config().GENERATE_RATE  # the apps' own rate: the host's DEFAULT_THROTTLE_RATES are not read

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache (Redis) is unavailable
            log.warning("rate limit not checked, the cache is unavailable: %s", type(exc).__name__)
            return True


class PlanRateThrottle(GenerateRateThrottle):
    """``PLAN_RATE`` plans per user (default 120 a minute): each reads the photo and looks for its subject."""

    scope = "image_to_video.plan"

    def get_rate(self) -> str:
        return get_config().PLAN_RATE
