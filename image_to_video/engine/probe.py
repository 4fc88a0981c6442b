"""What a finished video really is, read from the file, and a poster still for it.

The facts come from decoding the stream (frames counted, not taken from the
header), so the asset library shows what was stored, whatever was asked. The
poster is the sharpest of a few evenly spread frames that is neither black
nor washed out, scaled to at most :data:`POSTER_SIDE` px on its long side.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

POSTER_SIDE = 1280
POSTER_CANDIDATES = 8
POSTER_QUALITY = 85


@dataclass(frozen=True)
class VideoFacts:
    width: int
    height: int
    duration: float
    fps: float
    frame_count: int
    codec: str
    bitrate: int
    size: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "width": self.width,
            "height": self.height,
            "duration": self.duration,
            "fps": self.fps,
            "frameCount": self.frame_count,
            "codec": self.codec,
            "bitrate": self.bitrate,
            "size": self.size,
        }


def probe_video(path: str | os.PathLike[str]) -> VideoFacts:
    """Decode every frame of the first video stream and report what is there."""
    size = os.path.getsize(path)
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        count, end = 0, 0.0
        for frame in container.decode(stream):
            count += 1
            if frame.pts is not None and frame.time_base is not None:
                length = getattr(frame, "duration", None) or 0  # PyAV before 15 has no frame duration
                end = max(end, float((frame.pts + length) * frame.time_base))
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else (count / end if end else 0.0)
        duration = float(container.duration) / 1_000_000 if container.duration else end
        if not duration and fps:
            duration = count / fps
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
    bitrate = round(size * 8 / duration) if duration else 0
    return VideoFacts(
        width=width,
        height=height,
        duration=round(duration, 4),
        fps=round(fps, 4),
        frame_count=count,
        codec=codec,
        bitrate=bitrate,
        size=size,
    )


def _score(rgb: np.ndarray) -> float:
    """Sharpness (variance of the Laplacian), zero for a frame that is nearly black or nearly white."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    mean = float(grey.mean())
    if mean < 20 or mean > 235 or float(grey.std()) < 4:
        return 0.0
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def poster_jpeg(path: str | os.PathLike[str], frame_count: int) -> bytes:
    """A JPEG still of the video: its best-scored candidate frame, at most POSTER_SIDE px long."""
    wanted = {round(i * (frame_count - 1) / max(1, POSTER_CANDIDATES - 1)) for i in range(POSTER_CANDIDATES)}
    best: tuple[float, np.ndarray] | None = None
    with av.open(os.fspath(path)) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index not in wanted:
                continue
            rgb = frame.to_ndarray(format="rgb24")
            score = _score(rgb)
            if best is None or score > best[0]:
                best = (score, rgb)
    if best is None:
        raise ValueError("the video has no frames")
    image = Image.fromarray(best[1])
    image.thumbnail((POSTER_SIDE, POSTER_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=POSTER_QUALITY, optimize=True)
    return out.getvalue()
