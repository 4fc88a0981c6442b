"""Jobs: create, queue, cancel, retry, and what follows a provider's failure.

These decide; the rows are written by :mod:`.lifecycle`, the one writer of a
job's row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Model

from .. import dispatch, events, metrics, tasks
from ..conf import get_config
from ..engine import DEFAULT_DIRECTION, Keyframe, MotionParams
from ..models import FINAL_STATUSES, Job, JobStatus
from ..providers import get_provider, provider_class
from .lifecycle import client_load_lock, job_cancel_row, job_fail, job_fall_back, job_insert, job_requeue
from .provider_requests import render_request
from .scratch import StorageUnavailable

log = logging.getLogger(__name__)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was used before with a different request."""


class JobNotCancelable(Exception):
    """The job has already finished."""


class JobNotRetryable(Exception):
    """The job's source image is gone (pruned after SOURCE_RETENTION_DAYS)."""


class ClientBusy(Exception):
    """The client has MAX_ACTIVE_JOBS_PER_CLIENT unfinished jobs already."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"this client already has {limit} unfinished jobs (the limit); retry when some finish")
        self.limit = limit


@dataclass(frozen=True)
class SourceImage:
    data: bytes
    content_type: str
    extension: str
    name: str = ""  # the uploaded file's own name, when it had one


def focus_json(focus: str | tuple[float, float]) -> str | dict[str, float]:
    return {"x": focus[0], "y": focus[1]} if isinstance(focus, tuple) else focus


def keyframes_json(keyframes: tuple[Keyframe, ...] | None) -> list[dict] | None:
    return [k.as_dict() for k in keyframes] if keyframes else None


def request_fingerprint(
    *,
    client: Model,
    params: MotionParams,
    provider: str,
    prompt_text: str,
    source: SourceImage,
    extra: list[Any] | None = None,
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
            focus_json(params.focus),
            keyframes_json(params.keyframes),
            params.loop,
            params.video_codec,
            params.motion_blur,
        ],
        "image": hashlib.sha256(source.data).hexdigest(),
        "extra": extra or [],
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def job_create(
    *,
    user: AbstractBaseUser,
    client: Model,
    params: MotionParams,
    source: SourceImage,
    provider: str,
    prompt_text: str = "",
    idempotency_key: str = "",
    model: str = "",
    webhook_url: str = "",
    webhook_events: list[str] | None = None,
    batch_id: uuid.UUID | None = None,
) -> tuple[Job, bool]:
    """Create a queued job and its source file in the shared storage, then queue it once committed.

    Returns ``(job, created)``; a repeated Idempotency-Key with the same request
    returns the first job, with another request raises IdempotencyConflict.
    Raises ClientBusy over the client's active-job limit and StorageUnavailable
    when the source cannot be stored. Nothing is left behind when anything
    fails: no row, no file. Once committed, nothing can turn the accepted job
    into an error: the row is the outbox, and the recovery sweep sends it to a
    worker if queueing it fails now (broker down).
    """
    fingerprint = request_fingerprint(
        client=client,
        params=params,
        provider=provider,
        prompt_text=prompt_text,
        source=source,
        extra=[model, webhook_url, webhook_events or []],
    )
    existing = _job_for_key(user, idempotency_key, fingerprint)
    if existing is not None:
        return existing, False
    job = Job(
        id=uuid.uuid4(),
        client_id=client.pk,
        user_id=user.pk,
        provider=provider,
        prompt_text=prompt_text,
        motion_type=params.motion_type,
        motion_direction=params.motion_direction or DEFAULT_DIRECTION[params.motion_type],
        motion_strength=params.motion_strength,
        duration=params.duration,
        output_format=params.output_format,
        video_codec=params.video_codec or "",
        loop=params.loop,
        motion_blur=params.motion_blur,
        width=params.width,
        height=params.height,
        focus=focus_json(params.focus),
        keyframes=keyframes_json(params.keyframes),
        model=model,
        webhook_url=webhook_url,
        webhook_event_types=webhook_events or [],
        batch_id=batch_id,
        source_content_type=source.content_type,
        source_name=source.name,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
    )
    saved_name = None
    try:
        with transaction.atomic():
            _check_active_limit(client)
            try:
                saved_name = job.source_image.storage.save(
                    job.source_image.field.generate_filename(job, f"source.{source.extension}"),
                    ContentFile(source.data),
                )
            except Exception as exc:
                raise StorageUnavailable(f"the source image could not be stored ({type(exc).__name__})") from exc
            job.source_image.name = saved_name
            job_insert(job)
            transaction.on_commit(lambda: queue_run(job), robust=True)
            transaction.on_commit(lambda: events.publish_job(job.pk), robust=True)
            transaction.on_commit(lambda: metrics.JOBS_CREATED.labels(provider).inc(), robust=True)
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


def _check_active_limit(client: Model) -> None:
    """Raise ClientBusy at the limit; the client's load row lock makes concurrent submits count one by one."""
    limit = get_config().MAX_ACTIVE_JOBS_PER_CLIENT
    client_load_lock(client.pk)
    if Job.objects.filter(client_id=client.pk).exclude(status__in=FINAL_STATUSES).count() >= limit:
        raise ClientBusy(limit)


def batch_create(
    *,
    user: AbstractBaseUser,
    client: Model,
    source: SourceImage,
    variants: list[dict[str, Any]],
    idempotency_key: str = "",
) -> tuple[uuid.UUID, list[Job], bool]:
    """One job per variant of one photo under one batch id, all or none; returns ``(batch_id, jobs, created)``.

    The Idempotency-Key covers the batch: variant ``i`` is made with
    ``<key>#<i>``, so a repeat returns the same jobs and another body is a
    conflict. Any failure (a limit, storage) rolls every job back and
    deletes the sources already stored.
    """
    batch_id = uuid.uuid4()
    jobs: list[Job] = []
    created_any = False
    try:
        with transaction.atomic():
            for i, variant in enumerate(variants):
                job, created = job_create(
                    user=user,
                    source=source,
                    idempotency_key=f"{idempotency_key}#{i}" if idempotency_key else "",
                    batch_id=batch_id,
                    **{k: v for k, v in variant.items() if k not in ("client", "source")},
                    client=client,
                )
                created_any = created_any or created
                jobs.append(job)
            if idempotency_key and not created_any:
                batch_id = jobs[0].batch_id or batch_id
            if len({job.batch_id for job in jobs}) > 1:
                raise IdempotencyConflict(idempotency_key)  # a repeat that differs in its number of variants
    except BaseException:
        for job in jobs:
            if job.batch_id == batch_id:
                _delete_upload(job.source_image.name)
        raise
    return batch_id, jobs, created_any


def _job_for_key(user: AbstractBaseUser, idempotency_key: str, fingerprint: str) -> Job | None:
    """The job already made with this key, or None; the same key with another request is a conflict."""
    if not idempotency_key:
        return None
    existing = Job.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).first()
    if existing is not None and existing.request_fingerprint != fingerprint:
        raise IdempotencyConflict(idempotency_key)
    return existing


def _delete_upload(name: str | None) -> None:
    if name:
        try:
            Job.source_image.field.storage.delete(name)
        except Exception:  # storage down: the orphan costs bytes, never correctness
            log.warning("could not delete the source %s", name, exc_info=True)


def queue_run(job: Job) -> None:
    """Hand a queued job to the workers.

    With a queue (Celery, in-process threads) this sends a turn, not the job:
    the worker that takes it runs the fairest queued job at that moment
    (:func:`~.runs.run_next_job`), so one client's burst cannot hold back
    another client's job. A job this project renders gets a render turn; a job
    a service renders (Runway) an io turn, so its HTTP calls never wait behind
    renders. Inline (``generate_video``) it runs this very job. A broker that
    is down loses nothing: the job stays queued and the recovery sweep sends a
    turn for it later.
    """
    if dispatch.is_inline():
        dispatch.send(tasks.run_job, str(job.pk))
        return
    try:
        dispatch.send(turn_task(remote=not provider_class(job.provider).renders_here))
    except Exception:
        log.warning("job %s stays queued: the broker did not take it (the sweep sends it later)", job.pk)


def turn_task(*, remote: bool) -> Any:
    """The turn that starts a queued job of a remote provider (io queue) or of a local one (render queue)."""
    return tasks.start_next_remote_job if remote else tasks.run_next_job


def job_hand_back(job_id: Any) -> Job | None:
    """Processing -> queued at once (this worker is stopping), with a turn for another worker."""
    moved = job_requeue(job_id)
    if moved is not None:
        queue_run(moved)
    return moved


def job_provider_failed(job_id: Any, *, code: str, message: str) -> Job | None:
    """A provider failed the job: fail it, or, where the failure is not the user's and a fallback is
    configured (``RUNWAY_FALLBACK=local``), hand it to the local engine, keeping the provider's error.

    The job goes back to the queue as a local job, so it counts against its
    client's limits like any other and is rendered by the next free worker.
    """
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.is_final or not provider_class(job.provider).falls_back(code):
        return job_fail(job_id, code=code, message=message)
    moved = job_fall_back(job, code=code, message=message)
    if moved is None:
        return Job.objects.filter(pk=job_id).first()
    log.warning("%s failed the job (%s); rendering it locally instead", job.provider, code)
    queue_run(moved)
    return moved


def job_cancel(job: Job) -> Job:
    """Cancel a job that has not finished; the worker stops within about a second."""
    updated = job_cancel_row(job.pk)
    if updated is None:
        job.refresh_from_db()
        if job.status == JobStatus.CANCELED:
            return job
        raise JobNotCancelable(job.status)
    if updated.provider_task_id:
        try:
            get_provider(updated.provider).cancel(render_request(updated))
        except Exception:  # the job is canceled here whatever the provider says
            log.warning("provider cancel failed for job %s", updated.pk, exc_info=True)
    return updated


def job_retry(job: Job) -> Job:
    """A new queued job with the same parameters and source (admin action), made by job_create:
    the same storage, limits and queueing as any new job. Raises ClientBusy at the client's limit."""
    source_name = job.source_image.name or ""
    if not source_name or not job.source_image.storage.exists(source_name):
        raise JobNotRetryable(f"the source image of job {job.pk} is no longer kept")
    with job.source_image.open("rb") as fh:
        data = fh.read()
    params = job.motion_params()
    source = SourceImage(
        data=data,
        content_type=job.source_content_type,
        extension=Path(source_name).suffix[1:] or "png",
        name=job.source_name,
    )
    new, _ = job_create(
        user=job.user,
        client=job.client,
        params=params,
        source=source,
        provider=job.fallback_from or job.provider,
        prompt_text=job.prompt_text,
        model=job.model,
        webhook_url=job.webhook_url,
        webhook_events=job.webhook_event_types,
    )
    return new
