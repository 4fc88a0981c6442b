"""One call from a photo to a finished video file, streamed frame by frame.

A render thread warps frame ``i+1`` while the calling thread hands frame ``i``
to the encoder (OpenCV and libx264 both release the GIL), through a queue of a
few frames, so memory stays flat however long the clip is.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .encode import CONTENT_TYPES, open_encoder
from .errors import RenderCanceled
from .framing import Plan, plan_camera
from .params import MotionParams
from .render import FrameRenderer, prescale_image, prescale_size
from .source import Source, load_image, probe_image
from .subject import DETECT_SIDE, detect_subject

ProgressCallback = Callable[[float], None]
CancelCheck = Callable[[], bool]
QUEUE_FRAMES = 4


@dataclass(frozen=True)
class RenderResult:
    path: str
    output_format: str
    content_type: str
    width: int
    height: int
    fps: int
    frame_count: int
    duration: float
    size: int
    framing: dict[str, Any] = field(default_factory=dict)
    camera_path: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class VideoPlan:
    """What a render of ``params`` from a photo would do, known before any frame is drawn."""

    width: int
    height: int
    fps: int
    frame_count: int
    framing: dict[str, Any]
    camera_path: list[dict[str, Any]]


def plan_video(source: Source, params: MotionParams) -> VideoPlan:
    """The camera path and framing :func:`render_video` would use for ``params``, by the very same steps
    (the photo read at the size the move needs, the subject found on it, the path planned), without
    rendering: a render of the same photo and params records exactly this ``camera_path``."""
    params = params.validate()
    assert params.fps is not None
    rgb, plan = _prepare(source, params)
    del rgb
    return VideoPlan(
        width=params.width,
        height=params.height,
        fps=params.fps,
        frame_count=params.frame_count,
        framing=plan.framing,
        camera_path=plan.path.as_list(),
    )


def render_video(
    source: Source,
    out_path: str | os.PathLike[str],
    params: MotionParams,
    *,
    on_progress: ProgressCallback | None = None,
    should_cancel: CancelCheck | None = None,
) -> RenderResult:
    """Render ``params`` from ``source`` into ``out_path``.

    ``on_progress(fraction)`` is called after every encoded frame;
    ``should_cancel()`` is asked between frames, and a true answer stops the
    render, deletes the partial file and raises :class:`RenderCanceled`.
    """
    params = params.validate()
    assert params.fps is not None and params.motion_direction is not None  # validate() filled them in
    fps = params.fps
    rgb, plan = _prepare(source, params)
    encoder = open_encoder(
        out_path,
        output_format=params.output_format,
        width=params.width,
        height=params.height,
        fps=fps,
        crf=params.crf,
        preset=params.preset,
        palette_source=rgb,
        video_codec=params.video_codec,
    )
    renderer = FrameRenderer(
        rgb, plan.path, params.width, params.height, fps, encoder.pixel_format, shutter=params.motion_blur
    )
    del rgb
    total = params.frame_count
    frames: queue.Queue[Any] = queue.Queue(maxsize=QUEUE_FRAMES)
    stop = threading.Event()

    def produce() -> None:
        try:
            for i in range(total):
                if stop.is_set():
                    return
                if encoder.pixel_format == "yuv420p":
                    item, planes = encoder.blank()
                    renderer.render(i, planes)
                else:
                    item = encoder.frame_from_rgb(renderer.render(i)[0])
                while not stop.is_set():
                    try:
                        frames.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # handed to the consumer, which re-raises
            frames.put(exc)

    worker = threading.Thread(target=produce, name="render-frames", daemon=True)
    worker.start()
    try:
        for i in range(total):
            if should_cancel is not None and should_cancel():
                raise RenderCanceled("the render was canceled")
            item = frames.get()
            if isinstance(item, BaseException):
                raise item
            encoder.write(item)
            if on_progress is not None:
                on_progress((i + 1) / total)
        encoder.close()
    except BaseException:
        stop.set()
        encoder.abort()
        raise
    finally:
        stop.set()
        worker.join(timeout=5)

    return RenderResult(
        path=os.fspath(out_path),
        output_format=params.output_format,
        content_type=CONTENT_TYPES[params.output_format],
        width=params.width,
        height=params.height,
        fps=fps,
        frame_count=total,
        duration=total / fps,
        size=os.path.getsize(out_path),
        framing=plan.framing,
        camera_path=plan.path.as_list(),
    )


def _prepare(source: Source, params: MotionParams) -> tuple[np.ndarray, Plan]:
    """The photo at the size the move needs, and the camera path framed on it.

    ``focus="auto"`` looks for the subject once, on the pre-scaled photo; if what
    it finds calls for a closer zoom than that photo holds, the photo is read
    again at the size the new path needs.
    """
    info = probe_image(source)
    full = info.oriented_size
    times = [i / (params.fps or 30) for i in range(params.frame_count)]
    wanted = prescale_size(plan_camera(params, *full).path, times, *full, params.width, params.height)
    rgb = prescale_image(load_image(source, min_size=wanted), wanted)
    subject = None
    if params.focus == "auto" and not params.keyframes:
        photo = rgb
        if max(rgb.shape[:2]) < min(max(full), DETECT_SIDE):
            # A small output pre-scales the photo too far for a face detector: it gets a copy of its own size.
            side = min(max(full), DETECT_SIDE)
            photo = load_image(source, min_size=(round(full[0] * side / max(full)), round(full[1] * side / max(full))))
        subject = detect_subject(photo)
        del photo
        needed = prescale_size(plan_camera(params, *full, subject).path, times, *full, params.width, params.height)
        if needed[0] > rgb.shape[1] * 1.05 and rgb.shape[1] < full[0]:
            rgb = prescale_image(load_image(source, min_size=needed), needed)
    return rgb, plan_camera(params, rgb.shape[1], rgb.shape[0], subject)
