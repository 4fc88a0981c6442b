"""Provider webhooks, as django-anymail does them: one generic view that verifies, stores, hands on.

The provider verifies the delivery (Standard Webhooks signatures) and parses its
body into a :class:`~image_to_video.providers.ProviderUpdate`. A verified
delivery is stored (once per ``webhook-id``) before it is acknowledged;
processing runs on a worker through the same service as polling, so a slow
download never delays the answer and a failure leaves the event stored for a
retry.
"""

from __future__ import annotations

import json
import logging

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from . import dispatch, tasks
from .policies import AppApiPolicy
from .providers import provider_class
from .providers.base import WebhookNotConfigured, WebhookRejected
from .services.webhook_events import webhook_event_record

log = logging.getLogger(__name__)
SIGNATURE_HEADERS = [
    OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
    for name in ("webhook-id", "webhook-timestamp", "webhook-signature")
]


class ProviderWebhookView(AppApiPolicy, APIView):
    """POST a provider's task object, signed; ``provider`` names whose (``as_view(provider=…)``)."""

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
    def post(self, request: Request) -> Response:
        provider = provider_class(self.provider)
        body = request.body
        try:
            provider.verify_webhook(body, request.headers)
        except WebhookNotConfigured:
            secret_setting = f"{self.provider.upper()}_WEBHOOK_SECRET"
            return Response({"detail": f"Webhooks are not configured ({secret_setting} is not set)."}, status=503)
        except WebhookRejected:
            return Response({"detail": "Invalid or stale webhook signature."}, status=401)
        try:
            task = json.loads(body)
            update = provider.parse_webhook(task)
        except ValueError as exc:
            return Response({"detail": f"Not a task object: {exc}."}, status=400)
        webhook_id = request.headers["webhook-id"][:200]
        event, created = webhook_event_record(
            webhook_id=webhook_id, provider=self.provider, body=task, task_id=update.task_id
        )
        if event.processed_at is not None:
            return Response({"status": "duplicate", "webhookId": webhook_id}, status=200)
        transaction.on_commit(lambda: dispatch.send(tasks.process_webhook_event, event.pk))
        return Response({"status": "accepted", "webhookId": webhook_id}, status=202)
