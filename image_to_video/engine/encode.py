"""Encoders: H.264, HEVC or AV1 in MP4 or QuickTime, VP9 in WebM, and looping GIF with one palette.

Each encoder writes to a temporary file beside the target and renames it on
success, so a failed or canceled render never leaves a half-written video.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from types import TracebackType
from typing import Any

import av
import cv2
import numpy as np
from PIL import Image

CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "gif": "image/gif", "webm": "video/webm"}


class _Encoder:
    """A container being written; subclasses add the stream and turn pixels into frames."""

    pixel_format = "yuv420p"
    stream: Any  # PyAV's VideoStream

    def __init__(
        self, path: str | os.PathLike[str], container_format: str, options: dict[str, str] | None = None
    ) -> None:
        self.path = os.fspath(path)
        directory = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(directory, exist_ok=True)
        # The writer's pid in the name lets a sweep tell a dead process's leftover from a live render.
        prefix = f".partial-{os.getpid()}-"
        self._tmp = os.path.join(directory, f"{prefix}{secrets.token_hex(8)}{os.path.splitext(self.path)[1]}")
        # Made the way any file is (0666 less the umask): mkstemp's 0600 left videos that only the
        # worker's own user could read, where a web process or a person running the CLI reads them.
        os.close(os.open(self._tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        self.container = av.open(self._tmp, "w", format=container_format, options=options or {})
        self._pts = 0
        self._closed = False

    def _mux(self, frame: av.VideoFrame | None) -> None:
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def write(self, frame: av.VideoFrame) -> None:
        frame.pts = self._pts
        self._pts += 1
        self._mux(frame)

    def close(self) -> None:
        """Flush, finish the container and move it into place."""
        if self._closed:
            return
        try:
            self._mux(None)
            self.container.close()
        except BaseException:
            self.abort()
            raise
        self._closed = True
        os.replace(self._tmp, self.path)

    def abort(self) -> None:
        """Drop everything written so far."""
        self._closed = True
        try:
            self.container.close()
        except Exception:  # noqa: BLE001 - the file is deleted anyway
            pass
        if os.path.exists(self._tmp):
            os.unlink(self._tmp)

    def blank(self) -> tuple[av.VideoFrame, list[np.ndarray[Any, np.dtype[np.uint8]]]]:
        """A new frame and writable views of its planes (encoders taking YUV planes)."""
        raise NotImplementedError

    def frame_from_rgb(self, data: np.ndarray[Any, np.dtype[np.uint8]]) -> av.VideoFrame:
        """A frame from an RGB array (encoders taking RGB)."""
        raise NotImplementedError

    def planes_from_rgb(self, rgb: np.ndarray[Any, np.dtype[np.uint8]]) -> np.ndarray[Any, np.dtype[np.uint8]]:
        """An RGB picture as the one array this encoder's frames are made from (to keep, then
        ``frame_from_planes``): the RGB itself, or I420 planes for YUV encoders."""
        return rgb

    def frame_from_planes(self, planes: np.ndarray[Any, np.dtype[np.uint8]]) -> av.VideoFrame:
        return self.frame_from_rgb(planes)

    def __enter__(self) -> _Encoder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


@dataclass(frozen=True)
class Codec:
    """One video codec: its FFmpeg encoder, its quality options, and the tag players expect."""

    encoder: str
    options: Callable[[int, str], dict[str, str]]  # (the x264-scale CRF, the x264 preset) -> encoder options
    tag: str | None = None


# Quality: each codec's CRF is the x264 CRF moved by an offset measured for parity with libx264 at CRF 20
# (the same luma PSNR against the rendered frames of a 720p pan; bench/codecs.py, docs/PERFORMANCE.md).
CRF_OFFSETS = {"h264": 0, "hevc": 6, "av1": 24, "vp9": 17}
CODECS = {
    "h264": Codec("libx264", lambda crf, preset: {"crf": str(crf), "preset": preset}),
    # hvc1 (parameter sets in the sample entry) is the tag Apple's players require; FFmpeg's default is hev1.
    "hevc": Codec(
        "libx265",
        lambda crf, preset: {
            "crf": str(min(51, crf + CRF_OFFSETS["hevc"])),
            "preset": preset,
            "x265-params": "log-level=error",
        },
        tag="hvc1",
    ),
    "av1": Codec("libsvtav1", lambda crf, preset: {"crf": str(min(63, crf + CRF_OFFSETS["av1"])), "preset": "10"}),
    "vp9": Codec(
        "libvpx-vp9",
        lambda crf, preset: {
            "crf": str(min(63, crf + CRF_OFFSETS["vp9"])),
            "b": "0",  # constant quality, no bitrate target
            "deadline": "good",
            "cpu-used": "5",
            "row-mt": "1",
        },
    ),
}
CONTAINERS = {"mp4": "mp4", "mov": "mov", "webm": "webm"}


class YuvEncoder(_Encoder):
    """H.264, HEVC, AV1 or VP9 in 4:2:0 (``yuv420p``), BT.601 limited range (what OpenCV's I420 produces)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        container_format: str,
        codec: str,
        width: int,
        height: int,
        fps: int,
        crf: int,
        preset: str,
        threads: int = 0,
    ) -> None:
        spec = CODECS[codec]
        if codec == "av1":
            os.environ.setdefault("SVT_LOG", "1")  # SVT-AV1 prints its banner to stderr unless told errors only
        # +faststart moves the index to the front so a browser plays while downloading.
        options = {"movflags": "+faststart"} if container_format in ("mp4", "mov") else {}
        super().__init__(path, CONTAINERS[container_format], options)
        stream: Any = self.container.add_stream(spec.encoder, rate=Fraction(fps, 1))  # a VideoStream
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = spec.options(crf, preset)
        if spec.tag:
            stream.codec_tag = spec.tag
        ctx = stream.codec_context
        ctx.thread_count = threads  # 0: one per core
        # PyAV defaults to SLICE, which libavcodec maps to x264's slower sliced threads;
        # AUTO gives frame threads like the ffmpeg CLI (about 25 % faster here).
        ctx.thread_type = "AUTO"
        ctx.colorspace, ctx.color_range = 6, 1  # SMPTE 170M (BT.601) matrix, limited ("tv") range
        ctx.color_primaries, ctx.color_trc = 1, 1  # sRGB photos have BT.709 primaries
        self.stream = stream

    def planes_from_rgb(self, rgb: np.ndarray[Any, np.dtype[np.uint8]]) -> np.ndarray[Any, np.dtype[np.uint8]]:
        return np.asarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), np.uint8)

    def frame_from_planes(self, planes: np.ndarray[Any, np.dtype[np.uint8]]) -> av.VideoFrame:
        return av.VideoFrame.from_ndarray(planes, format="yuv420p")

    def blank(self) -> tuple[av.VideoFrame, list[np.ndarray[Any, np.dtype[np.uint8]]]]:
        """A new frame and writable views of its Y, U, V planes, to render into without a copy."""
        frame = av.VideoFrame(self.stream.width, self.stream.height, "yuv420p")
        views = []
        for plane in frame.planes:
            rows = np.frombuffer(memoryview(plane), np.uint8).reshape(plane.height, plane.line_size)
            views.append(rows[:, : plane.width])
        return frame, views


class GifEncoder(_Encoder):
    """GIF through one palette chosen from the photo itself, looping forever.

    Every frame is a resampling of the same photo, so the photo's own colours
    are the right palette: chosen once (median cut), applied to every frame
    with Floyd-Steinberg dithering. No per-frame palette flicker.
    """

    pixel_format = "rgb24"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        fps: int,
        palette_source: np.ndarray[Any, np.dtype[np.uint8]],
    ) -> None:
        super().__init__(path, "gif", {"loop": "0"})
        stream = self.container.add_stream("gif", rate=Fraction(fps, 1))
        stream.width, stream.height, stream.pix_fmt = width, height, "pal8"
        self.stream = stream
        sample = Image.fromarray(palette_source)
        sample.thumbnail((512, 512), Image.Resampling.BOX)
        self._palette_image = sample.quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        rgb = np.zeros((256, 3), np.uint8)
        flat = np.frombuffer(bytes(self._palette_image.getpalette("RGB") or []), np.uint8).reshape(-1, 3)[:256]
        rgb[: len(flat)] = flat
        # PyAV reads pal8 palette rows as big-endian ARGB.
        self._palette = np.hstack([np.full((256, 1), 255, np.uint8), rgb])

    def frame_from_rgb(self, data: np.ndarray[Any, np.dtype[np.uint8]]) -> av.VideoFrame:
        indices = Image.fromarray(data).quantize(palette=self._palette_image, dither=Image.Dither.FLOYDSTEINBERG)
        pal8: Any = (np.asarray(indices, np.uint8), self._palette)  # PyAV takes (indices, palette) for pal8
        return av.VideoFrame.from_ndarray(pal8, format="pal8")


def open_encoder(
    path: str | os.PathLike[str],
    *,
    output_format: str,
    width: int,
    height: int,
    fps: int,
    crf: int,
    preset: str,
    palette_source: np.ndarray[Any, np.dtype[np.uint8]] | None = None,
    threads: int = 0,
    video_codec: str | None = None,
) -> _Encoder:
    """The encoder for ``output_format`` (``mp4``, ``mov``, ``webm`` or ``gif``); ``video_codec`` for mp4/mov."""
    if output_format == "gif":
        if palette_source is None:
            raise ValueError("a GIF needs a palette source image")
        return GifEncoder(path, width=width, height=height, fps=fps, palette_source=palette_source)
    return YuvEncoder(
        path,
        container_format=output_format,
        codec="vp9" if output_format == "webm" else video_codec or "h264",
        width=width,
        height=height,
        fps=fps,
        crf=crf,
        preset=preset,
        threads=threads,
    )
