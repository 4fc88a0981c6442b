"""Render parameters and their limits, validated in one place.

The service's API and the CLI both build :class:`MotionParams`; whatever they
accept, the engine accepts too, because both go through :meth:`validate`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from .camera import EASES, Keyframe
from .errors import InvalidParameter

MOTION_TYPES = ("zoom", "pan", "rotation", "complex")
DIRECTIONS: dict[str, tuple[str, ...]] = {
    "zoom": ("in", "out"),
    "pan": ("left", "right", "up", "down"),
    "rotation": ("left", "right"),
    "complex": ("in", "out", "left", "right", "up", "down"),
}
DEFAULT_DIRECTION = {"zoom": "in", "pan": "right", "rotation": "right", "complex": "in"}
OUTPUT_FORMATS = ("mp4", "mov", "gif", "webm")
VIDEO_CODECS = ("h264", "hevc", "av1")  # for mp4 and mov; webm is always VP9, gif its own
PRESETS = (
    "ultrafast",
    "superfast",
    "veryfast",
    "faster",
    "fast",
    "medium",
    "slow",
    "slower",
    "veryslow",
)

MIN_SIZE, MAX_SIZE = 64, 1920
MIN_DURATION, MAX_DURATION = 1.0, 10.0
MIN_FPS, MAX_FPS = 1, 60
DEFAULT_FPS = {"mp4": 30, "mov": 30, "gif": 15, "webm": 30}
FOCUS_WORDS = ("auto", "center")
MIN_KEYFRAMES, MAX_KEYFRAMES = 2, 16
MIN_ZOOM, MAX_ZOOM = 1.0, 4.0
MAX_ANGLE = 45.0
DEFAULT_CRF = 20
DEFAULT_PRESET = "veryfast"


@dataclass(frozen=True)
class MotionParams:
    """What to render: the camera move, the clip length and the output frame."""

    motion_type: str = "zoom"
    motion_direction: str | None = None
    motion_strength: int = 50
    duration: float = 3.0
    width: int = 1080
    height: int = 1080
    output_format: str = "mp4"
    fps: int | None = None
    crf: int = DEFAULT_CRF
    preset: str = DEFAULT_PRESET
    focus: str | tuple[float, float] = "auto"  # "auto", "center" or (x, y) in photo fractions
    keyframes: tuple[Keyframe, ...] | None = None  # instead of the preset move
    loop: bool = False  # the path returns to its start: the last frame leads into the first
    video_codec: str | None = None  # mp4/mov: "h264" (default), "hevc" or "av1"
    motion_blur: float = 0.0  # the shutter, as a fraction of the frame interval
    extra: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def validate(self) -> MotionParams:
        """Return a copy with defaults filled in, or raise InvalidParameter."""
        if self.motion_type not in MOTION_TYPES:
            raise InvalidParameter("motionType", f"must be one of {', '.join(MOTION_TYPES)}, not {self.motion_type!r}")
        direction = self.motion_direction or DEFAULT_DIRECTION[self.motion_type]
        allowed = DIRECTIONS[self.motion_type]
        if direction not in allowed:
            raise InvalidParameter(
                "motionDirection",
                f"{direction!r} does not apply to {self.motion_type}; use one of {', '.join(allowed)}",
            )
        _check_int("motionStrength", self.motion_strength, 1, 100)
        _check_number("duration", self.duration, MIN_DURATION, MAX_DURATION)
        _check_int("width", self.width, MIN_SIZE, MAX_SIZE)
        _check_int("height", self.height, MIN_SIZE, MAX_SIZE)
        if self.output_format not in OUTPUT_FORMATS:
            raise InvalidParameter(
                "outputFormat", f"must be one of {', '.join(OUTPUT_FORMATS)}, not {self.output_format!r}"
            )
        codec = self.video_codec
        if self.output_format in ("mp4", "mov"):
            codec = codec or "h264"
            if codec not in VIDEO_CODECS:
                raise InvalidParameter("videoCodec", f"must be one of {', '.join(VIDEO_CODECS)}, not {codec!r}")
            if codec == "av1" and self.output_format == "mov":
                raise InvalidParameter("videoCodec", "AV1 is written in MP4, not QuickTime: use outputFormat mp4")
        elif codec is not None:
            raise InvalidParameter(
                "videoCodec", f"applies to mp4 and mov only ({self.output_format} has its own codec)"
            )
        if not isinstance(self.loop, bool):
            raise InvalidParameter("loop", "must be true or false")
        _check_number("motionBlur", self.motion_blur, 0.0, 1.0)
        if self.output_format in ("mp4", "mov", "webm"):
            for name, value in (("width", self.width), ("height", self.height)):
                if value % 2:
                    nearest = " or ".join(str(v) for v in (value - 1, value + 1) if MIN_SIZE <= v <= MAX_SIZE)
                    raise InvalidParameter(
                        name,
                        f"must be an even number for {self.output_format.upper()} video: {value} is odd, try {nearest}",
                    )
        fps = DEFAULT_FPS[self.output_format] if self.fps is None else self.fps
        _check_int("fps", fps, MIN_FPS, MAX_FPS)
        _check_int("crf", self.crf, 0, 51)
        if self.preset not in PRESETS:
            raise InvalidParameter("preset", f"must be one of {', '.join(PRESETS)}")
        focus = _check_focus(self.focus)
        keyframes = _check_keyframes(self.keyframes, float(self.duration)) if self.keyframes is not None else None
        values = {f: getattr(self, f) for f in self.__dataclass_fields__}
        values.update(
            motion_direction=direction,
            fps=fps,
            duration=float(self.duration),
            focus=focus,
            keyframes=keyframes,
            video_codec=codec,
            motion_blur=float(self.motion_blur),
        )
        return MotionParams(**values)

    @property
    def frame_count(self) -> int:
        """Exactly round(duration × fps) frames, never fewer than one."""
        return max(1, round(self.duration * (self.fps or DEFAULT_FPS[self.output_format])))

    @classmethod
    def for_output(cls, out_path: str | os.PathLike[str], **kwargs: Any) -> MotionParams:
        """Params whose container is taken from the output file's extension."""
        ext = os.path.splitext(os.fspath(out_path))[1].lower().lstrip(".")
        if ext not in OUTPUT_FORMATS:
            raise InvalidParameter("OUT", f"extension must be .mp4, .mov, .webm or .gif, not {ext or 'none'!r}")
        return cls(output_format=ext, **kwargs)


def _check_focus(focus: object) -> str | tuple[float, float]:
    if isinstance(focus, str):
        if focus not in FOCUS_WORDS:
            raise InvalidParameter("focus", f'must be "auto", "center" or {{"x": 0..1, "y": 0..1}}, not {focus!r}')
        return focus
    if isinstance(focus, (tuple, list)) and len(focus) == 2:
        for name, value in zip(("focus.x", "focus.y"), focus, strict=True):
            _check_number(name, value, 0.0, 1.0)
        return float(focus[0]), float(focus[1])
    raise InvalidParameter("focus", f'must be "auto", "center" or {{"x": 0..1, "y": 0..1}}, not {focus!r}')


def _check_keyframes(keyframes: object, duration: float) -> tuple[Keyframe, ...]:
    if not isinstance(keyframes, (tuple, list)):
        raise InvalidParameter("keyframes", "must be a list of keyframes")
    if not MIN_KEYFRAMES <= len(keyframes) <= MAX_KEYFRAMES:
        raise InvalidParameter(
            "keyframes", f"must hold {MIN_KEYFRAMES} to {MAX_KEYFRAMES} keyframes, got {len(keyframes)}"
        )
    checked: list[Keyframe] = []
    for i, k in enumerate(keyframes):
        if not isinstance(k, Keyframe):
            raise InvalidParameter(f"keyframes[{i}]", "must be a keyframe")
        _check_number(f"keyframes[{i}].t", k.t, 0.0, duration)
        if checked and not k.t > checked[-1].t:
            raise InvalidParameter(
                f"keyframes[{i}].t", f"must be later than keyframe {i - 1}'s ({checked[-1].t:g}), got {k.t:g}"
            )
        _check_number(f"keyframes[{i}].zoom", k.zoom, MIN_ZOOM, MAX_ZOOM)
        _check_number(f"keyframes[{i}].x", k.x, 0.0, 1.0)
        _check_number(f"keyframes[{i}].y", k.y, 0.0, 1.0)
        _check_number(f"keyframes[{i}].angle", k.angle, -MAX_ANGLE, MAX_ANGLE)
        if k.ease not in EASES:
            raise InvalidParameter(f"keyframes[{i}].ease", f"must be one of {', '.join(EASES)}, not {k.ease!r}")
        checked.append(
            Keyframe(t=float(k.t), zoom=float(k.zoom), x=float(k.x), y=float(k.y), angle=float(k.angle), ease=k.ease)
        )
    return tuple(checked)


def _check_int(name: str, value: object, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(name, f"must be a whole number, got {value!r}")
    if not low <= value <= high:
        raise InvalidParameter(name, f"must be between {low} and {high}, got {value}")


def _check_number(name: str, value: object, low: float, high: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise InvalidParameter(name, f"must be a number, got {value!r}")
    if not low <= value <= high:
        raise InvalidParameter(name, f"must be between {low:g} and {high:g}, got {value:g}")
