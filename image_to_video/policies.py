"""The API policy every view of the app declares for itself, so the host's ``REST_FRAMEWORK`` defaults
change nothing here, and nothing here changes the host's: authentication (expiring API tokens, the
session), permissions, throttles with their own rates, pagination, no implicit filter backends, JSON
only, the services' refusals mapped to HTTP once, and request bodies bounded before they are parsed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from drf_spectacular.openapi import AutoSchema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from tenancy.authentication import ExpiringTokenAuthentication

from . import services
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


class JobPagination(PageNumberPagination):
    page_size_query_param = "pageSize"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        self.page_size = get_config().PAGE_SIZE
        return super().get_page_size(request)


def declared_body_limit(request: Request, limit: int) -> None:
    """413 when the declared body is over ``limit`` bytes, before anything parses it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise BodyTooLarge(f"The request body is larger than {limit} bytes.")


class AppApiPolicy(APIView):
    """The base of every API view of the app (first in a viewset's bases): its policies, not the host's."""

    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    content_negotiation_class = DefaultContentNegotiation
    versioning_class = None
    schema = AutoSchema()
    body_limit: Callable[[], int] = staticmethod(lambda: get_config().OTHER_BODY_LIMIT)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        declared_body_limit(request, self.body_limit())
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self) -> Callable[..., Response | None]:
        return exception_handler
