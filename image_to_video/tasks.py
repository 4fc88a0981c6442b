"""Celery tasks: thin, each one calls a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

log = logging.getLogger(__name__)
TRANSIENT = (OperationalError, InterfaceError, ConnectionError)


@shared_task(
    name="image_to_video.tasks.run_job",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def run_job(job_id: str) -> None:
    from .services import job_run

    job_run(job_id)


@shared_task(name="image_to_video.tasks.store_asset", acks_late=True)
def store_asset(job_id: str) -> None:
    """Store a completed job's video as its asset; on failure the video waits for reconcile."""
    from assets.services import AssetStoreError, asset_create_from_job

    try:
        asset_create_from_job(job_id=job_id)
    except AssetStoreError as exc:
        log.error("asset for job %s not stored, reconcile_assets will retry: %s", job_id, exc)


@shared_task(name="image_to_video.tasks.reconcile_assets", acks_late=True)
def reconcile_assets() -> int:
    """Periodic: retry failed webhook deliveries, prune old sources, file missing assets."""
    from assets.services import assets_reconcile

    from .services import job_sources_prune, webhook_events_retry

    webhook_events_retry()
    job_sources_prune()
    return assets_reconcile()


@shared_task(
    name="image_to_video.tasks.poll_job",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_jitter=True,
    max_retries=5,
)
def poll_job(job_id: str, attempt: int = 0) -> None:
    from .services import job_poll

    job_poll(job_id, attempt)


@shared_task(name="image_to_video.tasks.process_webhook_event", acks_late=True, bind=True, max_retries=8)
def process_webhook_event(self, event_id: int) -> None:
    """Apply a stored webhook delivery; a failure keeps it stored and retries with backoff."""
    from .services import webhook_event_process

    try:
        webhook_event_process(event_id)
    except Exception as exc:
        if self.request.called_directly or self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc
