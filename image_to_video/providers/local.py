"""The local provider: the project's own motion engine, in the worker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..engine import render_video
from .base import RenderRequest, StartOutcome, VideoProvider


class LocalProvider(VideoProvider):
    name = "local"

    def start(
        self,
        request: RenderRequest,
        *,
        source: Path,
        output: Path,
        progress: Callable[[float], None],
        should_cancel: Callable[[], bool],
    ) -> StartOutcome:
        result = render_video(source, output, request.params, on_progress=progress, should_cancel=should_cancel)
        return StartOutcome(output_path=output, framing=result.framing, camera_path=result.camera_path)
