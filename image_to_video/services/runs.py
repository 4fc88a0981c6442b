"""The worker's part: start a queued job and hand it to its provider, reporting progress."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from .. import dispatch
from ..engine import EngineError, RenderCanceled
from ..models import Job, JobStatus
from ..providers import ProviderError, get_provider
from .jobs import job_complete, job_fail, job_set_progress, job_start
from .provider_updates import schedule_poll
from .scratch import render_path

log = logging.getLogger(__name__)


class ProgressReporter:
    """Throttles a render's per-frame progress to a few saves a second, and answers "canceled?"."""

    def __init__(
        self, job_id: Any, *, interval: float | None = None, extra: Callable[[float], None] | None = None
    ) -> None:
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


def job_run(job_id: Any, *, on_progress: Callable[[float], None] | None = None) -> Job | None:
    """What a worker does with a queued job: start it and hand it to its provider."""
    job = job_start(job_id)
    if job is None:
        return None  # canceled, finished, or gone: nothing to do
    reporter = ProgressReporter(job.pk, extra=on_progress or dispatch.progress_hook())
    output = render_path(job)
    try:
        outcome = get_provider(job.provider).start(
            job, output=output, progress=reporter, should_cancel=reporter.should_cancel
        )
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
