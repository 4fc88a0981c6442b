"""Frames from one photo and a motion path: one affine warp per plane per frame.

The photo is scaled down once with area filtering (no aliasing) to about the
resolution the most zoomed-in frame needs, converted once to the encoder's
pixel layout, and then every frame is a single sub-pixel affine warp of each
plane. For H.264 the source is kept as I420 (Y at full, U and V at half
resolution), so a frame costs 1.5 bytes per pixel of warping and no colour
conversion: exactly what libx264 wants, handed over without a copy through
swscale.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import cv2
import numpy as np

from .camera import Camera, CameraPath

INTERPOLATION = cv2.INTER_LINEAR


def prescale_size(
    path: CameraPath, times: Sequence[float], src_w: int, src_h: int, width: int, height: int
) -> tuple[int, int]:
    """Photo size at which the most zoomed-in frame samples it about 1:1.

    Never larger than the photo: small photos are upsampled by the warp itself.
    """
    peak_zoom = float(path.sample(np.asarray(times, dtype=np.float64))[0].max())
    factor = min(1.0, max(width / src_w, height / src_h) * peak_zoom)
    return max(2, math.ceil(src_w * factor - 1e-6)), max(2, math.ceil(src_h * factor - 1e-6))


def prescale_image(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-filtered downscale to ``size`` (the photo itself when not larger)."""
    h, w = rgb.shape[:2]
    if size[0] >= w or size[1] >= h:
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def camera_matrix(cam: Camera, src_w: int, src_h: int, width: int, height: int) -> np.ndarray:
    """2x3 affine taking output pixel centres to source pixel coordinates."""
    cover = max(width / src_w, height / src_h)
    k = 1.0 / (cover * cam.zoom)
    c, s = math.cos(cam.angle), math.sin(cam.angle)
    a = np.array([[c * k, s * k], [-s * k, c * k]])  # k * R(-angle): undo the on-screen turn
    centre_src = np.array([cam.x * src_w - 0.5, cam.y * src_h - 0.5])  # photo fractions to pixel centres
    centre_out = np.array([(width - 1) / 2, (height - 1) / 2])
    return np.hstack([a, (centre_src - a @ centre_out)[:, None]])


def _chroma_matrix(m: np.ndarray) -> np.ndarray:
    """The luma matrix re-expressed on half-resolution (centre-sited) planes."""
    a, b = m[:, :2], m[:, 2]
    return np.hstack([a, ((a @ np.array([0.5, 0.5]) + b - 0.5) / 2)[:, None]])


MAX_BLUR_SAMPLES = 16


class FrameRenderer:
    """Renders frame ``i`` of ``n`` as I420 (``yuv420p``) or packed ``rgb24``."""

    def __init__(
        self,
        rgb: np.ndarray,
        path: CameraPath,
        width: int,
        height: int,
        fps: float,
        pixel_format: str = "yuv420p",
        shutter: float = 0.0,
    ) -> None:
        if pixel_format not in ("yuv420p", "rgb24"):
            raise ValueError(f"unsupported pixel format {pixel_format}")
        self.path = path
        self.shutter = shutter
        self.width, self.height, self.fps = width, height, fps
        self.pixel_format = pixel_format
        h, w = rgb.shape[:2]
        if pixel_format == "yuv420p":
            # I420 needs even sides: an odd photo gets its last row or column repeated, outside the
            # photo's own extent (which the camera never leaves), so no coordinate moves.
            padded = cv2.copyMakeBorder(rgb, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE) if (w | h) % 2 else rgb
            ph, pw = padded.shape[:2]
            i420 = cv2.cvtColor(np.ascontiguousarray(padded), cv2.COLOR_RGB2YUV_I420)
            self._y = i420[:ph]
            chroma = i420[ph:].reshape(2, ph // 2, pw // 2)
            self._u, self._v = np.ascontiguousarray(chroma[0]), np.ascontiguousarray(chroma[1])
        else:
            self._rgb = np.ascontiguousarray(rgb)
        self.src_w, self.src_h = w, h

    def matrix(self, index: int) -> np.ndarray:
        """Frame ``index`` shows the path at its presentation time, ``index / fps``."""
        return self._matrix_at(index / self.fps)

    def _matrix_at(self, seconds: float) -> np.ndarray:
        return camera_matrix(self.path(seconds), self.src_w, self.src_h, self.width, self.height)

    def sample_times(self, index: int) -> list[float]:
        """The instants frame ``index`` averages: its own time without blur, else enough sub-frame times
        across the open shutter (centred on it) that the picture moves at most ~0.75 px between two of them.

        The count follows the camera's speed over the shutter, so a still camera costs one warp and a fast
        pan up to MAX_BLUR_SAMPLES.
        """
        t = index / self.fps
        if self.shutter <= 0:
            return [t]
        half = self.shutter / self.fps / 2
        before, after = self._matrix_at(t - half), self._matrix_at(t + half)
        corners = np.array(
            [[0, 0, 1], [self.width - 1, 0, 1], [0, self.height - 1, 1], [self.width - 1, self.height - 1, 1]]
        )
        moved_src = np.abs(corners @ (after - before).T).max()  # in photo pixels
        k = float(np.sqrt(abs(np.linalg.det(self._matrix_at(t)[:, :2]))))  # photo pixels per output pixel
        samples = int(min(MAX_BLUR_SAMPLES, max(1, math.ceil(moved_src / max(k, 1e-9) / 0.75))))
        if samples == 1:
            return [t]
        return [t - half + (j + 0.5) * 2 * half / samples for j in range(samples)]

    def render(self, index: int, out: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Warp frame ``index`` into ``out`` (plane arrays, e.g. views of an AVFrame).

        yuv420p: ``[Y (h, w), U (h/2, w/2), V (h/2, w/2)]``; rgb24: ``[(h, w, 3)]``.
        Row strides may exceed the width (libav pads lines); OpenCV honours them.
        """
        width, height = self.width, self.height
        if self.pixel_format == "rgb24":
            sources = [self._rgb]
            sizes = [(width, height)]
        else:
            sources = [self._y, self._u, self._v]
            sizes = [(width, height), (width // 2, height // 2), (width // 2, height // 2)]
        if out is None:
            out = [np.empty((h, w) + src.shape[2:], np.uint8) for src, (w, h) in zip(sources, sizes, strict=True)]
        times = self.sample_times(index)
        sums = [np.zeros(dst.shape, np.float32) for dst in out] if len(times) > 1 else None
        for seconds in times:
            m = self._matrix_at(seconds)
            if self.pixel_format == "rgb24":
                matrices = [m]
            else:
                mc = _chroma_matrix(m)
                matrices = [m, mc, mc]
            for plane, (src, matrix, size, dst) in enumerate(zip(sources, matrices, sizes, out, strict=True)):
                cv2.warpAffine(
                    src,
                    matrix,
                    size,
                    dst=dst,
                    flags=INTERPOLATION | cv2.WARP_INVERSE_MAP,
                    borderMode=cv2.BORDER_CONSTANT,
                )
                if sums is not None:
                    sums[plane] += dst
        if sums is not None:  # the shutter's average, rounded back into the frame's planes
            for total, dst in zip(sums, out, strict=True):
                np.copyto(dst, np.clip(total / len(times) + 0.5, 0, 255), casting="unsafe")
        return out
