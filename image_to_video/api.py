"""The jobs API: thin views wiring request -> serializer -> service -> response."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
import threading
from collections import Counter
from typing import Any

from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from assets.policy import PageSizePagination

from . import events, selectors, services
from .conf import get_config
from .engine import EngineError, plan_video
from .fields import engine_error_sentence
from .models import FINAL_STATUSES, Job, JobStatus
from .outputs import BatchOut, DeliveryOut, JobOut, PlanOut, SecretOut
from .policies import AppApiPolicy
from .serializers import (
    GENERATE_EXAMPLE,
    GenerateRequest,
    GenerateUpload,
    VariantsRequest,
    WsTicketOut,
    WsTicketRequest,
)
from .throttles import GenerateRateThrottle, PlanRateThrottle
from .tickets import TICKET_SECONDS, ticket_issue

log = logging.getLogger(__name__)


IDEMPOTENCY_KEY_MAX = 255
GENERATE_REQUEST_EXAMPLE = OpenApiExample(
    "A 2 s zoom of a small photo", value=GENERATE_EXAMPLE, request_only=True, media_type="application/json"
)


def _idempotency_key(request: HttpRequest, limit: int) -> str:
    """The request's Idempotency-Key; a 400 naming the header when it is longer than ``limit`` (cutting it
    would make distinct long keys collide)."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > limit:
        raise ValidationError({"Idempotency-Key": [f"At most {limit} characters."]})
    return key


IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Same key and same body: the same job. Same key, another body: 409.",
)


class JobViewSet(AppApiPolicy, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = JobOut
    lookup_field = "pk"
    lookup_url_kwarg = "jobId"
    lookup_value_regex = "[^/]+"
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    filter_backends: list[Any] = []  # the client's jobs filter by ?status= themselves
    pagination_class = PageSizePagination

    def get_queryset(self):
        return selectors.jobs_visible_to(self.request.user)

    def get_object(self):
        try:
            return super().get_object()
        except (ValidationError, ValueError):  # a malformed UUID is simply "not found"
            raise Http404 from None

    def get_throttles(self):
        return [GenerateRateThrottle()] if self.action in ("generate", "variants") else super().get_throttles()

    @extend_schema(
        request={"application/json": GenerateRequest, "multipart/form-data": GenerateUpload},
        responses={202: JobOut, 200: JobOut, 429: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
        parameters=[IDEMPOTENCY_HEADER],
        examples=[GENERATE_REQUEST_EXAMPLE],
        summary="Queue a video generation job",
    )
    def generate(self, request):
        form = GenerateRequest(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        key = _idempotency_key(request, IDEMPOTENCY_KEY_MAX)
        job, _ = services.job_create(user=request.user, idempotency_key=key, **form.validated_data)
        return Response(JobOut(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=VariantsRequest,
        responses={202: BatchOut, 429: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
        parameters=[IDEMPOTENCY_HEADER],
        summary="Variants of one photo (1-12 jobs under one batchId, all or none)",
    )
    def variants(self, request):
        form = VariantsRequest(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        key = _idempotency_key(request, IDEMPOTENCY_KEY_MAX - 15)  # room for "#<variant>" on each job
        data = form.validated_data
        batch_id, jobs, _ = services.batch_create(
            user=request.user,
            client=data["client"],
            source=data["source"],
            variants=data["variants"],
            idempotency_key=key,
        )
        return Response({"batchId": str(batch_id), "jobs": JobOut(jobs, many=True).data}, status=202)

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

    @extend_schema(responses=DeliveryOut(many=True), summary="The job's outbound webhook deliveries")
    @action(detail=True, methods=["get"], pagination_class=None)
    def deliveries(self, request, jobId=None):
        job = self.get_object()
        return Response(DeliveryOut(selectors.deliveries_of(job), many=True).data)


class PlanView(AppApiPolicy, APIView):
    """POST /api/image-to-video/plan: generate's body, answered at once with what the job would render."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [PlanRateThrottle]

    @extend_schema(
        request={"application/json": GenerateRequest, "multipart/form-data": GenerateUpload},
        responses={200: PlanOut, 429: OpenApiTypes.OBJECT},
        examples=[GENERATE_REQUEST_EXAMPLE],
        summary="Preview a job: its framing and camera path, making nothing",
    )
    def post(self, request):
        form = GenerateRequest(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            plan = plan_video(data["source"].data, data["params"])
        except EngineError as exc:
            raise ValidationError({"sourceImage": [engine_error_sentence(exc)]}) from None
        return Response(PlanOut(plan).data)


class BatchView(AppApiPolicy, APIView):
    """GET /api/image-to-video/batches/<batchId>: the jobs made together by one variants call."""

    @extend_schema(responses={200: BatchOut}, summary="A batch of variants")
    def get(self, request, batchId):
        jobs = selectors.batch_jobs(user=request.user, batch_id=batchId)
        if jobs is None:
            raise Http404
        return Response({"batchId": str(jobs[0].batch_id), "jobs": JobOut(jobs, many=True).data})


class WebhookSecretView(AppApiPolicy, APIView):
    """POST /api/image-to-video/clients/<clientId>/webhook-secret: a new signing secret, shown once."""

    @extend_schema(request=None, responses={200: SecretOut}, summary="Rotate the client's webhook signing secret")
    def post(self, request, clientId):
        client = selectors.client_of_member(request.user, clientId)
        if client is None:
            raise Http404
        return Response({"secret": services.client_secret_rotate(client)}, headers={"Cache-Control": "no-store"})


class WsTicketView(AppApiPolicy, APIView):
    """A single-use ticket for ``?ticket=`` on the client's WebSocket, valid for 60 seconds."""

    @extend_schema(request=WsTicketRequest, responses={200: WsTicketOut}, summary="A WebSocket ticket")
    def post(self, request):
        form = WsTicketRequest(data=request.data, context={"request": request})
        form.is_valid(raise_exception=True)
        ticket = ticket_issue(user_id=request.user.pk, client_id=form.validated_data["clientId"])
        return Response({"ticket": ticket, "expiresIn": TICKET_SECONDS})


_generate = JobViewSet.as_view({"post": "generate"})
PREFER_WAIT = re.compile(r"(?:^|[,;\s])wait=(\d{1,6})(?![\d])", re.IGNORECASE)
MAX_WAIT = 60


def _prefer_wait(request: HttpRequest) -> int:
    """N from ``Prefer: wait=N`` (RFC 7240), at most MAX_WAIT; 0 when absent. A preference that cannot be
    honoured (malformed, or a number of any length) is ignored, as the RFC says, never an error."""
    match = PREFER_WAIT.search(request.headers.get("Prefer", "")[:1000])
    return min(MAX_WAIT, int(match.group(1))) if match else 0


class _EveryDatabase(frozenset):
    """For Django's ``_non_atomic_requests``: every alias. The view is async, and Django refuses an async view
    under a host's ``ATOMIC_REQUESTS`` unless it opts out; the services keep their own transactions."""

    def __contains__(self, alias: object) -> bool:
        return True


class _Waits:
    """Waits under way in this process, per user: over ``PREFER_WAIT_PER_USER`` the answer is the 202 at once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: Counter[Any] = Counter()

    def enter(self, user_id: Any) -> bool:
        with self._lock:
            if self._by_user[user_id] >= get_config().PREFER_WAIT_PER_USER:
                return False
            self._by_user[user_id] += 1
            return True

    def leave(self, user_id: Any) -> None:
        with self._lock:
            self._by_user[user_id] -= 1
            if self._by_user[user_id] <= 0:
                del self._by_user[user_id]


_waits = _Waits()


def _release_connections() -> None:
    """This thread's database connections go back (closed, or to the pool), unless a transaction holds them."""
    for connection in connections.all(initialized_only=True):
        if not connection.in_atomic_block:
            connection.close()


def _generate_and_release(request: HttpRequest) -> Response:
    """The generate view, then this thread's database connection goes back (a wait must not hold it)."""
    try:
        return _generate(request)
    finally:
        _release_connections()


@functools.wraps(_generate)
async def generate_view(request: HttpRequest) -> HttpResponse:
    """Generate, then with ``Prefer: wait=N`` answer when the job is final (200) or after N seconds (202).

    The waiting holds no database connection and polls nothing: the job is made and the connection
    released, then this coroutine listens on the client's channel group for the job's final update (one
    read of the row after subscribing closes the race with a job that finished first). A user has at
    most ``PREFER_WAIT_PER_USER`` waits at once in a process; past that the answer is the 202 at once.
    """
    wait = _prefer_wait(request)
    response: Response = await sync_to_async(_generate_and_release if wait else _generate)(request)
    if not wait or response.status_code != 202:
        return response
    data = response.data
    user_id = data["userId"]
    if not _waits.enter(user_id):
        return response
    try:
        final = await _wait_for_final(data["jobId"], data["clientId"], wait)
    finally:
        _waits.leave(user_id)
    if final is None:
        response["Preference-Applied"] = f"wait={wait}"
        return response
    return JsonResponse(final, status=200, headers={"Preference-Applied": f"wait={wait}"})


async def _wait_for_final(job_id: str, client_id: str, seconds: float) -> dict | None:
    layer = get_channel_layer()
    if layer is None:
        return None
    events.remember_server_loop()  # in-memory layer: publishers hand messages to this loop
    deadline = asyncio.get_running_loop().time() + seconds
    try:
        channel = await layer.new_channel()
        await layer.group_add(events.group_name(client_id), channel)
    except Exception:  # no channel layer right now: answer as without the header
        log.warning("Prefer: wait ignored, the channel layer is unavailable", exc_info=True)
        return None
    try:
        if (already := await sync_to_async(_final_job_json)(job_id)) is not None:
            return already
        while (remaining := deadline - asyncio.get_running_loop().time()) > 0:
            try:
                message = await asyncio.wait_for(layer.receive(channel), remaining)
            except TimeoutError:
                return None
            job = message.get("job") or {}
            if message.get("type") == "job.updated" and job.get("jobId") == job_id and job.get("status") in FINAL_NAMES:
                return await sync_to_async(_final_job_json)(job_id)
        return None
    except Exception:
        log.warning("Prefer: wait stopped early", exc_info=True)
        return None
    finally:
        try:
            await layer.group_discard(events.group_name(client_id), channel)
        except Exception:
            log.debug("group_discard failed", exc_info=True)


generate_view._non_atomic_requests = _EveryDatabase()  # type: ignore[attr-defined]
FINAL_NAMES = frozenset(str(s) for s in FINAL_STATUSES)


def _final_job_json(job_id: str) -> dict | None:
    """The job's JSON if it is final; the connection is released again before the wait goes on."""
    try:
        job = Job.objects.select_related("asset").filter(pk=job_id).first()
        return dict(JobOut(job).data) if job is not None and job.is_final else None
    finally:
        _release_connections()
