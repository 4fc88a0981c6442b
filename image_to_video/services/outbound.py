"""Outbound webhooks: integrators are called back, signed, retried, and every call is on record.

A :class:`WebhookDelivery` row is written in the same transaction as the
change it reports (the row is the outbox), then attempted once that commits.
Each delivery is signed per Standard Webhooks with the client's own secret
and keeps one ``webhook-id`` across its attempts, so receivers can drop
repeats. Timeouts, connection errors, 429 and 5xx are retried with
exponential backoff from ``OUTBOUND_WEBHOOK_FIRST_RETRY`` seconds (5) for about a day; other
answers are final. Targets must resolve to public addresses, checked at
submit and again at every attempt, which connects to the address it checked
(no redirects are followed), unless ``OUTBOUND_WEBHOOK_ALLOW_PRIVATE`` is set.

No receiver can hold a worker: an attempt has one deadline for connecting,
sending and reading the reply (``OUTBOUND_WEBHOOK_DEADLINE``), reads at most
``OUTBOUND_WEBHOOK_REPLY_LIMIT`` bytes of it (:mod:`..bounded_http`), and holds
its delivery for longer than that, so it is never in flight twice. A client
has at most ``OUTBOUND_WEBHOOKS_IN_FLIGHT_PER_CLIENT`` attempts in flight;
the rest stay due, holding no worker, and the next is sent as one finishes.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from assets.models import Asset
from assets.serializers import AssetOut

from .. import bounded_http, dispatch, tasks
from ..conf import get_config
from ..models import ClientWebhookSettings, Job, WebhookDelivery
from ..outputs import JobOut

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = ("job.started", "job.progress", "job.completed", "job.failed", "job.canceled", "asset.created")
DEFAULT_EVENTS = tuple(e for e in WEBHOOK_EVENTS if e != "job.progress")
MAX_RETRY_GAP = 3600.0
GIVE_UP_AFTER = timedelta(hours=24)
PROGRESS_EVERY = 0.5  # seconds between job.progress calls for one render (the render's reporter keeps time)
CLAIM_MARGIN = 30.0  # seconds an attempt holds its delivery beyond its deadline
ERROR_TEXT = 200  # characters of a failed reply kept in the delivery log
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


WebhookRefused = bounded_http.Refused  # a webhook URL that may not be called: not HTTPS, or not public
WebhookUnresolved = bounded_http.Unresolved  # not a refusal (DNS may be down): the delivery is retried


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
    bounded_http.resolve_public(url, allow_private=get_config().OUTBOUND_WEBHOOK_ALLOW_PRIVATE)
    return url


def _targets(job: Job, event: str) -> str | None:
    """Where ``event`` of ``job`` goes: the job's own webhook, else its client's default, if subscribed."""
    if job.webhook_url:
        return job.webhook_url if event in (job.webhook_event_types or DEFAULT_EVENTS) else None
    default = ClientWebhookSettings.objects.filter(client_id=job.client_id).exclude(webhook_url="").first()
    if default is not None and event in (default.webhook_events or DEFAULT_EVENTS):
        return default.webhook_url
    return None


def webhook_target(job: Job, event: str) -> str | None:
    """Where ``event`` of ``job`` would be sent, or None: what a render asks once, not at every frame."""
    return _targets(job, event)


def deliveries_create(
    job: Job, event: str, *, asset: Asset | None = None, url: str | None = None
) -> WebhookDelivery | None:
    """Record the call reporting ``event`` (inside the caller's transaction) and attempt it after commit;
    ``url``: the target when the caller already knows it (:func:`webhook_target`), saving the lookup."""
    url = url or _targets(job, event)
    if url is None:
        return None
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
    transaction.on_commit(lambda: dispatch.send(tasks.deliver_webhook, str(delivery.pk)), robust=True)
    return delivery


def _retry_at(delivery: WebhookDelivery, now: datetime) -> datetime | None:
    gap = min(MAX_RETRY_GAP, get_config().OUTBOUND_WEBHOOK_FIRST_RETRY * 2 ** max(0, delivery.attempts - 1))
    at = now + timedelta(seconds=gap)
    return at if at - delivery.created_at <= GIVE_UP_AFTER else None


def _claim(delivery_id: Any) -> WebhookDelivery | None:
    """This process's turn at a due delivery; None if it is done, not due, in flight, or its client is at its
    limit of attempts in flight (it stays due: the next attempt of that client to finish sends it)."""
    config = get_config()
    now = timezone.now()
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(pk=delivery_id, delivered_at__isnull=True, next_retry_at__lte=now)
            .exclude(claimed_until__gt=now)
            .first()
        )
        if delivery is None:
            return None
        # The client's settings row serialises claims of one client: the count below cannot be raced past.
        ClientWebhookSettings.objects.get_or_create(client_id=delivery.client_id)
        ClientWebhookSettings.objects.select_for_update().filter(client_id=delivery.client_id).first()
        in_flight = WebhookDelivery.objects.filter(client_id=delivery.client_id, claimed_until__gt=now).count()
        if in_flight >= config.OUTBOUND_WEBHOOKS_IN_FLIGHT_PER_CLIENT:
            return None
        delivery.claimed_until = now + timedelta(seconds=config.OUTBOUND_WEBHOOK_DEADLINE + CLAIM_MARGIN)
        delivery.save(update_fields=["claimed_until"])
    return delivery


def _send_next_waiting(client_id: Any) -> None:
    """An attempt of this client ended: the oldest of its deliveries left waiting for a place goes next."""
    now = timezone.now()
    waiting = (
        WebhookDelivery.objects.filter(client_id=client_id, delivered_at__isnull=True, next_retry_at__lte=now)
        .exclude(claimed_until__gt=now)
        .order_by("next_retry_at")
        .values_list("pk", flat=True)
        .first()
    )
    if waiting is not None:
        dispatch.send(tasks.deliver_webhook, str(waiting))


def _attempt(delivery: WebhookDelivery) -> tuple[int | None, str, bool]:
    """One bounded call: ``(status, error, retry)``."""
    config = get_config()
    try:
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
        reply = bounded_http.post(
            delivery.url,
            body.encode(),
            headers,
            deadline=config.OUTBOUND_WEBHOOK_DEADLINE,
            reply_limit=config.OUTBOUND_WEBHOOK_REPLY_LIMIT,
            allow_private=config.OUTBOUND_WEBHOOK_ALLOW_PRIVATE,
        )
    except bounded_http.Refused as exc:
        return None, f"refused: {exc}", False
    except (bounded_http.Unresolved, bounded_http.CallFailed) as exc:
        return None, str(exc), True
    if 200 <= reply.status < 300:
        return reply.status, "", False
    text = reply.head[:ERROR_TEXT].decode("utf-8", "replace")
    return reply.status, f"HTTP {reply.status}: {text}", reply.status in RETRY_STATUSES


def delivery_attempt(delivery_id: Any) -> WebhookDelivery | None:
    """One attempt at a delivery, if it is due and its client has room; records the outcome and the retry."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    status, error, retry = _attempt(delivery)
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status = status
    delivery.last_error = error
    delivery.claimed_until = None
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
    recorded = WebhookDelivery.objects.filter(pk=delivery.pk).update(
        attempts=delivery.attempts,
        last_status=delivery.last_status,
        last_error=delivery.last_error,
        delivered_at=delivery.delivered_at,
        next_retry_at=delivery.next_retry_at,
        claimed_until=None,
    )
    if not recorded:  # the client (and its deliveries) went away during the call
        return None
    if delivery.next_retry_at is not None:
        wait = max(0.0, (delivery.next_retry_at - timezone.now()).total_seconds())
        dispatch.send_later(tasks.deliver_webhook, wait, str(delivery.pk))  # the sweep is the safety net
    _send_next_waiting(delivery.client_id)
    return delivery


def deliveries_due(limit: int = 100) -> list[Any]:
    """Deliveries whose next attempt is due and not in flight (the periodic sweep sends each a message)."""
    now = timezone.now()
    return list(
        WebhookDelivery.objects.filter(delivered_at__isnull=True, next_retry_at__lte=now)
        .exclude(claimed_until__gt=now)
        .order_by("next_retry_at")
        .values_list("pk", flat=True)[:limit]
    )


def delivery_redeliver(delivery: WebhookDelivery) -> None:
    """Send a delivery again (admin): due now, same webhook-id, its attempts kept on record."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        delivered_at=None, next_retry_at=timezone.now(), claimed_until=None
    )
    transaction.on_commit(lambda: dispatch.send(tasks.deliver_webhook, str(delivery.pk)), robust=True)
