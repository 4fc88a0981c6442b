"""Outbound webhooks: integrators are called back, signed, retried, and every call is on record.

A :class:`WebhookDelivery` row is written in the same transaction as the
change it reports (the row is the outbox), then attempted once that commits.
Each delivery is signed per Standard Webhooks with the client's own secret
and keeps one ``webhook-id`` across its attempts, so receivers can drop
repeats. Timeouts, connection errors, 429 and 5xx are retried with
exponential backoff from ``OUTBOUND_WEBHOOK_FIRST_RETRY`` seconds (5) for about a day; other
answers are final. Targets must resolve to public addresses, checked at
submit and again before every attempt (no redirects are followed), unless
``OUTBOUND_WEBHOOK_ALLOW_PRIVATE`` is set.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import socket
import time
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from assets.models import Asset
from assets.serializers import AssetOut

from .. import dispatch, tasks
from ..conf import get_config
from ..models import ClientWebhookSettings, Job, WebhookDelivery
from ..netcheck import non_public_addresses
from ..outputs import JobOut

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = ("job.started", "job.progress", "job.completed", "job.failed", "job.canceled", "asset.created")
DEFAULT_EVENTS = tuple(e for e in WEBHOOK_EVENTS if e != "job.progress")
MAX_RETRY_GAP = 3600.0
GIVE_UP_AFTER = timedelta(hours=24)
PROGRESS_EVERY = 0.5  # seconds between job.progress calls for one job
CLAIM_SECONDS = 60  # an attempt in flight holds the delivery this long
TIMEOUT = (3.05, 10.0)
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_last_progress: dict[Any, float] = {}


class WebhookRefused(ValueError):
    """A webhook URL that may not be called: not HTTPS, or not a public address."""


class WebhookUnresolved(ConnectionError):
    """The host does not resolve right now: not a refusal (DNS may be down); the delivery is retried."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(os.urandom(32)).decode()


def client_secret_rotate(client: Model) -> str:
    """A new signing secret for the client's webhooks; the old one stops signing at once."""
    secret = new_secret()
    ClientWebhookSettings.objects.update_or_create(client_id=client.pk, defaults={"webhook_secret": secret})
    return secret


def client_signing_secret(client_id: Any) -> str:
    """The client's signing secret, made once (concurrent first deliveries agree on one)."""
    settings_row, _ = ClientWebhookSettings.objects.get_or_create(client_id=client_id)
    if not settings_row.webhook_secret:
        ClientWebhookSettings.objects.filter(client_id=client_id, webhook_secret="").update(webhook_secret=new_secret())
        settings_row.refresh_from_db(fields=["webhook_secret"])
    return settings_row.webhook_secret


def check_webhook_url(url: str) -> str:
    """The URL if it may be called now; raises WebhookRefused naming why not, or WebhookUnresolved."""
    allow_private = get_config().OUTBOUND_WEBHOOK_ALLOW_PRIVATE
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise WebhookRefused("must be an https:// URL")
    if not parts.hostname or parts.username or parts.password:
        raise WebhookRefused("must be an https:// URL with a host name and no credentials")
    try:
        blocked = non_public_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise WebhookUnresolved(f"the host {parts.hostname!r} does not resolve") from exc
    except (UnicodeError, ValueError) as exc:
        raise WebhookRefused(f"the host {parts.hostname!r} is not a valid host name") from exc
    if blocked and not allow_private:
        raise WebhookRefused(f"resolves to a private, loopback or link-local address ({blocked[0]})")
    return url


def _targets(job: Job, event: str) -> str | None:
    """Where ``event`` of ``job`` goes: the job's own webhook, else its client's default, if subscribed."""
    if job.webhook_url:
        return job.webhook_url if event in (job.webhook_event_types or DEFAULT_EVENTS) else None
    default = ClientWebhookSettings.objects.filter(client_id=job.client_id).exclude(webhook_url="").first()
    if default is not None and event in (default.webhook_events or DEFAULT_EVENTS):
        return default.webhook_url
    return None


def deliveries_create(job: Job, event: str, *, asset: Asset | None = None) -> WebhookDelivery | None:
    """Record the call reporting ``event`` (inside the caller's transaction) and attempt it after commit."""
    url = _targets(job, event)
    if url is None:
        return None
    if event == "job.progress":
        now = time.monotonic()
        if now - _last_progress.get(job.pk, 0.0) < PROGRESS_EVERY:
            return None
        if len(_last_progress) > 10_000:  # jobs that finished in another process never popped theirs
            _last_progress.clear()
        _last_progress[job.pk] = now
    elif event in ("job.completed", "job.failed", "job.canceled"):
        _last_progress.pop(job.pk, None)
    body = (
        {"type": event, "asset": AssetOut(asset).data}
        if asset is not None
        else {"type": event, "job": JobOut(job).data}
    )
    delivery = WebhookDelivery.objects.create(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        client_id=job.client_id,
        job=job,
        event=event,
        url=url,
        payload=json.loads(json.dumps(body, default=str)),
        next_retry_at=timezone.now(),
    )
    transaction.on_commit(lambda: dispatch.enqueue(tasks.deliver_webhook, str(delivery.pk)), robust=True)
    return delivery


def _retry_at(delivery: WebhookDelivery, now: datetime) -> datetime | None:
    gap = min(MAX_RETRY_GAP, get_config().OUTBOUND_WEBHOOK_FIRST_RETRY * 2 ** max(0, delivery.attempts - 1))
    at = now + timedelta(seconds=gap)
    return at if at - delivery.created_at <= GIVE_UP_AFTER else None


def _claim(delivery_id: Any) -> WebhookDelivery | None:
    """This process's turn at a due delivery; None if it is done, not due, or another has it."""
    now = timezone.now()
    claimed = WebhookDelivery.objects.filter(pk=delivery_id, delivered_at__isnull=True, next_retry_at__lte=now).update(
        next_retry_at=now + timedelta(seconds=CLAIM_SECONDS)
    )
    return WebhookDelivery.objects.select_related("client").get(pk=delivery_id) if claimed else None


def delivery_attempt(delivery_id: Any) -> WebhookDelivery | None:
    """One attempt at a delivery, if it is due; records the outcome and when to try again."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    status, error, retry = None, "", True
    try:
        check_webhook_url(delivery.url)
        secret = client_signing_secret(delivery.client_id)
        body = json.dumps(delivery.payload, separators=(",", ":"))
        sent_at = timezone.now()
        headers = {
            "content-type": "application/json",
            "user-agent": "AIrWAVE-Webhooks/1",
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(sent_at.timestamp())),
            "webhook-signature": Webhook(secret).sign(delivery.webhook_id, sent_at, body),
        }
        response = requests.post(
            delivery.url, data=body.encode(), headers=headers, timeout=TIMEOUT, allow_redirects=False
        )
        status = response.status_code
        if 200 <= status < 300:
            retry = False
        else:
            error = f"HTTP {status}: {response.text[:200]}"
            retry = status in RETRY_STATUSES
    except WebhookRefused as exc:
        error, retry = f"refused: {exc}", False
    except WebhookUnresolved as exc:
        error = str(exc)
    except requests.Timeout:
        error = "timed out"
    except requests.RequestException as exc:
        error = f"connection failed ({type(exc).__name__})"
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    if status is not None and 200 <= status < 300:
        delivery.delivered_at, delivery.next_retry_at = now, None
    else:
        delivery.next_retry_at = _retry_at(delivery, now) if retry else None
        log.warning(
            "webhook %s (%s) attempt %d failed: %s%s",
            delivery.webhook_id,
            delivery.event,
            delivery.attempts,
            error,
            "" if delivery.next_retry_at else "; giving up",
        )
    delivery.save(update_fields=["attempts", "last_status", "last_error", "delivered_at", "next_retry_at"])
    if delivery.next_retry_at is not None:
        wait = max(0.0, (delivery.next_retry_at - timezone.now()).total_seconds())
        dispatch.enqueue(tasks.deliver_webhook, str(delivery.pk), countdown=wait)  # the sweep is the safety net
    return delivery


def deliveries_due(limit: int = 100) -> list[Any]:
    """Deliveries whose next attempt is due (the periodic sweep sends them again)."""
    return list(
        WebhookDelivery.objects.filter(delivered_at__isnull=True, next_retry_at__lte=timezone.now())
        .order_by("next_retry_at")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_redeliver(delivery: WebhookDelivery) -> None:
    """Send a delivery again (admin): due now, same webhook-id, its attempts kept on record."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(delivered_at=None, next_retry_at=timezone.now())
    transaction.on_commit(lambda: dispatch.enqueue(tasks.deliver_webhook, str(delivery.pk)), robust=True)
