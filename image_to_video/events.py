"""Pushing job and asset changes to the client's Channels group, after commit.

Group ``client.<uuid>``; messages ``job.updated`` and ``asset.created``, whose
payloads are the same JSON as the HTTP API returns. Called from any process:
the web server, the in-process worker thread, or a Celery worker (through
channels-redis). With the in-memory layer the worker is a thread of the web
server, and the message is handed to the server's event loop, which owns the
layer's queues.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer

from assets.models import Asset
from assets.serializers import AssetOut

from .models import Job
from .outputs import JobOut

log = logging.getLogger(__name__)
_server_loop: asyncio.AbstractEventLoop | None = None
WEBSOCKET_PREFIX = "/ws/image-to-video/clients/"  # + <clientId>/: the contract fixes it (routing serves it)


def group_name(client_id) -> str:
    return f"client.{client_id}"


def remember_server_loop() -> None:
    """Called by consumers: the loop that serves WebSockets in this process."""
    global _server_loop
    _server_loop = asyncio.get_running_loop()


def _send(client_id, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    group = group_name(client_id)
    loop = _server_loop
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    try:
        if loop is not None and loop.is_running() and running is not loop and isinstance(layer, InMemoryChannelLayer):
            asyncio.run_coroutine_threadsafe(layer.group_send(group, message), loop).result(timeout=5)
        elif running is not None:
            running.create_task(layer.group_send(group, message))
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # a lost notification must never fail the job
        log.warning("could not publish %s to %s", message.get("type"), group, exc_info=True)


def publish_job(job_id: Any, *, final: bool = False) -> None:
    job = Job.objects.select_related("asset").filter(pk=job_id).first()
    if job is not None:
        _send(job.client_id, {"type": "job.updated", "job": JobOut(job).data, "final": final})


def publish_job_data(client_id: Any, data: dict[str, Any]) -> None:
    """A job's JSON the caller already has (a render's progress, from its snapshot): no read of the row."""
    _send(client_id, {"type": "job.updated", "job": data, "final": False})


def publish_asset(asset: Asset) -> None:
    _send(asset.client_id, {"type": "asset.created", "asset": AssetOut(asset).data})
