"""The jobs API: thin views wiring request -> serializer -> service -> response."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from . import selectors, services
from .models import JobStatus
from .outputs import JobOut
from .serializers import GenerateRequest

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

    @extend_schema(
        request=GenerateRequest,
        responses={202: JobOut, 200: JobOut},
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
