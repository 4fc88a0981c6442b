"""The local provider: the project's own motion engine, in the worker."""

from __future__ import annotations

from ..engine import MotionParams, render_video
from .base import StartOutcome, VideoProvider


def job_motion_params(job) -> MotionParams:
    return MotionParams(
        motion_type=job.motion_type,
        motion_direction=job.motion_direction,
        motion_strength=job.motion_strength,
        duration=job.duration,
        width=job.width,
        height=job.height,
        output_format=job.output_format,
    ).validate()


class LocalProvider(VideoProvider):
    name = "local"

    def start(self, job, *, progress, should_cancel) -> StartOutcome:
        from ..services import render_path

        out = render_path(job)
        render_video(
            job.source_image.path, out, job_motion_params(job), on_progress=progress, should_cancel=should_cancel
        )
        return StartOutcome(output_path=out)
