"""Every change of a job's state, in one place.

The API, the tasks, the webhook, polling, the admin and the management
commands all change jobs through these functions; :func:`transition` is the
only code that moves a job's status, and it refuses any move that
:data:`~image_to_video.models.ALLOWED_TRANSITIONS` does not list, so nothing
ever leaves a final state and no update moves a job backwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from airwave.models import Client

from . import events
from .engine import EngineError, MotionParams
from .models import ALLOWED_TRANSITIONS, FINAL_STATUSES, Job, JobStatus

log = logging.getLogger(__name__)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request."""


class JobNotCancelable(Exception):
    """The job has already finished."""


class JobNotRetryable(Exception):
    """The job's source image is gone (pruned after SOURCE_RETENTION_DAYS)."""


@dataclass(frozen=True)
class SourceImage:
    data: bytes
    content_type: str
    extension: str


def request_fingerprint(
    *, client: Client, params: MotionParams, provider: str, prompt_text: str, source: SourceImage
) -> str:
    """A digest of everything that makes two generate requests the same request."""
    body = {
        "client": str(client.pk),
        "provider": provider,
        "promptText": prompt_text,
        "params": [
            params.motion_type,
            params.motion_direction,
            params.motion_strength,
            params.duration,
            params.output_format,
            params.width,
            params.height,
        ],
        "image": hashlib.sha256(source.data).hexdigest(),
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def job_create(
    *,
    user,
    client: Client,
    params: MotionParams,
    source: SourceImage,
    provider: str,
    prompt_text: str = "",
    idempotency_key: str = "",
) -> tuple[Job, bool]:
    """Create a queued job and its source file, then queue it once committed.

    Returns ``(job, created)``; a repeated Idempotency-Key with the same request
    returns the first job, with another request raises IdempotencyConflict.
    Nothing is left behind when anything fails: no row, no file.
    """
    fingerprint = request_fingerprint(
        client=client, params=params, provider=provider, prompt_text=prompt_text, source=source
    )
    existing = _job_for_key(user, idempotency_key, fingerprint)
    if existing is not None:
        return existing, False
    job = Job(
        id=uuid.uuid4(),
        client=client,
        user=user,
        provider=provider,
        prompt_text=prompt_text,
        motion_type=params.motion_type,
        motion_direction=params.motion_direction,
        motion_strength=params.motion_strength,
        duration=params.duration,
        output_format=params.output_format,
        width=params.width,
        height=params.height,
        source_content_type=source.content_type,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    saved_name = None
    try:
        with transaction.atomic():
            saved_name = job.source_image.storage.save(
                job.source_image.field.generate_filename(job, f"source.{source.extension}"),
                ContentFile(source.data),
            )
            job.source_image.name = saved_name
            job.save(force_insert=True)
            transaction.on_commit(lambda: _queue_run(job.pk))
            transaction.on_commit(lambda: events.publish_job(job.pk))
    except IntegrityError:
        _delete_upload(saved_name)
        existing = _job_for_key(user, idempotency_key, fingerprint)  # a concurrent request won the race
        if existing is not None:
            return existing, False
        raise
    except BaseException:
        _delete_upload(saved_name)
        raise
    return job, True


def _job_for_key(user, idempotency_key: str, fingerprint: str) -> Job | None:
    """The job already made with this key, or None; the same key with another request is a conflict."""
    if not idempotency_key:
        return None
    existing = Job.objects.filter(user=user, idempotency_key=idempotency_key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(idempotency_key)
    return existing


def _delete_upload(name: str | None) -> None:
    if name:
        Job.source_image.field.storage.delete(name)


def _queue_run(job_id) -> None:
    from . import dispatch, tasks

    dispatch.enqueue(tasks.run_job, str(job_id))


def transition(job_id, to: str, **fields) -> Job | None:
    """Move a job to ``to`` if that move is allowed; return it, or None if not.

    The row is locked, so a webhook, a poller and a cancel racing each other
    are applied one after the other and only legal moves survive.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if to not in ALLOWED_TRANSITIONS.get(job.status, ()):
            return None
        job.status = to
        for name, value in fields.items():
            setattr(job, name, value)
        now = timezone.now()
        if to == JobStatus.PROCESSING and job.started_at is None:
            job.started_at = now
        if to in FINAL_STATUSES:
            job.completed_at = now
        job.save(update_fields=["status", "updated_at", "started_at", "completed_at", *fields])
        transaction.on_commit(lambda: events.publish_job(job.pk, final=to in FINAL_STATUSES))
    return job


def job_start(job_id) -> Job | None:
    """Queued -> processing. A redelivered task finds it processing and may go on."""
    job = transition(job_id, JobStatus.PROCESSING)
    if job is None:
        job = Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING).first()
    return job


def job_set_progress(job_id, progress: int) -> None:
    """Save progress (never backwards, never past 99 before completion) and publish it."""
    progress = max(0, min(99, int(progress)))
    with transaction.atomic():
        updated = Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING, progress__lt=progress).update(
            progress=progress, updated_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: events.publish_job(job_id))


def job_complete(job_id, *, output_path: str | os.PathLike) -> Job | None:
    return transition(
        job_id, JobStatus.COMPLETED, progress=100, output_path=os.fspath(output_path), error_code="", error_message=""
    )


def job_fail(job_id, *, code: str, message: str) -> Job | None:
    return transition(job_id, JobStatus.FAILED, error_code=code[:50], error_message=message)


def job_cancel(job: Job) -> Job:
    """Cancel a job that has not finished; the worker stops within about a second."""
    updated = transition(job.pk, JobStatus.CANCELED, error_code="canceled", error_message="canceled by the user")
    if updated is None:
        job.refresh_from_db()
        if job.status == JobStatus.CANCELED:
            return job
        raise JobNotCancelable(job.status)
    if updated.provider_task_id:
        from .providers import get_provider

        try:
            get_provider(updated.provider).cancel(updated)
        except Exception:  # the job is canceled here whatever the provider says
            log.warning("provider cancel failed for job %s", updated.pk, exc_info=True)
    return updated


def job_retry(job: Job) -> Job:
    """A new queued job with the same parameters and source (admin action)."""
    with transaction.atomic():
        clone = Job.objects.get(pk=job.pk)
        if not clone.source_image or not clone.source_image.storage.exists(clone.source_image.name):
            raise JobNotRetryable(f"the source image of job {job.pk} is no longer kept")
        data = clone.source_image.read()
        clone.source_image.close()
        new = Job(
            id=uuid.uuid4(),
            client=clone.client,
            user=clone.user,
            provider=clone.provider,
            prompt_text=clone.prompt_text,
            motion_type=clone.motion_type,
            motion_direction=clone.motion_direction,
            motion_strength=clone.motion_strength,
            duration=clone.duration,
            output_format=clone.output_format,
            width=clone.width,
            height=clone.height,
            source_content_type=clone.source_content_type,
        )
        ext = Path(clone.source_image.name).suffix or ".png"
        new.source_image.save(f"source{ext}", ContentFile(data), save=False)
        new.save(force_insert=True)
        transaction.on_commit(lambda: _queue_run(new.pk))
    return new


class ProgressReporter:
    """Throttles a render's per-frame progress to a few saves a second, and answers "canceled?"."""

    def __init__(self, job_id, *, interval: float | None = None, extra=None) -> None:
        self.job_id = job_id
        self.interval = settings.PROGRESS_SAVE_INTERVAL if interval is None else interval
        self.extra = extra
        self._last_save = 0.0
        self._last_check = 0.0
        self._canceled = False

    def __call__(self, fraction: float) -> None:
        if self.extra is not None:
            self.extra(fraction)
        now = time.monotonic()
        if now - self._last_save >= self.interval:
            self._last_save = now
            job_set_progress(self.job_id, int(fraction * 100))

    def should_cancel(self) -> bool:
        now = time.monotonic()
        if not self._canceled and now - self._last_check >= self.interval:
            self._last_check = now
            self._canceled = not Job.objects.filter(pk=self.job_id, status=JobStatus.PROCESSING).exists()
        return self._canceled


def jobs_requeue_orphans(
    *, exclude: set[str] = frozenset(), queued_for: float = 60.0, silent_for: float = 120.0
) -> int:
    """Pick up jobs no worker holds any more (the in-process worker's queue dies with its process).

    A queued job waiting longer than ``queued_for`` seconds is queued again; a
    processing job that has not saved progress for ``silent_for`` seconds is
    rendered again (local) or followed again (a provider task). ``exclude`` holds
    the ids this process's worker still has in hand. Celery does not need this:
    with acks_late an unfinished task is redelivered.
    """
    now = timezone.now()
    stale_queued = Job.objects.filter(
        status=JobStatus.QUEUED, created_at__lt=now - timezone.timedelta(seconds=queued_for)
    )
    stale_running = Job.objects.filter(
        status=JobStatus.PROCESSING, updated_at__lt=now - timezone.timedelta(seconds=silent_for)
    )
    count = 0
    for job in list(stale_queued) + list(stale_running):
        if str(job.pk) in exclude:
            continue
        if job.provider_task_id:
            schedule_poll(job.pk, 5)
        else:
            Job.objects.filter(pk=job.pk).update(updated_at=now)  # claimed: the next sweep leaves it alone
            _queue_run(job.pk)
        count += 1
        log.warning("job %s was orphaned (%s); picked up again", job.pk, job.status)
    return count


def job_sources_prune(*, older_than_days: float | None = None) -> int:
    """Delete the source images of jobs that finished long ago (kept meanwhile for retries)."""
    days = settings.SOURCE_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timezone.timedelta(days=days)
    pruned = 0
    old = Job.objects.filter(status__in=FINAL_STATUSES, completed_at__lt=cutoff).exclude(source_image="")
    for job in old.only("pk", "source_image"):
        job.source_image.delete(save=False)
        Job.objects.filter(pk=job.pk).update(source_image="")
        pruned += 1
    return pruned


def render_path(job: Job) -> Path:
    return Path(settings.UPLOAD_DIR) / "renders" / f"{job.pk}.{job.output_format}"


def job_run(job_id, *, on_progress=None) -> Job | None:
    """What a worker does with a queued job: start it and hand it to its provider."""
    from . import dispatch
    from .engine import RenderCanceled
    from .providers import ProviderError, get_provider

    job = job_start(job_id)
    if job is None:
        return None  # canceled, finished, or gone: nothing to do
    reporter = ProgressReporter(job.pk, extra=on_progress or dispatch.progress_hook())
    try:
        outcome = get_provider(job.provider).start(job, progress=reporter, should_cancel=reporter.should_cancel)
    except RenderCanceled:
        log.info("job %s canceled during render", job.pk)
        return Job.objects.get(pk=job.pk)
    except (EngineError, ProviderError) as exc:
        log.warning("job %s failed: %s", job.pk, exc)
        job_fail(job.pk, code=getattr(exc, "code", "provider_error"), message=str(exc))
        return Job.objects.get(pk=job.pk)
    except Exception:
        log.exception("job %s failed unexpectedly", job.pk)
        job_fail(job.pk, code="internal_error", message="the video could not be generated (internal error)")
        return Job.objects.get(pk=job.pk)
    if outcome.output_path is not None:
        if job_complete(job.pk, output_path=outcome.output_path) is None:
            Path(outcome.output_path).unlink(missing_ok=True)  # canceled meanwhile: drop the video
    elif outcome.task_id:
        Job.objects.filter(pk=job.pk).update(
            provider_task_id=outcome.task_id, provider_request=outcome.request or {}, updated_at=timezone.now()
        )
        schedule_poll(job.pk, 0)
    return Job.objects.get(pk=job.pk)


# --- following a provider's task: polling and webhooks share job_apply_provider_update

RESULT_CLAIM_TIMEOUT = 15 * 60  # seconds after which a crashed fetch may be claimed again


def poll_interval(attempt: int) -> float:
    """A few seconds at first, slower later."""
    first, then, later = settings.RUNWAY_POLL_INTERVALS
    return first if attempt < 5 else then if attempt < 20 else later


def schedule_poll(job_id, attempt: int) -> None:
    from . import dispatch, tasks

    dispatch.enqueue(tasks.poll_job, str(job_id), attempt, countdown=poll_interval(attempt))


def job_poll(job_id, attempt: int = 0) -> Job | None:
    """Ask the provider about the job's task once, apply the answer, and poll again unless final."""
    from .providers import ProviderError, get_provider

    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_final or not job.provider_task_id:
        return job
    started = job.started_at or job.created_at
    if (timezone.now() - started).total_seconds() > settings.RUNWAY_POLL_DEADLINE:
        # Stop the provider's task first, so a job seen as failed has no task still running.
        try:
            get_provider(job.provider).cancel(job)
        except Exception:
            log.warning("could not cancel the timed-out task of job %s", job.pk, exc_info=True)
        minutes = settings.RUNWAY_POLL_DEADLINE / 60
        job_fail(job.pk, code="provider_timeout", message=f"{job.provider} did not finish within {minutes:g} minutes")
        return Job.objects.get(pk=job.pk)
    try:
        job_apply_provider_update(job.pk, get_provider(job.provider).poll(job))
    except ProviderError as exc:
        if not exc.transient:
            job_fail(job.pk, code=exc.code, message=str(exc))
            return Job.objects.get(pk=job.pk)
        log.warning("polling job %s: %s; will poll again", job.pk, exc)
    job = Job.objects.get(pk=job.pk)
    if not job.is_final:
        schedule_poll(job.pk, attempt + 1)
    return job


def job_apply_provider_update(job_id, update) -> Job | None:
    """Apply a provider's report (pending/running/succeeded/failed/canceled) to the job.

    The same code for polling and webhooks; it never moves a job backwards, and a
    success is fetched and fitted by one worker only (a claim on the row).
    """
    from .providers import ProviderError, get_provider

    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_final:
        return job
    if update.state in ("pending", "running", "succeeded") and job.status == JobStatus.QUEUED:
        transition(job.pk, JobStatus.PROCESSING)
    if update.state in ("pending", "running"):
        if update.progress is not None:
            job_set_progress(job.pk, int(update.progress * 100))
    elif update.state == "failed":
        job_fail(job.pk, code=update.error_code or "provider_failed", message=update.error_message)
    elif update.state == "canceled":
        transition(
            job.pk,
            JobStatus.CANCELED,
            error_code="provider_canceled",
            error_message=f"{job.provider} canceled the task",
        )
    elif update.state == "succeeded":
        stale = timezone.now() - timezone.timedelta(seconds=RESULT_CLAIM_TIMEOUT)
        claimed = (
            Job.objects.filter(pk=job.pk, status=JobStatus.PROCESSING)
            .filter(models.Q(result_claimed_at__isnull=True) | models.Q(result_claimed_at__lt=stale))
            .update(result_claimed_at=timezone.now())
        )
        if not claimed:
            return Job.objects.get(pk=job.pk)  # another worker is fetching it, or it is done
        out = render_path(job)
        try:
            get_provider(job.provider).fetch_result(job, update, out)
        except ProviderError as exc:
            Job.objects.filter(pk=job.pk).update(result_claimed_at=None)
            if exc.transient:
                raise
            job_fail(job.pk, code=exc.code, message=str(exc))
        except EngineError as exc:
            job_fail(job.pk, code="provider_bad_output", message=str(exc))
        except BaseException:
            Job.objects.filter(pk=job.pk).update(result_claimed_at=None)
            raise
        else:
            if job_complete(job.pk, output_path=out) is None:
                out.unlink(missing_ok=True)
    return Job.objects.get(pk=job.pk)


def webhook_event_record(*, webhook_id: str, provider: str, body: dict, task_id: str):
    """Store a verified delivery (once per webhook id); returns (event, created)."""
    from .models import WebhookEvent

    try:
        with transaction.atomic():
            return WebhookEvent.objects.get_or_create(
                webhook_id=webhook_id, defaults={"provider": provider, "body": body, "task_id": task_id}
            )
    except IntegrityError:
        return WebhookEvent.objects.get(webhook_id=webhook_id), False


def webhook_event_process(event_id) -> None:
    """Hand a stored delivery to the same code as polling; mark it processed, or keep it for a retry."""
    from .models import WebhookEvent
    from .providers.runway import parse_task

    event = WebhookEvent.objects.filter(pk=event_id, processed_at__isnull=True).first()
    if event is None:
        return
    try:
        update = parse_task(event.body)
        job = Job.objects.filter(provider=event.provider, provider_task_id=update.task_id).first()
        if job is None:
            log.warning("webhook %s: no job for %s task %s", event.webhook_id, event.provider, update.task_id)
            WebhookEvent.objects.filter(pk=event.pk).update(processed_at=timezone.now(), error="unknown task id")
            return
        job_apply_provider_update(job.pk, update)
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
    from .models import WebhookEvent

    cutoff = timezone.now() - timezone.timedelta(seconds=older_than)
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
