"""Framing: turn a move (preset or keyframed), a focus and a subject into a camera path.

Everything here is in photo fractions (0..1 of the width and height). The
hard rule is that no frame shows a border; then, where the frames can, the
subject box stays inside every frame; then the focus is as near the frame
centre as the move allows:

- zoom: the far end is placed around the focus, the close end centred on it
  (the close zoom raised, up to :data:`MAX_FOCUS_ZOOM`, when the focus is too
  near an edge to be centred at the requested zoom, but never so far that the
  subject box would no longer fit); between them the camera zooms about a
  fixed point, so every frame between two good ends is good.
- pan, rotation, complex: the move is laid around one anchor, the focus
  where it fits; the base zoom is the smallest that covers the photo, raised
  (by up to :data:`MAX_EXTRA_BASE`) when that keeps the subject, or at least
  the focus point, inside every frame.
- keyframes: where the user put them; the base zoom is raised when a frame
  would show a border (keyframes moved inward only past :data:`MAX_KEYFRAME_BASE`),
  and the framing record says so.

The constraints are checked on the very frames rendered (frame ``i`` at
``i / fps`` seconds), not on a sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .camera import CameraPath, Keyframe
from .errors import InvalidImage
from .motion import MotionEnd, motion_ends
from .params import MotionParams
from .subject import Subject

EDGE_MARGIN = 2.0  # pixels kept clear of the edge for the interpolation taps (see _Geometry.margin)
MAX_FOCUS_ZOOM = 3.0
MAX_EXTRA_BASE = 1.6
MAX_KEYFRAME_BASE = 2.0
_EPS = 1e-9


@dataclass(frozen=True)
class Plan:
    path: CameraPath
    framing: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Geometry:
    """The output frame's size in photo fractions, for a photo of ``w`` x ``h`` pixels."""

    out_w: int
    out_h: int
    w: int
    h: int

    @property
    def cover(self) -> float:
        return max(self.out_w / self.w, self.out_h / self.h)

    @property
    def margin(self) -> tuple[float, float]:
        """:data:`EDGE_MARGIN` output pixels at zoom 1, or photo pixels when the photo is smaller than the frame.

        Either way it does not depend on how far the photo was pre-scaled, so a
        recorded path plans the same on any copy of the photo.
        """
        scale = min(1.0, self.cover)
        return EDGE_MARGIN / (self.w * scale), EDGE_MARGIN / (self.h * scale)

    def extents(self, zoom: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, ...]:
        """Half-extents of each frame: its bounding box (hx, hy) and the upright box inside it (ix, iy)."""
        c, s = np.abs(np.cos(angle)), np.abs(np.sin(angle))
        k = 1.0 / (self.cover * zoom)
        half_w, half_h = self.out_w / 2 * k, self.out_h / 2 * k
        hx, hy = (c * half_w + s * half_h) / self.w, (s * half_w + c * half_h) / self.h
        ix, iy = np.maximum(0, c * half_w - s * half_h) / self.w, np.maximum(0, c * half_h - s * half_w) / self.h
        return hx, hy, ix, iy


class _Interval:
    """Where an anchor may go along one axis: the intersection of every frame's constraint."""

    def __init__(self, lo: float, hi: float) -> None:
        self.lo, self.hi = lo, hi

    @property
    def empty(self) -> bool:
        return self.lo > self.hi + _EPS

    def __and__(self, other: _Interval) -> _Interval:
        return _Interval(max(self.lo, other.lo), min(self.hi, other.hi))

    def nearest(self, value: float) -> float:
        return min(max(value, self.lo), self.hi) if self.lo <= self.hi else (self.lo + self.hi) / 2


def _frame_times(params: MotionParams) -> np.ndarray:
    fps = params.fps or 30
    return np.arange(params.frame_count) / fps


def plan_camera(params: MotionParams, src_w: int, src_h: int, subject: Subject | None = None) -> Plan:
    """The camera path for validated ``params`` on a ``src_w`` x ``src_h`` photo."""
    plan = _planned(params, src_w, src_h, subject)
    if params.loop:
        plan = replace(plan, path=looped(plan.path, params.frame_count / (params.fps or 30)))
    box = plan.framing.get("box")
    if box:
        geo = _Geometry(params.width, params.height, src_w, src_h)
        share = subject_share(plan.path, geo, tuple(box), _frame_times(params))
        plan = replace(plan, framing={**plan.framing, "subjectShare": round(share, 4)})
    return plan


def subject_share(path: CameraPath, geo: _Geometry, box: tuple[float, ...], times: np.ndarray) -> float:
    """The fraction of the frames at ``times`` that hold the whole subject ``box`` (photo fractions)."""
    zoom, x, y, angle = path.sample(times)
    _, _, ix, iy = geo.extents(zoom, angle)
    eps = 1e-6
    inside = (x - ix <= box[0] + eps) & (box[2] - eps <= x + ix) & (y - iy <= box[1] + eps) & (box[3] - eps <= y + iy)
    return float(inside.mean()) if len(times) else 1.0


def looped(path: CameraPath, period: float) -> CameraPath:
    """``path`` there and back within ``period`` seconds: forward in the first half, back in the second,
    so the frame after the last (at ``period``) is the first again.

    Each segment going back is the same segment reversed (the same ease, which is symmetric in time), so
    the camera visits exactly the states the forward path planned (no border, the subject kept) and the
    step from the last frame to the first is one ordinary step of the path near its start.
    """
    keys = path.keyframes
    if len(keys) < 2:
        return path
    scale = (period / 2) / (keys[-1].t or period)
    forward = [replace(k, t=k.t * scale) for k in keys[:-1]]
    turn = replace(keys[-1], t=period / 2, ease=keys[-2].ease)
    back = [
        replace(keys[i], t=period - keys[i].t * scale, ease=keys[i - 1].ease if i else "smooth")
        for i in range(len(keys) - 2, -1, -1)
    ]
    return CameraPath([*forward, turn, *back])


def _planned(params: MotionParams, src_w: int, src_h: int, subject: Subject | None) -> Plan:
    geo = _Geometry(params.width, params.height, src_w, src_h)
    if params.keyframes:
        return _keyframed(params, geo)
    focus, record = _focus(params, subject)
    box = subject.box if subject is not None and record["method"] in ("face", "saliency") else None
    assert params.motion_direction is not None
    ends = motion_ends(params.motion_type, params.motion_direction, params.motion_strength, params.width, params.height)
    last = (params.frame_count - 1) / (params.fps or 30)
    if params.motion_type == "zoom":
        plan = _zoom(ends, geo, focus, box, last)
    else:
        plan = _anchored(ends, geo, focus, box, _frame_times(params), last)
    return replace(plan, framing={**record, **plan.framing})


def _focus(params: MotionParams, subject: Subject | None) -> tuple[tuple[float, float], dict[str, Any]]:
    focus = params.focus
    if isinstance(focus, tuple):
        return focus, {"requested": "point", "method": "point", "box": None, "confidence": None}
    if focus == "auto" and subject is not None and subject.box is not None and subject.centre is not None:
        return subject.centre, {
            "requested": "auto",
            "method": subject.method,
            "box": [round(v, 4) for v in subject.box],
            "confidence": subject.confidence,
        }
    return (0.5, 0.5), {"requested": focus, "method": "center", "box": None, "confidence": None}


def _record(focus: tuple[float, float], base: float, kept: bool | None, notes: list[str]) -> dict[str, Any]:
    return {
        "focus": {"x": round(focus[0], 4), "y": round(focus[1], 4)},
        "baseZoom": round(base, 4),
        "subjectInFrame": kept,
        "notes": notes,
    }


def _keyframe(t: float, end: MotionEnd, base: float, anchor: tuple[float, float], geo: _Geometry) -> Keyframe:
    scale = geo.cover * base
    return Keyframe(
        t=t,
        zoom=base * end.zoom,
        x=anchor[0] + end.x / (scale * geo.w),
        y=anchor[1] + end.y / (scale * geo.h),
        angle=end.angle,
        ease="smooth",
    )


def _axis_constraints(
    geo: _Geometry,
    zoom: np.ndarray,
    angle: np.ndarray,
    offset: tuple[np.ndarray, np.ndarray],
    focus: tuple[float, float],
    box: tuple[float, float, float, float] | None,
) -> list[tuple[_Interval, _Interval | None, _Interval]]:
    """Per axis: where the anchor keeps every frame inside the photo, the box inside every frame, the focus too."""
    hx, hy, ix, iy = geo.extents(zoom, angle)
    result = []
    for axis, (half, inner, off, margin) in enumerate(
        ((hx, ix, offset[0], geo.margin[0]), (hy, iy, offset[1], geo.margin[1]))
    ):
        covered = _Interval(float(np.max(half + margin - off)), float(np.min(1.0 - half - margin - off)))
        boxed = None
        if box is not None:
            lo_edge, hi_edge = box[axis], box[axis + 2]
            boxed = _Interval(float(np.max(hi_edge - inner - off)), float(np.min(lo_edge + inner - off)))
        pointed = _Interval(float(np.max(focus[axis] - inner - off)), float(np.min(focus[axis] + inner - off)))
        result.append((covered, boxed, pointed))
    return result


def _choose(
    constraints: list[tuple[_Interval, _Interval | None, _Interval]], focus: tuple[float, float]
) -> tuple[tuple[float, float], bool | None, bool] | None:
    """The anchor nearest the focus that covers; keeping the box, else the focus point, if possible."""
    if any(covered.empty for covered, _, _ in constraints):
        return None
    has_box = False if constraints[0][1] is not None else None
    for level in ("box", "point"):
        chosen = []
        for axis, (covered, boxed, pointed) in enumerate(constraints):
            allowed = covered & pointed
            if level == "box":
                if boxed is None:
                    break
                allowed = allowed & boxed
            if allowed.empty:
                break
            chosen.append(allowed.nearest(focus[axis]))
        else:
            return (chosen[0], chosen[1]), (True if level == "box" else has_box), True
    anchor = (constraints[0][0].nearest(focus[0]), constraints[1][0].nearest(focus[1]))
    return anchor, has_box, False


def _anchored(
    ends: tuple[MotionEnd, MotionEnd],
    geo: _Geometry,
    focus: tuple[float, float],
    box: tuple[float, float, float, float] | None,
    times: np.ndarray,
    last: float,
) -> Plan:
    """Pan, rotation, complex: one anchor for the whole move, and the base zoom that lets it work."""

    def attempt(base: float) -> tuple[tuple[float, float], bool | None, bool] | None:
        centred = CameraPath(
            [_keyframe(0.0, ends[0], base, (0.5, 0.5), geo), _keyframe(last, ends[1], base, (0.5, 0.5), geo)]
        )
        zoom, x, y, angle = centred.sample(times)
        offset = (x - 0.5, y - 0.5)
        return _choose(_axis_constraints(geo, zoom, angle, offset, focus, box), focus)

    base_min = _smallest_base(lambda base: attempt(base) is not None, "this move")
    base, choice = base_min, attempt(base_min)
    assert choice is not None
    if not choice[2] or (box is not None and choice[1] is not True):
        # A tighter frame leaves the anchor more room: try a little more zoom for the subject, then the focus.
        best = None
        for step in range(1, 31):
            trial = base_min * (1 + (MAX_EXTRA_BASE - 1) * step / 30)
            found = attempt(trial)
            if found is None:
                continue
            if found[1] is True or (box is None and found[2]):
                best = (trial, found)
                break
            if best is None and found[2] and not choice[2]:
                best = (trial, found)
        if best is not None:
            base, choice = best
    anchor, kept, _ = choice
    path = CameraPath([_keyframe(0.0, ends[0], base, anchor, geo), _keyframe(last, ends[1], base, anchor, geo)])
    notes = [] if base <= base_min * 1.0001 else [f"base zoom raised to {base:.3f} to keep the subject in every frame"]
    return Plan(path, _record(focus, base, kept, notes))


def _smallest_base(fits: Callable[[float], bool], what: str) -> float:
    """The smallest base zoom >= 1 for which ``fits`` holds (it holds for every larger one): grow, then bisect."""
    low, high = 1.0, 1.0
    while not fits(high):
        low, high = high, high * 1.25
        if high > 64:
            raise InvalidImage(f"the photo is too small for {what}: no zoom keeps it inside the photo")
    for _ in range(40 if low < high else 0):
        mid = math.sqrt(low * high)
        low, high = (low, mid) if fits(mid) else (mid, high)
    return high


def _zoom(
    ends: tuple[MotionEnd, MotionEnd],
    geo: _Geometry,
    focus: tuple[float, float],
    box: tuple[float, float, float, float] | None,
    last: float,
) -> Plan:
    """A zoom: far end around the focus, close end centred on it; between them, a zoom about a fixed point."""
    zoom_in = ends[1].zoom >= ends[0].zoom
    far, close = (ends[0].zoom, ends[1].zoom) if zoom_in else (ends[1].zoom, ends[0].zoom)
    hx1, hy1, ix1, iy1 = (float(v) for v in geo.extents(np.array(1.0), np.array(0.0)))
    mx, my = geo.margin
    base = max(1.0, hx1 / (0.5 - mx), hy1 / (0.5 - my)) * (1 + 1e-9)  # the interpolation taps' margin
    far, close = far * base, close * base
    notes: list[str] = []
    room = min(min(focus[0], 1 - focus[0]) - mx, min(focus[1], 1 - focus[1]) - my)
    if room > 0:
        needed = max(hx1 / (min(focus[0], 1 - focus[0]) - mx), hy1 / (min(focus[1], 1 - focus[1]) - my))
    else:
        needed = math.inf
    limit = MAX_FOCUS_ZOOM * base
    if box is not None:
        limit = min(limit, 2 * ix1 / max(box[2] - box[0], _EPS), 2 * iy1 / max(box[3] - box[1], _EPS))
    if needed > close and limit > close:
        close_new = min(needed, limit)
        notes.append(f"zoomed to {close_new / base:.3f} (asked {close / base:.3f}) to centre the focus")
        close = close_new

    def place(zoom: float) -> tuple[tuple[float, float], bool | None, bool]:
        z, a = np.array([zoom]), np.array([0.0])
        found = _choose(_axis_constraints(geo, z, a, (np.zeros(1), np.zeros(1)), focus, box), focus)
        if found is None:  # at zoom >= base a centred frame is inside any photo of MIN_SIDE or more
            raise InvalidImage("the photo is too small for this move: no frame fits inside it")
        return found

    far_anchor, far_kept, _ = place(far)
    close_anchor, close_kept, _ = place(close)
    start = (far, far_anchor) if zoom_in else (close, close_anchor)
    end = (close, close_anchor) if zoom_in else (far, far_anchor)
    path = CameraPath(
        [
            Keyframe(0.0, start[0], start[1][0], start[1][1], 0.0, "smooth"),
            Keyframe(last, end[0], end[1][0], end[1][1], 0.0, "smooth"),
        ]
    )
    kept = None if box is None else bool(far_kept and close_kept)
    return Plan(path, _record(focus, base, kept, notes))


def _keyframed(params: MotionParams, geo: _Geometry) -> Plan:
    """The user's keyframes, with the base zoom raised where a frame would show a border."""
    keys = list(params.keyframes or ())
    times = _frame_times(params)
    notes: list[str] = []

    def fits(base: float, keyframes: list[Keyframe]) -> bool:
        zoom, x, y, angle = CameraPath([replace(k, zoom=k.zoom * base) for k in keyframes]).sample(times)
        hx, hy, _, _ = geo.extents(zoom, angle)
        mx, my = geo.margin
        return bool(
            np.all(x - hx >= mx - _EPS)
            and np.all(x + hx <= 1 - mx + _EPS)
            and np.all(y - hy >= my - _EPS)
            and np.all(y + hy <= 1 - my + _EPS)
        )

    if not fits(MAX_KEYFRAME_BASE, keys):
        moved = []
        for i, k in enumerate(keys):
            neighbours = [keys[j].angle for j in (i - 1, i, i + 1) if 0 <= j < len(keys)]
            widest = max(abs(math.radians(a)) for a in neighbours)
            hx, hy, _, _ = geo.extents(np.array(k.zoom * MAX_KEYFRAME_BASE), np.array(widest))
            mx, my = geo.margin
            x = min(max(k.x, float(hx) + mx), 1 - float(hx) - mx)
            y = min(max(k.y, float(hy) + my), 1 - float(hy) - my)
            if (x, y) != (k.x, k.y):
                notes.append(f"keyframe {i} moved to x={x:.4f}, y={y:.4f} to stay inside the photo")
            moved.append(replace(k, x=x, y=y))
        keys = moved
    base = _smallest_base(lambda base: fits(base, keys), "these keyframes")
    if base > 1.01:
        notes.append(f"base zoom raised to {base:.4f} so that no frame shows a border")
    path = CameraPath([replace(k, zoom=k.zoom * base) for k in keys])
    record = {"requested": "keyframes", "method": "keyframes", "box": None, "confidence": None}
    return Plan(path, {**record, **_record((keys[0].x, keys[0].y), base, None, notes)})
