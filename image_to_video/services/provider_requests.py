"""A job as its provider is asked to render it: the one place a :class:`RenderRequest` is built from a row."""

from __future__ import annotations

from ..models import Job
from ..providers import RenderRequest


def render_request(job: Job) -> RenderRequest:
    return RenderRequest(
        job_id=str(job.pk),
        params=job.motion_params(),
        focus=job.focus,
        keyframes=job.keyframes,
        prompt_text=job.prompt_text,
        model=job.model,
        source_name=job.source_image.name or "",
        source_content_type=job.source_content_type,
        provider_task_id=job.provider_task_id,
    )
