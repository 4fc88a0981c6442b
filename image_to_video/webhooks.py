"""Provider webhooks, as django-anymail does them: verify, store, hand on.

Signed per Standard Webhooks. A verified delivery is stored (once per
``webhook-id``) before it is acknowledged; processing runs on a worker through
the same service as polling, so a slow download never delays the answer and a
failure leaves the event stored for a retry.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from standardwebhooks.webhooks import Webhook

from . import dispatch, services, tasks
from .providers.runway import parse_task

log = logging.getLogger(__name__)
SIGNATURE_HEADERS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
]


class RunwayWebhookView(APIView):
    """POST /api/image-to-video/webhook: the provider's task object, signed."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []
    provider = "runway"

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        parameters=SIGNATURE_HEADERS,
        responses={
            200: OpenApiTypes.OBJECT,
            202: OpenApiTypes.OBJECT,
            400: OpenApiTypes.OBJECT,
            401: OpenApiTypes.OBJECT,
            503: OpenApiTypes.OBJECT,
        },
        summary="Provider task updates (Standard Webhooks signature)",
    )
    def post(self, request):
        secret = settings.RUNWAY_WEBHOOK_SECRET
        if not secret:
            return Response({"detail": "Webhooks are not configured (RUNWAY_WEBHOOK_SECRET is not set)."}, status=503)
        body = request.body
        try:
            Webhook(secret).verify(body, dict(request.headers), json_parse=False)
        except Exception:  # any malformed, forged or stale signature is the same answer
            return Response({"detail": "Invalid or stale webhook signature."}, status=401)
        try:
            task = json.loads(body)
            update = parse_task(task)
        except ValueError as exc:
            return Response({"detail": f"Not a task object: {exc}."}, status=400)
        webhook_id = request.headers["webhook-id"][:200]
        event, created = services.webhook_event_record(
            webhook_id=webhook_id, provider=self.provider, body=task, task_id=update.task_id
        )
        if event.processed_at is not None:
            return Response({"status": "duplicate", "webhookId": webhook_id}, status=200)
        transaction.on_commit(lambda: dispatch.enqueue(tasks.process_webhook_event, event.pk))
        return Response({"status": "accepted", "webhookId": webhook_id}, status=202)
