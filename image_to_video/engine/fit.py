"""Fitting an existing video (a provider's output) to the requested frame, length and format.

The video is decoded frame by frame, scaled to cover ``width`` x ``height`` (area
filter when shrinking) and centre-cropped, resampled to the output frame rate
by timestamp (holding the last frame if the source is shorter) and encoded
with the engine's own encoders, so it matches a locally rendered job exactly:
``round(duration * fps)`` frames of ``width`` x ``height``.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import av
import cv2
import numpy as np

from .encode import CONTENT_TYPES, open_encoder
from .errors import InvalidImage
from .params import DEFAULT_FPS, MotionParams
from .pipeline import RenderResult


def _cover(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = max(width / w, height / h)
    size = (max(width, round(w * scale)), max(height, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(rgb, size, interpolation=interp)
    x, y = (size[0] - width) // 2, (size[1] - height) // 2
    return np.ascontiguousarray(scaled[y : y + height, x : x + width])


def _sampled(container: Any, fps: int, count: int, width: int, height: int) -> Iterator[np.ndarray]:
    """The source's frames at ``i / fps`` for ``i < count``, covered to ``width`` x ``height``: the frame
    showing at that moment, the last one held once the source runs out."""
    frames = container.decode(container.streams.video[0])
    current = nxt = None
    for i in range(count):
        t = i / fps
        while True:
            if nxt is None:
                decoded = next(frames, None)
                if decoded is None:
                    break
                stamp = float(decoded.time) if decoded.time is not None else 0.0
                nxt = (stamp, decoded.to_ndarray(format="rgb24"))
            if current is None or nxt[0] <= t + 1e-6:
                current, nxt = nxt, None
            else:
                break
        if current is None:
            raise InvalidImage("the provider's video has no frames")
        yield _cover(current[1], width, height)


def fit_video(
    source: str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    width: int,
    height: int,
    duration: float,
    output_format: str,
    fps: int | None = None,
    crf: int = 20,
    preset: str = "veryfast",
    video_codec: str | None = None,
    loop: bool = False,
) -> RenderResult:
    """``round(duration * fps)`` frames of the source. With ``loop`` the clip plays forward for the first
    half and the same frames back for the second (frame ``i`` and frame ``total - i`` are one), so the
    frame after the last is the first: a seamless loop from a provider that makes one-way clips. The
    forward half waits on disk for its return, not in memory."""
    params = MotionParams(
        width=width,
        height=height,
        duration=duration,
        output_format=output_format,
        fps=fps,
        crf=crf,
        preset=preset,
        video_codec=video_codec,
        loop=loop,
    ).validate()
    fps = params.fps or DEFAULT_FPS[output_format]
    total = params.frame_count
    forward = total // 2 + 1 if loop and total > 2 else total
    try:
        # Only as MP4/QuickTime, and only the local file: FFmpeg guesses nothing and follows no reference.
        container = av.open(os.fspath(source), format="mp4", options={"protocol_whitelist": "file"})
    except (av.FFmpegError, OSError) as exc:
        raise InvalidImage(f"the provider's video could not be read: {exc}") from exc
    encoder = None
    spill: np.ndarray | None = None
    written = 0
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(container.close)
        try:
            for i, frame in enumerate(_sampled(container, fps, forward, width, height)):
                if encoder is None:
                    encoder = open_encoder(
                        out_path,
                        output_format=output_format,
                        width=width,
                        height=height,
                        fps=fps,
                        crf=crf,
                        preset=preset,
                        palette_source=frame,
                        video_codec=params.video_codec,
                    )
                planes = encoder.planes_from_rgb(frame)
                if forward < total:
                    if spill is None:
                        store = cleanup.enter_context(
                            tempfile.TemporaryFile(dir=os.path.dirname(os.path.abspath(out_path)) or None)
                        )
                        spill = np.memmap(store, dtype=np.uint8, mode="w+", shape=(forward, *planes.shape))
                    spill[i] = planes
                encoder.write(encoder.frame_from_planes(planes))
                written += 1
            for i in range(forward, total):
                assert encoder is not None and spill is not None
                encoder.write(encoder.frame_from_planes(np.asarray(spill[total - i])))
                written += 1
            if encoder is not None:  # total >= 1, so one was opened
                encoder.close()
        except av.FFmpegError as exc:
            if encoder is not None:
                encoder.abort()
            raise InvalidImage(f"the provider's video is corrupt: {exc}") from exc
        except BaseException:
            if encoder is not None:
                encoder.abort()
            raise
    return RenderResult(
        path=os.fspath(out_path),
        output_format=output_format,
        content_type=CONTENT_TYPES[output_format],
        width=width,
        height=height,
        fps=fps,
        frame_count=written,
        duration=written / fps,
        size=os.path.getsize(out_path),
    )
