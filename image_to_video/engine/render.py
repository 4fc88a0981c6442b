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

import cv2
import numpy as np

from .motion import Camera, MotionPath

SAMPLES = 256  # points of the path checked when sizing the base zoom
EDGE_MARGIN = 3.0  # source pixels kept clear of the edge, for the interpolation taps
INTERPOLATION = cv2.INTER_LINEAR


def required_base_zoom(path: MotionPath, src_w: float, src_h: float, width: int, height: int) -> float:
    """Smallest constant zoom for which every frame lies inside the photo.

    In output pixels at zoom 1 the photo is ``sx`` x ``sy`` (cover fit); a frame
    rotated by ``a`` has half-extents ``ax``, ``ay``; its centre sits at the pan
    offset ``(x, y)`` divided by the base zoom ``b``. Coverage along x needs
    ``|x|/b + ax/(b*z) <= sx/2``, i.e. ``b >= (2|x| + 2ax/z) / sx``; same for y.
    """
    cover = max(width / src_w, height / src_h)
    sx = cover * (src_w - EDGE_MARGIN)
    sy = cover * (src_h - EDGE_MARGIN)
    need = 1.0
    for i in range(SAMPLES + 1):
        cam = path(i / SAMPLES)
        c, s = abs(math.cos(cam.angle)), abs(math.sin(cam.angle))
        ax = c * width / 2 + s * height / 2
        ay = s * width / 2 + c * height / 2
        need = max(need, (2 * abs(cam.x) + 2 * ax / cam.zoom) / sx, (2 * abs(cam.y) + 2 * ay / cam.zoom) / sy)
    return need * (1.0 + 1e-6)


def prescale_size(path: MotionPath, src_w: int, src_h: int, width: int, height: int) -> tuple[int, int]:
    """Photo size at which the most zoomed-in frame samples it about 1:1.

    Never larger than the photo: small photos are upsampled by the warp itself.
    """
    base = required_base_zoom(path, src_w, src_h, width, height)
    peak_zoom = max(path(i / SAMPLES).zoom for i in range(SAMPLES + 1))
    factor = min(1.0, max(width / src_w, height / src_h) * base * peak_zoom)
    return max(2, math.ceil(src_w * factor)), max(2, math.ceil(src_h * factor))


def prescale_image(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Area-filtered downscale to ``size`` (the photo itself when not larger)."""
    h, w = rgb.shape[:2]
    if size[0] >= w or size[1] >= h:
        return rgb
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def camera_matrix(cam: Camera, base_zoom: float, src_w: int, src_h: int, width: int, height: int) -> np.ndarray:
    """2x3 affine taking output pixel centres to source pixel coordinates."""
    cover = max(width / src_w, height / src_h)
    k = 1.0 / (cover * base_zoom * cam.zoom)
    c, s = math.cos(cam.angle), math.sin(cam.angle)
    a = np.array([[c * k, s * k], [-s * k, c * k]])  # k * R(-angle): undo the on-screen turn
    pan_scale = cover * base_zoom  # pan offsets are output pixels at zoom 1
    centre_src = np.array([(src_w - 1) / 2 + cam.x / pan_scale, (src_h - 1) / 2 + cam.y / pan_scale])
    centre_out = np.array([(width - 1) / 2, (height - 1) / 2])
    return np.hstack([a, (centre_src - a @ centre_out)[:, None]])


def _chroma_matrix(m: np.ndarray) -> np.ndarray:
    """The luma matrix re-expressed on half-resolution (centre-sited) planes."""
    a, b = m[:, :2], m[:, 2]
    return np.hstack([a, ((a @ np.array([0.5, 0.5]) + b - 0.5) / 2)[:, None]])


class FrameRenderer:
    """Renders frame ``i`` of ``n`` as I420 (``yuv420p``) or packed ``rgb24``."""

    def __init__(
        self,
        rgb: np.ndarray,
        path: MotionPath,
        width: int,
        height: int,
        frame_count: int,
        pixel_format: str = "yuv420p",
    ) -> None:
        if pixel_format not in ("yuv420p", "rgb24"):
            raise ValueError(f"unsupported pixel format {pixel_format}")
        self.path = path
        self.width, self.height, self.frame_count = width, height, frame_count
        self.pixel_format = pixel_format
        h, w = rgb.shape[:2]
        if pixel_format == "yuv420p":
            h, w = h - h % 2, w - w % 2  # I420 needs even sides; one pixel row/column is nothing
            i420 = cv2.cvtColor(np.ascontiguousarray(rgb[:h, :w]), cv2.COLOR_RGB2YUV_I420)
            self._y = i420[:h]
            chroma = i420[h:].reshape(2, h // 2, w // 2)
            self._u, self._v = np.ascontiguousarray(chroma[0]), np.ascontiguousarray(chroma[1])
        else:
            self._rgb = np.ascontiguousarray(rgb)
        self.src_w, self.src_h = w, h
        self.base_zoom = required_base_zoom(path, w, h, width, height)

    def matrix(self, index: int) -> np.ndarray:
        t = 0.0 if self.frame_count == 1 else index / (self.frame_count - 1)
        return camera_matrix(self.path(t), self.base_zoom, self.src_w, self.src_h, self.width, self.height)

    def render(self, index: int, out: list[np.ndarray] | None = None) -> list[np.ndarray]:
        """Warp frame ``index`` into ``out`` (plane arrays, e.g. views of an AVFrame).

        yuv420p: ``[Y (h, w), U (h/2, w/2), V (h/2, w/2)]``; rgb24: ``[(h, w, 3)]``.
        Row strides may exceed the width (libav pads lines); OpenCV honours them.
        """
        m = self.matrix(index)
        width, height = self.width, self.height
        if self.pixel_format == "rgb24":
            sources, matrices, sizes = [self._rgb], [m], [(width, height)]
        else:
            mc = _chroma_matrix(m)
            sources, matrices = [self._y, self._u, self._v], [m, mc, mc]
            sizes = [(width, height), (width // 2, height // 2), (width // 2, height // 2)]
        if out is None:
            out = [np.empty((h, w) + src.shape[2:], np.uint8) for src, (w, h) in zip(sources, sizes, strict=True)]
        for src, matrix, size, dst in zip(sources, matrices, sizes, out, strict=True):
            cv2.warpAffine(
                src, matrix, size, dst=dst, flags=INTERPOLATION | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_CONSTANT
            )
        return out
