"""Fitting an existing video (a provider's output) to the requested frame, length and format.

The video is decoded frame by frame, scaled to cover ``width`` x ``height`` (area
filter when shrinking) and centre-cropped, resampled to the output frame rate
by timestamp (holding the last frame if the source is shorter) and encoded
with the engine's own encoders, so it matches a locally rendered job exactly:
``round(duration * fps)`` frames of ``width`` x ``height``.
"""

from __future__ import annotations

import os

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
) -> RenderResult:
    params = MotionParams(
        width=width,
        height=height,
        duration=duration,
        output_format=output_format,
        fps=fps,
        crf=crf,
        preset=preset,
        video_codec=video_codec,
    ).validate()
    fps = params.fps or DEFAULT_FPS[output_format]
    total = params.frame_count
    try:
        # Only as MP4/QuickTime, and only the local file: FFmpeg guesses nothing and follows no reference.
        container = av.open(os.fspath(source), format="mp4", options={"protocol_whitelist": "file"})
    except (av.FFmpegError, OSError) as exc:
        raise InvalidImage(f"the provider's video could not be read: {exc}") from exc
    encoder = None
    try:
        stream = container.streams.video[0]
        frames = container.decode(stream)
        current = nxt = None
        written = 0
        for i in range(total):
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
            frame = _cover(current[1], width, height)
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
            if encoder.pixel_format == "yuv420p":
                i420 = np.asarray(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420), np.uint8)
                encoder.write(av.VideoFrame.from_ndarray(i420, format="yuv420p"))
            else:
                encoder.write(encoder.frame_from_rgb(frame))
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
    finally:
        container.close()
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
