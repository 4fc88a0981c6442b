"""Rate limits on the shared cache (Redis when configured), so every web host counts the same requests."""

from __future__ import annotations

import logging

from rest_framework.request import Request
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

log = logging.getLogger(__name__)


class GenerateRateThrottle(UserRateThrottle):
    """``GENERATE_RATE`` submits per user (default 60 a minute); over it, 429 with Retry-After.

    When the cache is down the request is let through (and logged): the
    per-client active-job limit, kept in the database, still bounds the work.
    """

    scope = "generate"

    def allow_request(self, request: Request, view: APIView) -> bool:
        try:
            return super().allow_request(request, view)
        except Exception as exc:  # the cache (Redis) is unavailable
            log.warning("rate limit not checked, the cache is unavailable: %s", type(exc).__name__)
            return True
