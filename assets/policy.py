"""The API policy the apps' views declare for themselves, so the host's ``REST_FRAMEWORK`` defaults change
nothing in them and they change nothing in the host's: who may call (the apps' expiring API tokens or the
session, authenticated), JSON in and out, DRF's own error shapes, and pagination sized by the config."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework.authentication import SessionAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from .authentication import ExpiringTokenAuthentication
from .conf import get_config


class ApiPolicy(APIView):
    """The base of every API view of the apps (first in a viewset's bases)."""

    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes = []
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    content_negotiation_class = DefaultContentNegotiation
    versioning_class = None
    schema = AutoSchema()

    def get_exception_handler(self) -> Callable[..., Any]:
        return drf_exception_handler


class PageSizePagination(PageNumberPagination):
    """``count``, ``next``, ``previous``, ``results``; ``PAGE_SIZE`` from the config, ``?pageSize=`` up to 100."""

    page_size_query_param = "pageSize"
    max_page_size = 100

    def get_page_size(self, request: Request) -> int | None:
        self.page_size = get_config().PAGE_SIZE
        return super().get_page_size(request)
