"""The local provider: the project's own motion engine, in the worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..engine import render_video
from .base import StartOutcome, VideoProvider

if TYPE_CHECKING:
    from ..models import Job


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
        result = render_video(source, output, job.motion_params(), on_progress=progress, should_cancel=should_cancel)
        return StartOutcome(output_path=output, framing=result.framing, camera_path=result.camera_path)
