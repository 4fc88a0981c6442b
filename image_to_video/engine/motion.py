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

A preset move is two keyframes eased between (see :mod:`.camera`);
:mod:`.framing` places them around the focus and adds a constant base zoom so
the output frame stays inside the photo at every instant: rotation and pan
never show a border, whatever the aspect ratios of the photo and the output.
"""

from __future__ import annotations

from dataclasses import dataclass

from .camera import smoothstep

ZOOM_PER_STRENGTH = 0.5
PAN_PER_STRENGTH = 0.30
ROTATION_DEG_PER_STRENGTH = 15.0
COMPLEX_ZOOM, COMPLEX_DRIFT, COMPLEX_ROLL_DEG = 0.3, 0.12, 4.0


@dataclass(frozen=True)
class MotionEnd:
    """One end of a preset move, relative to where the framing puts the camera.

    ``zoom`` multiplies the base zoom; ``x``/``y`` are offsets of the frame
    centre in output pixels at zoom 1 (so a pan's travel is a fraction of the
    frame, whatever the photo); ``angle`` is in degrees, positive clockwise.
    """

    zoom: float = 1.0
    angle: float = 0.0
    x: float = 0.0
    y: float = 0.0


_UNIT = {"left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}


def ease(t: float) -> float:
    """Smoothstep ease-in-out: 0 -> 1 with zero speed at both ends."""
    return smoothstep(t)


def motion_ends(
    motion_type: str, direction: str, strength: int, width: int, height: int
) -> tuple[MotionEnd, MotionEnd]:
    """Where a validated preset move starts and ends (see the table above); it is eased between."""
    f = strength / 100.0

    if motion_type == "zoom":
        closest = MotionEnd(zoom=1.0 + ZOOM_PER_STRENGTH * f)
        return (MotionEnd(), closest) if direction == "in" else (closest, MotionEnd())

    if motion_type == "pan":
        ux, uy = _UNIT[direction]
        half = PAN_PER_STRENGTH * f * (width if ux else height) / 2
        return MotionEnd(x=-ux * half, y=-uy * half), MotionEnd(x=ux * half, y=uy * half)

    if motion_type == "rotation":
        half_sweep = ROTATION_DEG_PER_STRENGTH * f / 2 * (1.0 if direction == "right" else -1.0)
        return MotionEnd(angle=-half_sweep), MotionEnd(angle=half_sweep)

    if motion_type == "complex":
        top = 1.0 + COMPLEX_ZOOM * f
        ux, uy = _UNIT.get(direction, (1.0, 0.0))
        half_drift = COMPLEX_DRIFT * f * (width * abs(ux) + height * abs(uy)) / 2
        half_roll = COMPLEX_ROLL_DEG * f / 2 * (-1.0 if direction in ("left", "up", "out") else 1.0)
        zooms = (top, 1.0) if direction == "out" else (1.0, top)
        return (
            MotionEnd(zoom=zooms[0], angle=-half_roll, x=-ux * half_drift, y=-uy * half_drift),
            MotionEnd(zoom=zooms[1], angle=half_roll, x=ux * half_drift, y=uy * half_drift),
        )

    raise ValueError(f"unknown motion type {motion_type!r}")
