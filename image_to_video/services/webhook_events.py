"""Inbound webhook deliveries: stored once per webhook id, then applied like a poll's answer."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ..models import Job, WebhookEvent
from ..providers import get_provider, provider_class
from .provider_requests import render_request
from .provider_updates import job_apply_provider_update

log = logging.getLogger(__name__)


def webhook_event_record(*, webhook_id: str, provider: str, body: Any, task_id: str) -> tuple[WebhookEvent, bool]:
    """Store a verified delivery (once per webhook id); returns (event, created)."""
    try:
        with transaction.atomic():
            return WebhookEvent.objects.get_or_create(
                webhook_id=webhook_id, defaults={"provider": provider, "body": body, "task_id": task_id}
            )
    except IntegrityError:
        return WebhookEvent.objects.get(webhook_id=webhook_id), False


def webhook_event_process(event_id: Any) -> None:
    """A stored delivery makes the worker ask the provider about the task; only that answer is applied.

    The body only says which task to look at: a delivery signed with a leaked
    secret can make the service poll, never decide what it downloads or files.
    The answer goes through the same code as polling; the event is marked
    processed, or kept with its error for a retry.
    """
    event = WebhookEvent.objects.filter(pk=event_id, processed_at__isnull=True).first()
    if event is None:
        return
    try:
        claimed = provider_class(event.provider).parse_webhook(event.body)
        job = Job.objects.filter(provider=event.provider, provider_task_id=claimed.task_id).first()
        if job is None:
            log.warning("webhook %s: no job for %s task %s", event.webhook_id, event.provider, claimed.task_id)
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="unknown task id")
            return
        if not job.is_final:
            job_apply_provider_update(job.pk, get_provider(job.provider).poll(render_request(job)))
    except Exception as exc:
        WebhookEvent.objects.filter(pk=event.pk).update(
            error=f"{type(exc).__name__}: {exc}"[:2000], attempts=models.F("attempts") + 1
        )
        raise
    WebhookEvent.objects.filter(pk=event.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), job=job, error="", attempts=models.F("attempts") + 1
    )


def webhook_events_retry(older_than: float = 30.0, max_attempts: int = 20) -> int:
    """Process again the stored deliveries whose processing failed (run periodically)."""
    cutoff = timezone.now() - timedelta(seconds=older_than)
    pending = WebhookEvent.objects.filter(
        processed_at__isnull=True, received_at__lt=cutoff, attempts__lt=max_attempts
    ).values_list("pk", flat=True)
    done = 0
    for event_id in list(pending):
        try:
            webhook_event_process(event_id)
            done += 1
        except Exception:
            log.warning("webhook event %s still fails", event_id, exc_info=True)
    return done
