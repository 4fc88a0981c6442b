"""Camera paths as keyframes: what every render follows, and what a job records.

A :class:`Camera` is absolute: its zoom is relative to the cover fit of the
whole photo (1 = the largest frame of the output's shape inside the photo),
its centre is the photo point at the frame centre (0..1 of the photo's width
and height), its angle turns the picture (positive: clockwise on screen).

A :class:`CameraPath` interpolates between :class:`Keyframe` s without ever
rounding: the zoom geometrically (so its speed looks even), the angle linearly
in the eased time, and the centre linearly in ``1/zoom`` while the zoom
changes -- which is a zoom about a fixed photo point, and makes every frame
edge a linear function of ``1/zoom``: if both ends of a segment lie inside
the photo, so does every frame between them (linearly in eased time when the
zoom is constant). A keyframe's ``ease`` governs the segment that leaves it:
``linear`` (constant speed), ``smooth`` (smoothstep: starts and stops at rest)
or ``hold`` (stays put until the next keyframe's time).

Frame ``i`` of a clip at ``fps`` shows the path at ``i / fps`` seconds, its
presentation time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

EASES = ("linear", "smooth", "hold")


def smoothstep(s: float) -> float:
    """Ease-in-out from 0 to 1 with zero speed at both ends."""
    s = min(1.0, max(0.0, s))
    return s * s * (3.0 - 2.0 * s)


@dataclass(frozen=True)
class Camera:
    zoom: float = 1.0
    x: float = 0.5
    y: float = 0.5
    angle: float = 0.0  # radians


@dataclass(frozen=True)
class Keyframe:
    t: float  # seconds
    zoom: float = 1.0
    x: float = 0.5
    y: float = 0.5
    angle: float = 0.0  # degrees, as on the wire
    ease: str = "smooth"

    def as_dict(self) -> dict[str, Any]:
        return {
            "t": round(self.t, 6),
            "zoom": round(self.zoom, 6),
            "x": round(self.x, 6),
            "y": round(self.y, 6),
            "angle": round(self.angle, 6),
            "ease": self.ease,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Keyframe:
        return cls(
            t=float(data["t"]),
            zoom=float(data.get("zoom", 1.0)),
            x=float(data.get("x", 0.5)),
            y=float(data.get("y", 0.5)),
            angle=float(data.get("angle", 0.0)),
            ease=str(data.get("ease", "smooth")),
        )


class CameraPath:
    """A camera at any time, from two or more keyframes in increasing time."""

    def __init__(self, keyframes: Sequence[Keyframe]) -> None:
        if len(keyframes) < 1:
            raise ValueError("a camera path needs a keyframe")
        self.keyframes = tuple(keyframes)

    def __call__(self, seconds: float) -> Camera:
        keys = self.keyframes
        if seconds <= keys[0].t:
            return _camera(keys[0])
        for a, b in zip(keys, keys[1:], strict=False):
            if seconds < b.t:
                return _between(a, b, (seconds - a.t) / (b.t - a.t))
        return _camera(keys[-1])

    def sample(self, seconds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The camera at many times at once, as arrays (zoom, x, y, angle in radians): what planning checks."""
        keys = self.keyframes
        first = keys[0]
        zoom = np.full(seconds.shape, float(first.zoom))
        x, y = np.full(seconds.shape, float(first.x)), np.full(seconds.shape, float(first.y))
        angle = np.full(seconds.shape, math.radians(first.angle))
        for a, b in zip(keys, keys[1:], strict=False):
            inside = (seconds >= a.t) & (seconds < b.t)
            if a.ease == "hold" or not inside.any():
                zoom[inside], x[inside], y[inside], angle[inside] = a.zoom, a.x, a.y, math.radians(a.angle)
                continue
            s = np.clip((seconds[inside] - a.t) / (b.t - a.t), 0.0, 1.0)
            e = s * s * (3.0 - 2.0 * s) if a.ease == "smooth" else s
            z = a.zoom ** (1.0 - e) * b.zoom**e
            if abs(math.log(b.zoom / a.zoom)) > 1e-12:
                p = (1.0 / a.zoom - 1.0 / z) / (1.0 / a.zoom - 1.0 / b.zoom)
            else:
                p = e
            zoom[inside], x[inside], y[inside] = z, a.x + (b.x - a.x) * p, a.y + (b.y - a.y) * p
            angle[inside] = np.radians(a.angle + (b.angle - a.angle) * e)
        last = keys[-1]
        after = seconds >= last.t
        zoom[after], x[after], y[after], angle[after] = last.zoom, last.x, last.y, math.radians(last.angle)
        return zoom, x, y, angle

    def as_list(self) -> list[dict[str, Any]]:
        return [k.as_dict() for k in self.keyframes]


def _camera(k: Keyframe) -> Camera:
    return Camera(zoom=k.zoom, x=k.x, y=k.y, angle=math.radians(k.angle))


def _between(a: Keyframe, b: Keyframe, s: float) -> Camera:
    if a.ease == "hold":
        return _camera(a)
    e = smoothstep(s) if a.ease == "smooth" else min(1.0, max(0.0, s))
    zoom = a.zoom ** (1.0 - e) * b.zoom**e
    if abs(math.log(b.zoom / a.zoom)) > 1e-12:
        p = (1.0 / a.zoom - 1.0 / zoom) / (1.0 / a.zoom - 1.0 / b.zoom)
    else:
        p = e
    return Camera(
        zoom=zoom,
        x=a.x + (b.x - a.x) * p,
        y=a.y + (b.y - a.y) * p,
        angle=math.radians(a.angle + (b.angle - a.angle) * e),
    )
