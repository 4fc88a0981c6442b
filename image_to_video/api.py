"""The jobs API: thin views wiring request -> serializer -> service -> response."""

from __future__ import annotations

import logging
from typing import Any

from django.db import DatabaseError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from . import selectors, services
from .models import JobStatus
from .outputs import JobOut
from .serializers import GenerateRequest, WsTicketOut, WsTicketRequest
from .throttles import GenerateRateThrottle
from .tickets import TICKET_SECONDS, ticket_issue

log = logging.getLogger(__name__)
RETRY_AFTER_BUSY = 30  # seconds: about a render or two
RETRY_AFTER_OUTAGE = 10


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: a database that dropped the connection is a 503 with Retry-After, not a 500."""
    if isinstance(exc, DatabaseError):
        log.warning("database unavailable: %s", type(exc).__name__)
        return _unavailable("The database is briefly unavailable; retry shortly.")
    return drf_exception_handler(exc, context)


def _unavailable(detail: str) -> Response:
    return Response({"detail": detail}, status=503, headers={"Retry-After": str(RETRY_AFTER_OUTAGE)})


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Same key and same body: the same job. Same key, another body: 409.",
)


class JobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobOut
    lookup_field = "pk"
    lookup_url_kwarg = "jobId"
    lookup_value_regex = "[^/]+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        return selectors.jobs_visible_to(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValidationError, ValueError):  # a malformed UUID is simply "not found"
            raise Http404 from None

    def get_throttles(self):
        return [GenerateRateThrottle()] if self.action == "generate" else super().get_throttles()

    @extend_schema(
        request=GenerateRequest,
        responses={202: JobOut, 200: JobOut, 429: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Queue a video generation job",
    )
    def generate(self, request):
        form = GenerateRequest(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        key = request.headers.get("Idempotency-Key", "").strip()[:255]
        try:
            job, created = services.job_create(user=request.user, idempotency_key=key, **form.validated_data)
        except services.IdempotencyConflict:
            return Response(
                {"detail": "This Idempotency-Key was used with a different request."}, status=status.HTTP_409_CONFLICT
            )
        except services.ClientBusy as exc:
            return Response(
                {"detail": f"Too many unfinished jobs: {exc}."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(RETRY_AFTER_BUSY)},
            )
        except services.StorageUnavailable:
            return _unavailable("Storage is briefly unavailable, so the image could not be kept; retry shortly.")
        return Response(JobOut(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(summary="One job")
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="A client's jobs, newest first",
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=JobStatus.values, required=False),
            OpenApiParameter("clientId", OpenApiTypes.UUID, OpenApiParameter.PATH),
        ],
        responses=JobOut(many=True),
    )
    @action(detail=False, methods=["get"], url_path=r"client/(?P<clientId>[^/]+)")
    def client(self, request, clientId=None):
        status_filter = request.query_params.get("status") or None
        if status_filter and status_filter not in JobStatus.values:
            raise ValidationError({"status": [f"Must be one of {', '.join(JobStatus.values)}."]})
        jobs = selectors.jobs_for_client(user=request.user, client_id=clientId, status=status_filter)
        if jobs is None:
            raise Http404
        page = self.paginate_queryset(jobs)
        return self.get_paginated_response(JobOut(page, many=True).data)

    @extend_schema(request=None, responses={200: JobOut, 409: OpenApiTypes.OBJECT}, summary="Cancel a job")
    @action(detail=True, methods=["post"])
    def cancel(self, request, jobId=None):
        job = self.get_object()
        try:
            job = services.job_cancel(job)
        except services.JobNotCancelable as exc:
            return Response({"detail": f"The job has already finished ({exc})."}, status=status.HTTP_409_CONFLICT)
        return Response(JobOut(selectors.jobs_visible_to(request.user).get(pk=job.pk)).data)


class WsTicketView(APIView):
    """A single-use ticket for ``?ticket=`` on the client's WebSocket, valid for 60 seconds."""

    @extend_schema(request=WsTicketRequest, responses={200: WsTicketOut}, summary="A WebSocket ticket")
    def post(self, request):
        form = WsTicketRequest(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        ticket = ticket_issue(user_id=request.user.pk, client_id=form.validated_data["clientId"])
        return Response({"ticket": ticket, "expiresIn": TICKET_SECONDS})
