"""The command-line form of a camera move, shared by ``python -m image_to_video.engine`` and
``manage.py generate_video``: the same options, parsed the same way, into MotionParams' fields."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any

from .camera import Keyframe
from .errors import InvalidParameter
from .params import DIRECTIONS, FOCUS_WORDS, MOTION_TYPES, VIDEO_CODECS


def add_move_arguments(parser: argparse.ArgumentParser) -> None:
    """The move, its length and frame, and where the camera looks."""
    parser.add_argument("--motion-type", default="zoom", choices=MOTION_TYPES)
    parser.add_argument(
        "--motion-direction",
        default=None,
        choices=sorted({d for ds in DIRECTIONS.values() for d in ds}),
        help="default: in for zoom/complex, right for pan/rotation",
    )
    parser.add_argument("--motion-strength", type=int, default=50, help="1-100 (default 50)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds, 1-10 (default 3)")
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument(
        "--focus", default="auto", help="auto (faces, else the salient region; default), center, or X,Y in 0..1"
    )
    parser.add_argument(
        "--keyframes",
        default=None,
        help="camera path instead of the motion options: a JSON list (or @file) of keyframes "
        '{"t", "zoom", "x", "y", "angle", "ease"}',
    )
    parser.add_argument("--loop", action="store_true", help="the last frame leads seamlessly into the first")
    parser.add_argument(
        "--codec", default=None, choices=VIDEO_CODECS, help="mp4/mov: h264 (default), hevc (hvc1), av1 (mp4)"
    )
    parser.add_argument(
        "--motion-blur", type=float, default=0.0, help="the shutter, 0-1 of the frame interval (default 0: none)"
    )


def move_fields(values: Mapping[str, Any]) -> dict[str, Any]:
    """MotionParams' fields from the parsed options of :func:`add_move_arguments`."""
    return {
        "motion_type": values["motion_type"],
        "motion_direction": values["motion_direction"],
        "motion_strength": values["motion_strength"],
        "duration": values["duration"],
        "width": values["width"],
        "height": values["height"],
        "focus": parse_focus(values["focus"]),
        "keyframes": parse_keyframes(values["keyframes"]) if values["keyframes"] else None,
        "loop": bool(values.get("loop", False)),
        "video_codec": values.get("codec"),
        "motion_blur": values.get("motion_blur", 0.0),
    }


def parse_focus(text: str) -> str | tuple[float, float]:
    """A command line's focus: ``auto``, ``center`` or ``X,Y`` (photo fractions)."""
    if text in FOCUS_WORDS:
        return text
    try:
        x, y = (float(v) for v in text.split(","))
    except ValueError:
        raise InvalidParameter("focus", f"must be auto, center or X,Y (fractions of the photo), not {text!r}") from None
    return x, y


def parse_keyframes(text: str) -> tuple[Keyframe, ...]:
    """A command line's keyframes: a JSON list (or ``@file`` holding one) of ``{t, zoom, x, y, angle, ease}``."""
    if text.startswith("@"):
        with open(text[1:], encoding="utf-8") as fh:
            text = fh.read()
    try:
        items = json.loads(text)
        return tuple(Keyframe.from_dict(k) for k in items)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise InvalidParameter("keyframes", f"must be a JSON list of {{t, zoom, x, y, angle, ease}} ({exc})") from None
