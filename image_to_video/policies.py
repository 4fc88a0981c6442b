"""The app's API policy: the apps' own (:mod:`assets.policy`: authentication, permissions, JSON, no host
defaults), the services' refusals mapped to HTTP once, and request bodies bounded before they are parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from assets.policy import ApiPolicy

from . import services
from .body_limits import route_limit
from .conf import get_config

log = logging.getLogger(__name__)
RETRY_AFTER_BUSY = 30  # seconds: about a render or two
RETRY_AFTER_OUTAGE = 10


class BodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "body_too_large"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus the services' refusals in HTTP terms, once for every view that creates jobs:
    a reused Idempotency-Key 409, a client at its limit 429, storage or the database down 503 (each
    with Retry-After where retrying helps); never a 500."""
    if isinstance(exc, services.IdempotencyConflict):
        return Response({"detail": "This Idempotency-Key was used with a different request."}, status=409)
    if isinstance(exc, services.ClientBusy):
        return Response(
            {"detail": f"Too many unfinished jobs: {exc}; no job was made."},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(RETRY_AFTER_BUSY)},
        )
    if isinstance(exc, services.StorageUnavailable):
        return _unavailable("Storage is briefly unavailable, so the image could not be kept; retry shortly.")
    if isinstance(exc, DatabaseError):
        log.warning("database unavailable: %s", type(exc).__name__)
        return _unavailable("The database is briefly unavailable; retry shortly.")
    return drf_exception_handler(exc, context)


def _unavailable(detail: str) -> Response:
    return Response({"detail": detail}, status=503, headers={"Retry-After": str(RETRY_AFTER_OUTAGE)})


def declared_body_limit(request: Request, limit: int) -> None:
    """413 when the declared body is over ``limit`` bytes, before anything parses it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise BodyTooLarge(f"The request body is larger than {limit} bytes.")


class AppApiPolicy(ApiPolicy):
    """The base of every API view of the app (first in a viewset's bases): the apps' policy, plus the
    services' refusals as HTTP and a bounded body."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        match = request.resolver_match
        limit = route_limit(match.namespaces, match.url_name) if match else None
        declared_body_limit(request, limit if limit is not None else get_config().OTHER_BODY_LIMIT)
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return exception_handler
