"""Celery tasks: thin, each one calls a service.

Services queue these tasks, so a task imports its service inside its body, as
HackSoft's styleguide does for Celery; that deferred import is the only import
cycle in the project, and import-linter's layers contract lists it as ignored.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task, shared_task
from django.db import InterfaceError, OperationalError

from . import dispatch

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
    from .services.runs import job_run  # deferred: the service queues this task (Celery's pattern)

    job_run(job_id)


@shared_task(name="image_to_video.tasks.store_asset", acks_late=True)
def store_asset(job_id: str) -> None:
    """File a completed job's video as its asset; on failure the video waits for reconcile."""
    from .filing import AssetStoreError, asset_create_from_job  # deferred: Celery's pattern

    try:
        asset_create_from_job(job_id=job_id)
    except AssetStoreError as exc:
        log.error("asset for job %s not stored, reconcile_assets will retry: %s", job_id, exc)


@shared_task(name="image_to_video.tasks.reconcile_assets", acks_late=True)
def reconcile_assets() -> int:
    """Periodic: retry failed webhook deliveries, prune old sources, file missing assets."""
    from .filing import assets_reconcile  # deferred: Celery's pattern
    from .services.maintenance import job_sources_prune
    from .services.webhook_events import webhook_events_retry

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
    from .services.provider_updates import job_poll  # deferred: Celery's pattern

    job_poll(job_id, attempt)


@shared_task(name="image_to_video.tasks.process_webhook_event", acks_late=True, bind=True, max_retries=8)
def process_webhook_event(self: Task, event_id: int) -> None:
    """Apply a stored webhook delivery; a failure keeps it stored and retries with backoff."""
    from .services.webhook_events import webhook_event_process  # deferred: Celery's pattern

    try:
        webhook_event_process(event_id)
    except Exception as exc:
        if self.request.called_directly or self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


def in_process_sweep(*_: Any) -> None:
    """The in-process worker's stand-in for beat: jobs orphaned by a restart, then reconcile.

    The in-process queue lives in the memory of the process that ran it, so a
    restart strands what it held; ids this process still holds are skipped.
    """
    from .services.maintenance import jobs_requeue_orphans  # deferred: Celery's pattern

    jobs_requeue_orphans(exclude=dispatch.held_job_ids())
    reconcile_assets()
