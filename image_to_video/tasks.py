"""Celery tasks: thin, each one calls a service; each says its kind of work (``queue_kind``).

Renders (``queue_kind="render"``) go to the render queue; everything else to the
io queue (:mod:`.dispatch`). The periodic schedule is declared once, here
(:data:`SCHEDULE`): Celery beat and the in-process timer both run it.

Services queue these tasks, so a task imports its service inside its body, as
HackSoft's styleguide does for Celery; that deferred import is the only import
cycle in the project, and import-linter's contracts list it as ignored.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from celery.signals import (
    beat_init,
    celeryd_after_setup,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutting_down,
)
from django.db import DatabaseError

from . import dispatch, stopping
from .conf import get_config

log = logging.getLogger(__name__)
# Io tasks are acknowledged when they start, renders when they end. Every io task's work is on record in the
# database and swept (deliveries by retry_webhooks, filing by reconcile_assets, polls and turns by
# recover_jobs), so a message lost with a worker loses nothing; and a threaded io worker then holds no
# unacknowledged message in flight when the broker goes away (kombu's restore of those fails on a lost Redis
# connection and the worker exits: seen in tests/faults).
IO_ACKS_LATE = False
TRANSIENT = (DatabaseError, ConnectionError)
RECONCILE_EVERY = 60.0  # seconds between reconcile sweeps


@shared_task(name="image_to_video.tasks.run_next_job", acks_late=True, ignore_result=True, queue_kind="render")
def run_next_job() -> None:
    """A turn on a render worker: render the fairest queued job of a provider that renders here."""
    from .services.runs import run_next_job as run  # deferred: the service queues this task (Celery's pattern)

    run(remote=False)


@shared_task(name="image_to_video.tasks.start_next_remote_job", acks_late=IO_ACKS_LATE, ignore_result=True)
def start_next_remote_job() -> None:
    """A turn on an io worker: hand the fairest queued job of a remote provider (Runway) to it."""
    from .services.runs import run_next_job as run  # deferred: Celery's pattern

    run(remote=True)


@shared_task(
    name="image_to_video.tasks.run_job",
    acks_late=True,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
    queue_kind="render",
)
def run_job(job_id: str) -> None:
    """Run this very job (inline runs, and messages queued before turns existed)."""
    from .services.runs import job_run  # deferred: Celery's pattern

    job_run(job_id)


@shared_task(name="image_to_video.tasks.store_asset", acks_late=IO_ACKS_LATE, bind=True, max_retries=None)
def store_asset(self: Task, job_id: str) -> None:
    """File a completed job's video as its asset; retried with backoff (5 s doubling to 60 s) until it is."""
    from .filing import AssetStoreError, asset_create_from_job  # deferred: Celery's pattern

    try:
        asset_create_from_job(job_id=job_id)
    except (AssetStoreError, *TRANSIENT) as exc:
        if self.request.called_directly or self.request.is_eager:
            log.error("asset for job %s not stored, reconcile_assets will retry: %s", job_id, exc)
            return
        delay = min(60, 5 * 2 ** min(self.request.retries, 4)) * (0.75 + random.random() / 2)
        log.warning("asset for job %s not stored (%s); retrying in %.0f s", job_id, exc, delay)
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(name="image_to_video.tasks.reconcile_assets", acks_late=IO_ACKS_LATE)
def reconcile_assets() -> int:
    """Periodic: retry failed webhook deliveries, prune old sources and long-expired share links, file
    missing assets."""
    from assets.services import share_links_expired_delete

    from .filing import assets_reconcile  # deferred: Celery's pattern
    from .services.maintenance import job_sources_prune
    from .services.webhook_events import webhook_events_retry

    webhook_events_retry()
    job_sources_prune()
    share_links_expired_delete(older_than=timedelta(days=30))  # until then an expired link answers 410
    return assets_reconcile()


@shared_task(name="image_to_video.tasks.recover_jobs", acks_late=IO_ACKS_LATE, ignore_result=True)
def recover_jobs() -> None:
    """Periodic (every RECOVER_EVERY seconds): expired leases, lost polls, queued jobs the broker lost."""
    from .services.maintenance import jobs_recover  # deferred: Celery's pattern

    jobs_recover()


@shared_task(
    name="image_to_video.tasks.poll_job",
    acks_late=IO_ACKS_LATE,
    autoretry_for=TRANSIENT,
    retry_backoff=2,
    retry_jitter=True,
    max_retries=5,
)
def poll_job(job_id: str, attempt: int = 0) -> None:
    from .services.provider_updates import job_poll  # deferred: Celery's pattern

    job_poll(job_id, attempt)


@shared_task(name="image_to_video.tasks.process_webhook_event", acks_late=IO_ACKS_LATE, bind=True, max_retries=8)
def process_webhook_event(self: Task, event_id: int) -> None:
    """Apply a stored webhook delivery; a failure keeps it stored and retries with backoff."""
    from .services.webhook_events import webhook_event_process  # deferred: Celery's pattern

    try:
        webhook_event_process(event_id)
    except Exception as exc:
        if self.request.called_directly or self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@shared_task(name="image_to_video.tasks.deliver_webhook", acks_late=IO_ACKS_LATE, ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    """One attempt at an outbound webhook, if it is due (a repeat message finds it done or claimed)."""
    from .services.outbound import delivery_attempt  # deferred: Celery's pattern

    delivery_attempt(delivery_id)


@shared_task(name="image_to_video.tasks.retry_webhooks", acks_late=IO_ACKS_LATE, ignore_result=True)
def retry_webhooks() -> None:
    """Periodic: a message for every outbound webhook whose retry is due (messages lost with a worker included);
    the attempts run on io workers, each within its deadline, never one after another in this task."""
    from .services.outbound import deliveries_due  # deferred: Celery's pattern

    for delivery_id in deliveries_due():
        dispatch.send(deliver_webhook, str(delivery_id))


SCHEDULE = (
    dispatch.Periodic("recover_jobs", recover_jobs, lambda: get_config().RECOVER_EVERY),
    dispatch.Periodic("retry_webhooks", retry_webhooks, lambda: get_config().RECOVER_EVERY),
    dispatch.Periodic("reconcile_assets", reconcile_assets, lambda: RECONCILE_EVERY),
)


def periodic_entries() -> dict[str, dict[str, Any]]:
    """The schedule as beat entries, on the io queue."""
    options = {"queue": dispatch.queue_name("io")}
    return {
        f"image_to_video.{entry.name}": {"task": entry.task.name, "schedule": entry.every(), "options": options}
        for entry in SCHEDULE
    }


@beat_init.connect
def _register_periodic(sender: Any = None, **_: Any) -> None:
    """Beat (standalone or embedded with ``-B``) learns the sweeps from the apps themselves: the host's Celery
    app needs no lines, and any scheduler (django-celery-beat's database one too) takes them. A host's own
    entry of the same name wins. Celery may have made the scheduler before this signal: it is given the
    entries too (``update_from_dict``, which every scheduler has), besides ``beat_schedule``."""
    if sender is None or not get_config().PERIODIC_TASKS:
        return
    schedule = dict(sender.app.conf.beat_schedule or {})  # a copy: an unset setting reads as a fresh default
    added = {name: entry for name, entry in periodic_entries().items() if name not in schedule}
    sender.app.conf.beat_schedule = {**schedule, **added}
    scheduler = sender.__dict__.get("scheduler")  # beat.Service.scheduler is a cached property
    if scheduler is not None:
        scheduler.update_from_dict({name: e for name, e in added.items() if name not in scheduler.schedule})


@worker_ready.connect
@worker_process_init.connect
def _clean_scratch_on_start(**_: Any) -> None:
    """A worker (or a pool child replacing a killed one) removes what a killed render left in UPLOAD_DIR."""
    from .services.scratch import sweep  # deferred: Celery's pattern

    sweep()


_worker: Any = None


@worker_init.connect
def _guard_broker_reconnects(**_: Any) -> None:
    from .celery_compat import guard_redis_channel_close

    guard_redis_channel_close()


@celeryd_after_setup.connect
def _remember_worker(sender: Any = None, instance: Any = None, **_: Any) -> None:
    global _worker
    _worker = instance


@worker_shutting_down.connect
def _stop_renders(**_: Any) -> None:
    """Warm shutdown (SIGTERM): renders here and in the pool processes get RENDER_GRACE_SECONDS, then hand
    their jobs back (:mod:`.stopping`)."""
    stopping.request_stop()
    stopping.tell_pool_processes(stopping.pool_pids(_worker))


@worker_process_init.connect
def _listen_for_stop(**_: Any) -> None:
    stopping.listen_in_pool_process()
