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
    return inspect_video(path)[0]


@dataclass(frozen=True)
class VideoQuality:
    """What the motion in a stored video measures (``metadata.quality``), from one decode of it.

    ``jitter_px``: RMS deviation, in output pixels, of the frame-to-frame global shift (phase
    correlation on a small grey copy, refined once) from its local trend (a 9-frame quadratic
    fit): a smooth camera reads near zero whatever its move. ``border_pixels``: the most pixels of one frame outside the
    photo (the renderer's fill is Y=U=V=0, which no real colour decodes to). ``flicker``: RMS second
    difference of the frames' mean luma (grey levels): steady light reads near zero.
    """

    jitter_px: float
    border_pixels: int
    flicker: float

    def as_dict(self) -> dict[str, Any]:
        return {"jitterPx": self.jitter_px, "borderPixels": self.border_pixels, "flicker": self.flicker}


MEASURE_SIDE = 256  # the grey copy phase correlation runs on


def inspect_video(path: str | os.PathLike[str]) -> tuple[VideoFacts, VideoQuality]:
    """The facts and the quality of a video, decoding it once."""
    facts, quality, _ = _inspect(path, poster=False)
    return facts, quality


def inspect_video_with_poster(path: str | os.PathLike[str]) -> tuple[VideoFacts, VideoQuality, bytes]:
    """The facts, the quality and a poster (JPEG) of a video, from the same single decode: what filing
    needs of a stored video."""
    facts, quality, poster = _inspect(path, poster=True)
    if poster is None:
        raise ValueError("the video has no frames")
    return facts, quality, poster


def _inspect(path: str | os.PathLike[str], *, poster: bool) -> tuple[VideoFacts, VideoQuality, bytes | None]:
    size = os.path.getsize(path)
    best: tuple[float, np.ndarray] | None = None
    shifts: list[tuple[float, float]] = []
    means: list[float] = []
    border = 0
    previous: np.ndarray | None = None
    scale = 1.0
    with av.open(os.fspath(path)) as container:
        stream = container.streams.video[0]
        wanted = _poster_candidates(_frames_expected(container, stream)) if poster else set()
        count, end = 0, 0.0
        for frame in container.decode(stream):
            if count in wanted:
                rgb = frame.to_ndarray(format="rgb24")
                score = _score(rgb)
                if best is None or score > best[0]:
                    best = (score, rgb)
            count += 1
            if frame.pts is not None and frame.time_base is not None:
                length = getattr(frame, "duration", None) or 0  # PyAV before 15 has no frame duration
                end = max(end, float((frame.pts + length) * frame.time_base))
            h, w = frame.height, frame.width
            if w % 2 or h % 2:  # 4:2:0 needs even sides (an odd GIF): luma only, and no renderer fill to find
                luma, chroma = frame.to_ndarray(format="gray"), None
            else:
                yuv = frame.to_ndarray(format="yuv420p")
                luma, chroma = yuv[:h], yuv[h:].reshape(2, h // 2, w // 2)
            means.append(float(luma.mean()))
            if chroma is not None:
                fill = (luma[: h // 2 * 2 : 2, : w // 2 * 2 : 2] < 12) & (chroma[0] < 24) & (chroma[1] < 24)
                border = max(border, int(fill.sum()) * 4)
            scale = max(w, h) / MEASURE_SIDE if max(w, h) > MEASURE_SIDE else 1.0
            small = cv2.resize(luma, (round(w / scale), round(h / scale)), interpolation=cv2.INTER_AREA)
            grey = small.astype(np.float64)
            if previous is not None:
                shifts.append(global_shift(previous, grey))
            previous = grey
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else (count / end if end else 0.0)
        duration = float(container.duration) / 1_000_000 if container.duration else end
        if not duration and fps:
            duration = count / fps
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
    bitrate = round(size * 8 / duration) if duration else 0
    facts = VideoFacts(
        width=width,
        height=height,
        duration=round(duration, 4),
        fps=round(fps, 4),
        frame_count=count,
        codec=codec,
        bitrate=bitrate,
        size=size,
    )
    quality = VideoQuality(
        jitter_px=round(_jitter(shifts) * scale, 3), border_pixels=border, flicker=round(_flicker(means), 3)
    )
    return facts, quality, _jpeg(best[1]) if best is not None else None


def _frames_expected(container: Any, stream: Any) -> int:
    """The frame count the header promises (or its duration at its rate): where the poster's candidates
    are spread before the frames are counted."""
    if stream.frames:
        return int(stream.frames)
    rate = stream.average_rate or stream.guessed_rate
    seconds = float(container.duration) / 1_000_000 if container.duration else 0.0
    return max(1, round(seconds * float(rate))) if rate else 1


def _poster_candidates(frame_count: int) -> set[int]:
    return {round(i * (frame_count - 1) / max(1, POSTER_CANDIDATES - 1)) for i in range(POSTER_CANDIDATES)}


def global_shift(a: np.ndarray, b: np.ndarray, refine: bool = True) -> tuple[float, float]:
    """Sub-pixel shift of ``b`` against ``a`` by phase correlation (Hanning window).

    The plain estimate (a centroid around the peak) is biased toward whole pixels by up to ~0.2 px;
    ``refine`` shifts ``b`` back by that estimate and measures the remainder, where the bias is nil.
    """
    window = cv2.createHanningWindow(a.shape[::-1], cv2.CV_64F)
    (dx, dy), _ = cv2.phaseCorrelate(a, b, window)
    if refine:
        back = np.array([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], dtype=np.float64)
        moved = cv2.warpAffine(b, back, a.shape[::-1], flags=cv2.INTER_LANCZOS4, borderMode=cv2.BORDER_REFLECT)
        (rx, ry), _ = cv2.phaseCorrelate(a, moved, window)
        dx, dy = dx + rx, dy + ry
    return dx, dy


# Savitzky-Golay smoothing, 9 frames, quadratic: the local trend a smooth camera's shifts follow, whatever
# the whole move's shape (a loop's there-and-back is no single polynomial).
_TREND = np.array([-21, 14, 39, 54, 59, 54, 39, 14, -21], dtype=np.float64) / 231


def _jitter(shifts: list[tuple[float, float]]) -> float:
    if len(shifts) < len(_TREND):
        return 0.0
    squares = np.zeros(len(shifts) - len(_TREND) + 1)
    for axis in (0, 1):
        values = np.array([s[axis] for s in shifts])
        trend = np.convolve(values, _TREND[::-1], mode="valid")
        middle = values[len(_TREND) // 2 : len(values) - len(_TREND) // 2]
        squares += (middle - trend) ** 2
    return float(np.sqrt(np.mean(squares)))


def _flicker(means: list[float]) -> float:
    if len(means) < 3:
        return 0.0
    return float(np.sqrt(np.mean(np.diff(np.array(means), 2) ** 2)))


def _score(rgb: np.ndarray) -> float:
    """Sharpness (variance of the Laplacian), zero for a frame that is nearly black or nearly white."""
    grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    mean = float(grey.mean())
    if mean < 20 or mean > 235 or float(grey.std()) < 4:
        return 0.0
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _jpeg(rgb: np.ndarray) -> bytes:
    """The poster: a frame at most POSTER_SIDE px long, as JPEG."""
    image = Image.fromarray(rgb)
    image.thumbnail((POSTER_SIDE, POSTER_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=POSTER_QUALITY, optimize=True)
    return out.getvalue()
