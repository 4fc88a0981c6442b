"""Camera motion as a continuous function of time.

A motion path maps normalised time ``t`` in [0, 1] (first frame to last) to a
:class:`Camera`: a zoom factor, a roll angle and a pan offset. Every quantity
is a smooth float function of ``t`` with the smoothstep ease-in-out
``e(t) = 3t^2 - 2t^3``: the camera starts and stops at zero speed, its speed is
a plain parabola (so a pan's frame-to-frame shift is exactly a quadratic in
time, which is what the jitter benchmark fits), and no value is ever rounded
to whole pixels.

``motionStrength`` s in 1..100, with f = s / 100, maps as follows (100 is the
strongest move that still looks like a camera and not an effect):

=========  =====================================================  ============
motion     what moves                                             at s=50/100
=========  =====================================================  ============
zoom       zoom factor 1 -> 1 + 0.5f (``in``), reverse (``out``);  1.25x / 1.5x
           interpolated geometrically so the speed looks even
pan        camera travels 0.30f of the output width (left/right)   15% / 30%
           or height (up/down); the camera moves *that way*, so
           the picture slides the opposite way on screen
rotation   the picture turns through 15f degrees in total, about   7.5 / 15 deg
           the centre: ``right`` clockwise, ``left`` counter-
           clockwise as seen on screen
complex    zoom 1 -> 1 + 0.3f, drift 0.12f of the frame, and a     1.15x, 6%,
           roll of 4f degrees, together; ``in``/``out`` pick the   2 deg /
           zoom sense (drift to the right), ``left``/``right``/    1.3x, 12%,
           ``up``/``down`` zoom in while drifting that way         4 deg
=========  =====================================================  ============

The renderer adds a constant base zoom (computed once from the whole path) so
the output frame stays inside the photo at every instant: rotation and pan
never show a border, whatever the aspect ratios of the photo and the output.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

ZOOM_PER_STRENGTH = 0.5
PAN_PER_STRENGTH = 0.30
ROTATION_DEG_PER_STRENGTH = 15.0
COMPLEX_ZOOM, COMPLEX_DRIFT, COMPLEX_ROLL_DEG = 0.3, 0.12, 4.0


@dataclass(frozen=True)
class Camera:
    """Where the camera is at one instant, relative to the cover-fitted photo."""

    zoom: float = 1.0  # >= 1; multiplies the base (cover) scale
    angle: float = 0.0  # radians; positive turns the picture clockwise on screen
    x: float = 0.0  # camera centre offset in output pixels (at zoom 1); + is right
    y: float = 0.0  # + is down


MotionPath = Callable[[float], Camera]

_UNIT = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}


def ease(t: float) -> float:
    """Smoothstep ease-in-out: 0 -> 1 with zero speed at both ends."""
    t = min(1.0, max(0.0, t))
    return t * t * (3.0 - 2.0 * t)


def motion_path(motion_type: str, direction: str, strength: int, width: int, height: int) -> MotionPath:
    """The camera path for a validated motion (see the table above)."""
    f = strength / 100.0

    if motion_type == "zoom":
        top = 1.0 + ZOOM_PER_STRENGTH * f
        sense = 1.0 if direction == "in" else -1.0
        return lambda t: Camera(zoom=top ** (ease(t) if sense > 0 else 1.0 - ease(t)))

    if motion_type == "pan":
        ux, uy = _UNIT[direction]
        travel = PAN_PER_STRENGTH * f * (width if ux else height)
        return lambda t: Camera(x=ux * travel * (ease(t) - 0.5), y=uy * travel * (ease(t) - 0.5))

    if motion_type == "rotation":
        sweep = math.radians(ROTATION_DEG_PER_STRENGTH * f) * (1.0 if direction == "right" else -1.0)
        return lambda t: Camera(angle=sweep * (ease(t) - 0.5))

    if motion_type == "complex":
        top = 1.0 + COMPLEX_ZOOM * f
        zoom_out = direction == "out"
        ux, uy = _UNIT.get(direction, (1.0, 0.0))
        drift = COMPLEX_DRIFT * f * (width * abs(ux) + height * abs(uy))
        roll = math.radians(COMPLEX_ROLL_DEG * f) * (-1.0 if direction in ("left", "up", "out") else 1.0)

        def complex_path(t: float) -> Camera:
            e = ease(t)
            return Camera(
                zoom=top ** (1.0 - e if zoom_out else e),
                angle=roll * (e - 0.5),
                x=ux * drift * (e - 0.5),
                y=uy * drift * (e - 0.5),
            )

        return complex_path

    raise ValueError(f"unknown motion type {motion_type!r}")


def frame_times(frame_count: int) -> list[float]:
    """Normalised time of each frame: the first at 0, the last at 1."""
    if frame_count == 1:
        return [0.0]
    return [i / (frame_count - 1) for i in range(frame_count)]
