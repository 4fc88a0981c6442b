"""The local provider: the project's own motion engine, in the worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine import MotionParams, render_video
from .base import StartOutcome, VideoProvider

if TYPE_CHECKING:
    from ..models import Job


def job_motion_params(job: Job) -> MotionParams:
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

    def start(
        self,
        job: Job,
        *,
        source: Path,
        output: Path,
        progress: Callable[[float], None],
        should_cancel: Callable[[], bool],
    ) -> StartOutcome:
        render_video(source, output, job_motion_params(job), on_progress=progress, should_cancel=should_cancel)
        return StartOutcome(output_path=output)
