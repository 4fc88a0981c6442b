"""The worker's part: take a queued job, hand it to its provider, keep its lease, store the video."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import DatabaseError, close_old_connections, transaction
from django.utils import timezone

from .. import dispatch, events, logs, metrics, stopping
from ..conf import get_config
from ..engine import EngineError, RenderCanceled
from ..models import Job
from ..outputs import JobOut
from ..providers import ProviderError, get_provider
from .jobs import job_hand_back, job_provider_failed, turn_task
from .lifecycle import (
    job_fail,
    job_is_mine,
    job_record_framing,
    job_record_provider_task,
    job_save_progress,
    job_start,
)
from .outbound import PROGRESS_EVERY, deliveries_create, webhook_target
from .provider_requests import render_request
from .provider_updates import schedule_poll
from .scratch import StorageUnavailable, fetch_source, render_path, sweep
from .videos import finish_with_video

log = logging.getLogger(__name__)
TRANSIENT_DB_ERRORS = (DatabaseError,)


class ProgressReporter:
    """A render's progress, lease and "stop?", at the cost each needs.

    - Live progress goes to the client's group on the channel layer every ``PROGRESS_SAVE_INTERVAL``
      (0.25 s), built from the job as it was when the render started: no read, no write.
    - The row gets progress and lease in one write every ``PROGRESS_WRITE_INTERVAL`` (3 s): a 10 s render
      writes it a handful of times, not several times a second.
    - ``job.progress`` webhooks, for a job subscribed to them (asked once), every ``PROGRESS_EVERY``.
    - Whether the job was canceled or taken back is a read every ``CANCEL_CHECK_INTERVAL`` (1 s); when
      the worker is stopping and the render's grace ran out, the answer is yes (``handing_back``).

    Every database call is best effort: a dropped connection costs a write (logged), never the render.
    """

    def __init__(self, job: Job, *, extra: Callable[[float], None] | None = None) -> None:
        config = get_config()
        self.job = job
        self.job_id = job.pk
        self.extra = extra
        self.live_interval = config.PROGRESS_SAVE_INTERVAL
        # The lease must be renewed well before it runs out, whatever the write interval says.
        self.write_interval = min(config.PROGRESS_WRITE_INTERVAL, config.JOB_LEASE_SECONDS / 3)
        self.check_interval = config.CANCEL_CHECK_INTERVAL
        self._snapshot: dict[str, Any] | None = None
        self._webhook: str | None | bool = False  # False: not asked yet
        self._progress = 0
        self._last_live = self._last_write = self._last_check = time.monotonic()
        self._last_webhook = float("-inf")  # the first progress a subscriber hears of comes at once
        self._canceled = False
        self.handing_back = False

    def __call__(self, fraction: float) -> None:
        if self.extra is not None:
            self.extra(fraction)
        progress = max(0, min(99, int(fraction * 100)))
        now = time.monotonic()
        if self._canceled:
            return  # the job is no longer this render's: nothing more is said of it
        if progress > self._progress and now - self._last_live >= self.live_interval:
            self._last_live = now
            self._progress = progress
            self._publish(progress)
            if now - self._last_webhook >= PROGRESS_EVERY:
                self._last_webhook = now
                self._best_effort(self._progress_webhook, progress)
        if now - self._last_write >= self.write_interval:
            self._last_write = now
            if self._best_effort(job_save_progress, self.job_id, self._progress) is False:
                self._canceled = True

    def _publish(self, progress: int) -> None:
        if self._snapshot is None:
            self._snapshot = dict(JobOut(self.job).data)
        data = {**self._snapshot, "progress": progress, "updatedAt": timezone.now().isoformat()}
        events.publish_job_data(self.job.client_id, data)

    def _progress_webhook(self, progress: int) -> None:
        if self._webhook is False:
            self._webhook = webhook_target(self.job, "job.progress")
        if self._webhook:
            self.job.progress, self.job.updated_at = progress, timezone.now()
            with transaction.atomic():
                deliveries_create(self.job, "job.progress", url=str(self._webhook))

    def should_cancel(self) -> bool:
        """True once the job is no longer this worker's (canceled, taken back after a lost lease), or once
        the worker is stopping and ``RENDER_GRACE_SECONDS`` have passed (``handing_back``)."""
        if not self.handing_back and stopping.overdue(get_config().RENDER_GRACE_SECONDS):
            self.handing_back = True
        if self.handing_back:
            return True
        now = time.monotonic()
        if not self._canceled and now - self._last_check >= self.check_interval:
            self._last_check = now
            self._canceled = self._best_effort(job_is_mine, self.job_id) is False
        return self._canceled

    @staticmethod
    def _best_effort(write: Callable[..., Any], *args: Any) -> Any:
        try:
            return write(*args)
        except TRANSIENT_DB_ERRORS as exc:
            log.warning("progress write skipped (%s); the render goes on", type(exc).__name__)
            close_old_connections()  # the next write gets a fresh connection
            return None


def run_next_job(*, remote: bool = False, on_progress: Callable[[float], None] | None = None) -> Job | None:
    """A worker's turn: run the fairest queued job of a remote provider (``remote``) or a local one, if any.

    A worker that is stopping takes no job: the turn goes back to the queue for another worker.
    """
    if stopping.overdue(0):
        dispatch.send(turn_task(remote=remote))
        return None
    if not remote:
        sweep()  # what a killed render left on this host
    job = job_start(remote=remote)
    return _run(job, on_progress) if job is not None else None


def job_run(job_id: Any, *, on_progress: Callable[[float], None] | None = None) -> Job | None:
    """Run this very job (inline runs); None when it is not queued any more."""
    job = job_start(job_id)
    return _run(job, on_progress) if job is not None else None


def _run(job: Job, on_progress: Callable[[float], None] | None) -> Job:
    with logs.job_context(job.pk):
        log.info("rendering with %s (attempt %d)", job.provider, job.attempts)
        reporter = ProgressReporter(job, extra=on_progress or dispatch.progress_hook())
        output = render_path(job)
        started = time.monotonic()
        source: Path | None = None
        try:
            source = fetch_source(job)
            outcome = get_provider(job.provider).start(
                render_request(job),
                source=source,
                output=output,
                progress=reporter,
                should_cancel=reporter.should_cancel,
            )
        except RenderCanceled:
            if reporter.handing_back:
                log.warning("worker stopping: the job goes back to the queue for another worker")
                job_hand_back(job.pk)
            else:
                log.info("job canceled during render")
            return Job.objects.get(pk=job.pk)
        except FileNotFoundError:
            job_fail(job.pk, code="source_missing", message="the source image is no longer stored")
            return Job.objects.get(pk=job.pk)
        except ProviderError as exc:
            log.warning("job failed: %s", exc)
            job_provider_failed(job.pk, code=exc.code, message=str(exc))
            return Job.objects.get(pk=job.pk)
        except EngineError as exc:
            log.warning("job failed: %s", exc)
            job_fail(job.pk, code=getattr(exc, "code", "render_failed"), message=str(exc))
            return Job.objects.get(pk=job.pk)
        except (StorageUnavailable, *TRANSIENT_DB_ERRORS):
            # Not the job's fault: it keeps its lease until it runs out, then another worker takes it.
            log.warning("job interrupted by an outage; it will be picked up again", exc_info=True)
            raise
        except Exception:
            log.exception("job failed unexpectedly")
            job_fail(job.pk, code="internal_error", message="the video could not be generated (internal error)")
            return Job.objects.get(pk=job.pk)
        finally:
            if source is not None:
                source.unlink(missing_ok=True)
        if outcome.output_path is not None:
            metrics.RENDER_SECONDS.labels(job.provider).observe(time.monotonic() - started)
            if outcome.framing is not None:
                job_record_framing(job.pk, framing=outcome.framing, camera_path=outcome.camera_path)
                job.framing, job.camera_path = outcome.framing, outcome.camera_path or []
            finish_with_video(job, outcome.output_path)
        elif outcome.task_id:
            job_record_provider_task(job.pk, task_id=outcome.task_id, request=outcome.request)
            schedule_poll(job.pk, 0)
        return Job.objects.get(pk=job.pk)
