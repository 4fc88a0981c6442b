"""A finished video's way into the shared storage, and making it again when it never got there."""

from __future__ import annotations

import logging
from pathlib import Path

from ..models import Job
from ..providers import get_provider
from .lifecycle import job_complete
from .provider_requests import render_request
from .scratch import StorageUnavailable, delete_stored, fetch_source, render_path, store_video

log = logging.getLogger(__name__)


def finish_with_video(job: Job, path: Path) -> Job | None:
    """Put a finished video in the shared storage and complete the job.

    While storage is down the job still completes (the render was good) with
    the video kept in this worker's scratch space; filing retries, and if this
    worker is gone by then, filing makes the video again (:func:`remake_video`).
    """
    try:
        name = store_video(job, path)
    except StorageUnavailable as exc:
        log.warning("job completed, but its video waits for storage: %s", exc)
        done = job_complete(job.pk, output_path=path)
        if done is None:
            path.unlink(missing_ok=True)
        return done
    path.unlink(missing_ok=True)
    done = job_complete(job.pk, video_name=name)
    if done is None:  # canceled meanwhile: drop the video
        delete_stored(name)
    return done


def remake_video(job: Job) -> str:
    """Make a completed job's video again and store it; returns its storage name.

    For a job whose video never reached the storage and whose worker (with the
    only copy) is gone: the local engine renders it again from the stored
    source; a provider's result is fetched again from its task.
    """
    provider = get_provider(job.provider)
    output = render_path(job)
    request = render_request(job)
    if job.provider_task_id:
        provider.fetch_result(request, provider.poll(request), output)
    else:
        source = fetch_source(job)
        try:
            provider.start(request, source=source, output=output, progress=lambda _: None, should_cancel=lambda: False)
        finally:
            source.unlink(missing_ok=True)
    try:
        return store_video(job, output)
    finally:
        output.unlink(missing_ok=True)
