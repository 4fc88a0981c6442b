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

from .. import dispatch, metrics
from ..conf import get_config
from ..models import FINAL_STATUSES, Job, JobStatus
from ..providers import provider_names
from .jobs import queue_run, turn_task
from .lifecycle import job_forget_source, job_requeue, loads_recount
from .provider_updates import schedule_poll
from .scratch import sweep

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Recovery:
    requeued: int
    polls_resent: int
    turns_sent: int


def jobs_recover() -> Recovery:
    """Hand back jobs whose lease expired, give every queued job a turn and count the clients' loads
    again; safe to run anywhere, any time."""
    now = timezone.now()
    requeued = polls = 0
    expired = Job.objects.filter(status=JobStatus.PROCESSING, lease_expires_at__lt=now).only(
        "pk", "provider", "provider_task_id"
    )
    for job in expired:
        metrics.LEASE_EXPIRIES.inc()
        if job.provider_task_id:
            schedule_poll(job.pk, 5)
            polls += 1
            log.warning("job %s: its poll was lost with a worker; polling again", job.pk)
        elif job_requeue(job.pk) is not None:
            requeued += 1
            log.warning("job %s: its worker stopped renewing the lease; queued again", job.pk)
            queue_run(job)  # its own turn now, not only when the count below notices
    turns = requeued + _send_missing_turns()  # each requeued job was sent its own turn above
    if wrong := loads_recount():
        log.warning("%d clients' queue counts had drifted; counted again", wrong)
    sweep()
    return Recovery(requeued=requeued, polls_resent=polls, turns_sent=turns)


def _send_missing_turns() -> int:
    """One turn per queued job that has none waiting in its queue (turns in excess are no-ops).

    Render turns have the render queue to themselves when it is a queue of its own; otherwise (and
    always on the io queue) other messages wait there too, so the count can hide a missing turn: a
    queued job left untouched for a few sweeps gets one more turn regardless. A turn with no queued
    job to take costs one no-op task.
    """
    sent = 0
    stale = timezone.now() - timedelta(seconds=3 * get_config().RECOVER_EVERY)
    for remote in (False, True):
        queued = Job.objects.filter(status=JobStatus.QUEUED, provider__in=provider_names(remote=remote))
        turn = turn_task(remote=remote)
        missing = queued.count() - dispatch.pending(turn)
        if missing <= 0 and queued.filter(updated_at__lt=stale).exists():
            missing = 1
        for _ in range(max(0, missing)):
            dispatch.send(turn)
        sent += max(0, missing)
    if sent:
        log.info("sent %d turn(s) for queued jobs the queues did not hold", sent)
    return sent


def job_sources_prune(*, older_than_days: float | None = None) -> int:
    """Delete the source images of jobs that finished long ago (kept meanwhile for retries)."""
    days = get_config().SOURCE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    pruned = 0
    old = Job.objects.filter(status__in=FINAL_STATUSES, completed_at__lt=cutoff).exclude(source_image="")
    for job in old.only("pk", "source_image"):
        job.source_image.delete(save=False)
        job_forget_source(job.pk)
        pruned += 1
    return pruned
