"""Liveness and readiness: /healthz says the process answers, /readyz checks what it depends on."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from kombu import Connection
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from assets.storage import files_storage
from image_to_video.providers import PROVIDERS


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


def _storage_read() -> None:
    """Lists a (normally empty) prefix: catches storage down and a missing bucket, writes nothing."""
    try:
        files_storage.listdir("readyz")
    except FileNotFoundError:  # local storage without that folder: it answered
        pass


def _storage_write() -> None:
    """Writes and deletes a tiny object: also catches missing write rights (operators only)."""
    name = f"readyz/{uuid.uuid4().hex}.txt"
    saved = files_storage.save(name, ContentFile(b"ok"))
    files_storage.delete(saved)


_cache: dict[bool, tuple[float, dict[str, object], int]] = {}
_cache_lock = threading.Lock()


@extend_schema(
    summary="Readiness: database, channel layer, broker and storage",
    responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT},
    tags=["health"],
)
@api_view(["GET"])
@permission_classes([AllowAny])
def readyz(request):
    """Cached for READYZ_CACHE_SECONDS, so probes and anonymous callers cannot make it work harder;
    the storage write probe runs for staff (or with READYZ_WRITE_PROBE=1) only."""
    write_probe = settings.READYZ_WRITE_PROBE or bool(getattr(request.user, "is_staff", False))
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(write_probe)
        if hit is None or now - hit[0] >= settings.READYZ_CACHE_SECONDS:
            body, status = _check(write_probe)
            _cache[write_probe] = hit = (now, body, status)
    return Response(hit[1], status=hit[2])


def _check(write_probe: bool) -> tuple[dict[str, object], int]:
    checks = {
        "database": _database,
        "channelLayer": _channel_layer,
        "storage": _storage_write if write_probe else _storage_read,
    }
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
    body: dict[str, object] = {
        "status": "ok" if not failed else "unavailable",
        "checks": results,
        "checkedAt": datetime.now(UTC).isoformat(),
    }
    if failed:
        body["unavailable"] = failed
    if write_probe:  # operators: the providers' accounts (credits, limits); never a reason to be unready
        body["providers"] = _providers_detail()
    return body, 503 if failed else 200


def _providers_detail() -> dict[str, object]:
    detail: dict[str, object] = {}
    for name, provider in PROVIDERS.items():
        try:
            info = provider.status_detail()
        except Exception as exc:
            info = {"error": f"unavailable: {type(exc).__name__}"}
        if info:
            detail[name] = info
    return detail
