"""Periodic upkeep: jobs no worker holds any more, and source images past their retention."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from ..models import FINAL_STATUSES, Job, JobStatus
from .jobs import queue_run
from .provider_updates import schedule_poll

log = logging.getLogger(__name__)


def jobs_requeue_orphans(
    *, exclude: Collection[str] = frozenset(), queued_for: float = 60.0, silent_for: float = 120.0
) -> int:
    """Pick up jobs no worker holds any more (the in-process worker's queue dies with its process).

    A queued job waiting longer than ``queued_for`` seconds is queued again; a
    processing job that has not saved progress for ``silent_for`` seconds is
    rendered again (local) or followed again (a provider task). ``exclude`` holds
    the ids this process's worker still has in hand. Celery does not need this:
    with acks_late an unfinished task is redelivered.
    """
    now = timezone.now()
    stale_queued = Job.objects.filter(status=JobStatus.QUEUED, created_at__lt=now - timedelta(seconds=queued_for))
    stale_running = Job.objects.filter(status=JobStatus.PROCESSING, updated_at__lt=now - timedelta(seconds=silent_for))
    count = 0
    for job in list(stale_queued) + list(stale_running):
        if str(job.pk) in exclude:
            continue
        if job.provider_task_id:
            schedule_poll(job.pk, 5)
        else:
            Job.objects.filter(pk=job.pk).update(updated_at=now)  # claimed: the next sweep leaves it alone
            queue_run(job.pk)
        count += 1
        log.warning("job %s was orphaned (%s); picked up again", job.pk, job.status)
    return count


def job_sources_prune(*, older_than_days: float | None = None) -> int:
    """Delete the source images of jobs that finished long ago (kept meanwhile for retries)."""
    days = settings.SOURCE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    pruned = 0
    old = Job.objects.filter(status__in=FINAL_STATUSES, completed_at__lt=cutoff).exclude(source_image="")
    for job in old.only("pk", "source_image"):
        job.source_image.delete(save=False)
        Job.objects.filter(pk=job.pk).update(source_image="")
        pruned += 1
    return pruned
