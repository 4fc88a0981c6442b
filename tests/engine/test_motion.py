"""The camera goes the documented way, by the documented amount, and never shows a border."""

import math
from itertools import pairwise

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from image_to_video.engine import MotionParams, render_video
from image_to_video.engine.motion import PAN_PER_STRENGTH, ROTATION_DEG_PER_STRENGTH, ZOOM_PER_STRENGTH, ease
from tests.engine.conftest import textured
from tests.videos import decode_frames, luma


def _render(tmp_path, image_path, **params):
    out = tmp_path / "m.mp4"
    render_video(image_path, out, MotionParams(duration=1, crf=12, **params))
    return decode_frames(out)


def _disc_image(tmp_path):
    image = Image.new("RGB", (480, 360), (60, 60, 60))
    ImageDraw.Draw(image).ellipse((200, 140, 280, 220), fill=(240, 240, 240))
    path = tmp_path / "disc.png"
    image.save(path)
    return path


@pytest.mark.parametrize("direction,sign", [("in", 1), ("out", -1)])
def test_zoom_scales_the_centre_by_the_documented_factor(tmp_path, direction, sign):
    frames = _render(
        tmp_path,
        _disc_image(tmp_path),
        motion_type="zoom",
        motion_direction=direction,
        motion_strength=100,
        width=256,
        height=192,
    )
    first, last = ((luma(f) > 150).sum() for f in (frames[0], frames[-1]))
    expected = (1 + ZOOM_PER_STRENGTH) ** 2  # area grows with the square of the zoom
    ratio = last / first if sign > 0 else first / last
    assert ratio == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize("direction,dx,dy", [("right", -1, 0), ("left", 1, 0), ("down", 0, -1), ("up", 0, 1)])
def test_pan_moves_content_opposite_to_the_camera_by_the_travel(tmp_path, direction, dx, dy):
    path = tmp_path / "tex.png"
    textured(640, 480, seed=3).save(path)
    width, height = 256, 192
    frames = _render(
        tmp_path, path, motion_type="pan", motion_direction=direction, motion_strength=50, width=width, height=height
    )
    (shift_x, shift_y), _ = cv2.phaseCorrelate(luma(frames[0]).astype(np.float64), luma(frames[-1]).astype(np.float64))
    travel = PAN_PER_STRENGTH * 0.5 * (width if dx else height)
    assert shift_x == pytest.approx(dx * travel, abs=0.75)
    assert shift_y == pytest.approx(dy * travel, abs=0.75)


def _bar_angle(frame):
    """Orientation of the bright bar in degrees; positive means its right end is lower (clockwise)."""
    mask = (luma(frame) > 200).astype(np.uint8)
    m = cv2.moments(mask, binaryImage=True)
    return math.degrees(0.5 * math.atan2(2 * m["mu11"], m["mu20"] - m["mu02"]))


@pytest.mark.parametrize("direction,sign", [("right", 1), ("left", -1)])
def test_rotation_turns_clockwise_for_right(tmp_path, direction, sign):
    image = Image.new("RGB", (400, 400), (50, 50, 50))
    ImageDraw.Draw(image).rectangle((120, 194, 280, 206), fill=(255, 255, 255))
    path = tmp_path / "bar.png"
    image.save(path)
    frames = _render(
        tmp_path, path, motion_type="rotation", motion_direction=direction, motion_strength=100, width=192, height=192
    )
    turned = _bar_angle(frames[-1]) - _bar_angle(frames[0])
    assert turned == pytest.approx(sign * ROTATION_DEG_PER_STRENGTH, abs=0.6)


def test_motion_is_smooth_in_time(tmp_path):
    """Frame-to-frame pan shifts follow the eased curve: no jumps, no integer steps."""
    path = tmp_path / "tex.png"
    textured(640, 480, seed=5).save(path)
    frames = _render(
        tmp_path, path, motion_type="pan", motion_direction="right", motion_strength=40, width=192, height=128
    )
    window = cv2.createHanningWindow((192, 128), cv2.CV_64F)  # without it, edges bias the estimate
    shifts = [
        cv2.phaseCorrelate(luma(a).astype(np.float64), luma(b).astype(np.float64), window)[0][0]
        for a, b in pairwise(frames)
    ]
    n = len(frames) - 1
    travel = PAN_PER_STRENGTH * 0.4 * 192
    expected = [-travel * (ease((i + 1) / n) - ease(i / n)) for i in range(n)]
    residual = np.sqrt(np.mean((np.array(shifts) - np.array(expected)) ** 2))
    assert residual < 0.12


@pytest.mark.parametrize(
    "motion_type,direction",
    [("zoom", "out"), ("pan", "left"), ("pan", "down"), ("rotation", "right"), ("complex", "up"), ("complex", "out")],
)
@pytest.mark.parametrize(
    "src,out", [((900, 200), (128, 256)), ((200, 900), (256, 128)), ((300, 300), (320, 64)), ((64, 64), (400, 400))]
)
def test_no_frame_shows_a_border(tmp_path, motion_type, direction, src, out):
    path = tmp_path / "src.png"
    textured(*src, seed=7, low=110, high=170).save(path)
    frames = _render(
        tmp_path,
        path,
        motion_type=motion_type,
        motion_direction=direction,
        motion_strength=100,
        width=out[0],
        height=out[1],
    )
    darkest = min(int(f.min()) for f in frames)
    assert darkest > 80, "an uncovered pixel would be black (the warp's border value)"
