"""Jobs: create, transition, progress, cancel, retry.

:func:`transition` is the only code that moves a job's status, and it refuses
any move that :data:`~image_to_video.models.ALLOWED_TRANSITIONS` does not list,
so nothing ever leaves a final state and no update moves a job backwards.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from tenancy.models import Client

from .. import dispatch, events, tasks
from ..engine import DEFAULT_DIRECTION, MotionParams
from ..models import ALLOWED_TRANSITIONS, FINAL_STATUSES, Job, JobStatus
from ..providers import get_provider

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
    user: User,
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
        motion_direction=params.motion_direction or DEFAULT_DIRECTION[params.motion_type],
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
            transaction.on_commit(lambda: queue_run(job.pk))
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


def _job_for_key(user: User, idempotency_key: str, fingerprint: str) -> Job | None:
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


def queue_run(job_id: Any) -> None:
    """Hand the job to a worker (the run_job task)."""
    dispatch.enqueue(tasks.run_job, str(job_id))


def transition(job_id: Any, to: str, **fields: Any) -> Job | None:
    """Move a job to ``to`` if that move is allowed; return it, or None if not.

    The row is locked, so a webhook, a poller and a cancel racing each other
    are applied one after the other and only legal moves survive.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if to not in ALLOWED_TRANSITIONS.get(JobStatus(job.status), ()):
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
        final = to in FINAL_STATUSES
        transaction.on_commit(lambda: events.publish_job(job.pk, final=final))
    return job


def job_start(job_id: Any) -> Job | None:
    """Queued -> processing. A redelivered task finds it processing and may go on."""
    job = transition(job_id, JobStatus.PROCESSING)
    if job is None:
        job = Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING).first()
    return job


def job_set_progress(job_id: Any, progress: int) -> None:
    """Save progress (never backwards, never past 99 before completion) and publish it."""
    progress = max(0, min(99, int(progress)))
    with transaction.atomic():
        updated = Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING, progress__lt=progress).update(
            progress=progress, updated_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: events.publish_job(job_id))


def job_complete(job_id: Any, *, output_path: str | os.PathLike[str]) -> Job | None:
    return transition(
        job_id,
        JobStatus.COMPLETED,
        progress=100,
        output_path=os.fspath(output_path),
        error_code="",
        error_message="",
    )


def job_fail(job_id: Any, *, code: str, message: str) -> Job | None:
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
        try:
            get_provider(updated.provider).cancel(updated)
        except Exception:  # the job is canceled here whatever the provider says
            log.warning("provider cancel failed for job %s", updated.pk, exc_info=True)
    return updated


def job_retry(job: Job) -> Job:
    """A new queued job with the same parameters and source (admin action)."""
    with transaction.atomic():
        clone = Job.objects.get(pk=job.pk)
        source_name = clone.source_image.name or ""
        if not source_name or not clone.source_image.storage.exists(source_name):
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
        ext = Path(source_name).suffix or ".png"
        new.source_image.save(f"source{ext}", ContentFile(data), save=False)
        new.save(force_insert=True)
        transaction.on_commit(lambda: queue_run(new.pk))
    return new
