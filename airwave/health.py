"""Liveness and readiness: /healthz says the process answers, /readyz checks what it depends on."""

from __future__ import annotations

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from kombu import Connection
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response


@extend_schema(summary="Liveness: the process answers", responses={200: OpenApiTypes.OBJECT}, tags=["health"])
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def healthz(request):
    return Response({"status": "ok"})


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _channel_layer() -> None:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.send)(channel, {"type": "readyz.ping"})
    async_to_sync(layer.receive)(channel)


def _broker() -> None:
    with Connection(settings.CELERY_BROKER_URL, connect_timeout=2) as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def _storage() -> None:
    name = f"readyz/{uuid.uuid4().hex}.txt"
    saved = default_storage.save(name, ContentFile(b"ok"))
    default_storage.delete(saved)


@extend_schema(
    summary="Readiness: database, channel layer, broker and storage",
    responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
    tags=["health"],
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def readyz(request):
    checks = {"database": _database, "channelLayer": _channel_layer, "storage": _storage}
    if settings.CELERY_BROKER_URL:
        checks["broker"] = _broker
    results, failed = {}, []
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # each failure is reported by name, never raised
            results[name] = f"unavailable: {type(exc).__name__}"
            failed.append(name)
    body: dict[str, object] = {"status": "ok" if not failed else "unavailable", "checks": results}
    if failed:
        body["unavailable"] = failed
    return Response(body, status=503 if failed else 200)
