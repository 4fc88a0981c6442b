"""Following a provider's task: polling, and applying its updates (from polls and webhooks alike)."""

from __future__ import annotations

import logging
from typing import Any

from django.utils import timezone

from .. import dispatch, tasks
from ..conf import get_config
from ..engine import EngineError
from ..models import Job, JobStatus
from ..providers import ProviderError, ProviderUpdate, get_provider
from .jobs import job_provider_failed
from .lifecycle import (
    job_claim_result,
    job_extend_lease,
    job_fail,
    job_record_provider_status,
    job_release_result,
    job_set_progress,
    transition,
)
from .provider_requests import render_request
from .scratch import render_path
from .videos import finish_with_video

log = logging.getLogger(__name__)
RESULT_CLAIM_TIMEOUT = 15 * 60  # seconds after which a crashed fetch may be claimed again


def poll_interval(attempt: int) -> float:
    """A few seconds at first, slower later."""
    first, then, later = get_config().RUNWAY_POLL_INTERVALS
    return first if attempt < 5 else then if attempt < 20 else later


def schedule_poll(job_id: Any, attempt: int) -> None:
    """Poll again after the attempt's interval; the job's lease covers the wait, so that a poll lost
    with a crashed worker is sent again by the recovery sweep."""
    delay = poll_interval(attempt)
    job_extend_lease(job_id, delay + get_config().JOB_LEASE_SECONDS)
    dispatch.send_later(tasks.poll_job, delay, str(job_id), attempt)


def job_poll(job_id: Any, attempt: int = 0) -> Job | None:
    """Ask the provider about the job's task once, apply the answer, and poll again unless final."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_final or not job.provider_task_id:
        return job
    started = job.started_at or job.created_at
    if (timezone.now() - started).total_seconds() > get_config().RUNWAY_POLL_DEADLINE:
        # Stop the provider's task first, so a job seen as failed has no task still running.
        try:
            get_provider(job.provider).cancel(render_request(job))
        except Exception:
            log.warning("could not cancel the timed-out task of job %s", job.pk, exc_info=True)
        minutes = get_config().RUNWAY_POLL_DEADLINE / 60
        job_provider_failed(
            job.pk, code="provider_timeout", message=f"{job.provider} did not finish within {minutes:g} minutes"
        )
        return Job.objects.get(pk=job.pk)
    try:
        job_apply_provider_update(job.pk, get_provider(job.provider).poll(render_request(job)))
    except ProviderError as exc:
        if not exc.transient:
            job_provider_failed(job.pk, code=exc.code, message=str(exc))
            return Job.objects.get(pk=job.pk)
        log.warning("polling job %s: %s; will poll again", job.pk, exc)
    job = Job.objects.get(pk=job.pk)
    if not job.is_final:
        schedule_poll(job.pk, attempt + 1)
    return job


def job_apply_provider_update(job_id: Any, update: ProviderUpdate) -> Job | None:
    """Apply a provider's report (pending/running/succeeded/failed/canceled) to the job.

    The same code for polling and webhooks; it never moves a job backwards, and a
    success is fetched and fitted by one worker only (a claim on the row).
    """
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_final:
        return job
    if update.state in ("pending", "running", "succeeded") and job.status == JobStatus.QUEUED:
        transition(job.pk, JobStatus.PROCESSING)
    if update.state in ("pending", "running"):
        if update.provider_status and update.provider_status != job.provider_status:
            # e.g. THROTTLED: the API shows the job as queued, with a note, while Runway holds it.
            job_record_provider_status(job.pk, update.provider_status)
        if update.progress is not None:
            job_set_progress(job.pk, int(update.progress * 100))
    elif update.state == "failed":
        job_provider_failed(job.pk, code=update.error_code or "provider_failed", message=update.error_message)
    elif update.state == "canceled":
        transition(
            job.pk,
            JobStatus.CANCELED,
            error_code="provider_canceled",
            error_message=f"{job.provider} canceled the task",
        )
    elif update.state == "succeeded":
        _fetch_result_once(job, update)
    return Job.objects.get(pk=job.pk)


def _fetch_result_once(job: Job, update: ProviderUpdate) -> None:
    if not job_claim_result(job.pk, stale_after=RESULT_CLAIM_TIMEOUT):
        return  # another worker is fetching it, or it is done
    out = render_path(job)
    try:
        get_provider(job.provider).fetch_result(render_request(job), update, out)
    except ProviderError as exc:
        job_release_result(job.pk)
        if exc.transient:
            raise
        job_fail(job.pk, code=exc.code, message=str(exc))
    except EngineError as exc:
        job_fail(job.pk, code="provider_bad_output", message=str(exc))
    except BaseException:
        job_release_result(job.pk)
        raise
    else:
        finish_with_video(job, out)
