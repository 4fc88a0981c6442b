"""Periodic upkeep (Celery beat on any host, or the in-process worker's timer).

- :func:`jobs_recover`: jobs whose worker is gone (an expired lease) go back to the
  queue, lost provider polls are sent again, and queued jobs the broker lost (an
  outage, a restart without persistence) get a turn: the job row is the outbox.
- :func:`job_sources_prune`: sources past their retention.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .. import dispatch, metrics, tasks
from ..conf import get_config
from ..models import FINAL_STATUSES, Job, JobStatus
from .jobs import queue_run, transition
from .provider_updates import schedule_poll
from .scratch import sweep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovery:
    requeued: int
    polls_resent: int
    turns_sent: int


def jobs_recover() -> Recovery:
    """Hand back jobs whose lease expired and give every queued job a turn; safe to run anywhere, any time."""
    now = timezone.now()
    requeued = polls = 0
    expired = Job.objects.filter(status=JobStatus.PROCESSING, lease_expires_at__lt=now).only("pk", "provider_task_id")
    for job in expired:
        metrics.LEASE_EXPIRIES.inc()
        if job.provider_task_id:
            schedule_poll(job.pk, 5)
            polls += 1
            log.warning("job %s: its poll was lost with a worker; polling again", job.pk)
        elif transition(job.pk, JobStatus.QUEUED, lease_expires_at=None, progress=0) is not None:
            requeued += 1
            log.warning("job %s: its worker stopped renewing the lease; queued again", job.pk)
            queue_run(job.pk)  # its own turn now, not only when the count below notices
    turns = requeued + _send_missing_turns()  # each requeued job was sent its own turn above
    sweep()
    return Recovery(requeued=requeued, polls_resent=polls, turns_sent=turns)


def _send_missing_turns() -> int:
    """One turn per queued job that has none waiting in the queue (turns in excess are no-ops).

    The broker counts every message in the queue, not only turns (periodic
    tasks, polls, webhook deliveries wait there too), so the count can hide a
    missing turn: a queued job left untouched for a few sweeps gets one more
    turn regardless. A turn with no queued job to take costs one no-op task.
    """
    queued = Job.objects.filter(status=JobStatus.QUEUED)
    waiting = queued.count()
    missing = waiting - dispatch.pending(tasks.run_next_job)
    stale = timezone.now() - timedelta(seconds=3 * get_config().RECOVER_EVERY)
    if missing <= 0 and queued.filter(updated_at__lt=stale).exists():
        missing = 1
    for _ in range(max(0, missing)):
        dispatch.enqueue(tasks.run_next_job)
    if missing > 0:
        log.info("sent %d turn(s) for queued jobs the queue did not hold", missing)
    return max(0, missing)


def job_sources_prune(*, older_than_days: float | None = None) -> int:
    """Delete the source images of jobs that finished long ago (kept meanwhile for retries)."""
    days = get_config().SOURCE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    pruned = 0
    old = Job.objects.filter(status__in=FINAL_STATUSES, completed_at__lt=cutoff).exclude(source_image="")
    for job in old.only("pk", "source_image"):
        job.source_image.delete(save=False)
        Job.objects.filter(pk=job.pk).update(source_image="")
        pruned += 1
    return pruned
