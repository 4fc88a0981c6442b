"""Focus, subject framing and keyframes, measured on the decoded video.

The subject is found in each frame by its colour (a generated photo) or by
template matching (the bundled astronaut), never by asking the renderer.
"""

from itertools import pairwise
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from image_to_video.engine import InvalidParameter, MotionParams, load_image, render_video
from image_to_video.engine.camera import Keyframe
from image_to_video.engine.subject import detect_subject
from tests.conftest import ASTRONAUT
from tests.engine.conftest import textured
from tests.videos import decode_frames, luma

SIZES = {"16:9": (192, 108), "9:16": (108, 192), "1:1": (128, 128)}
MOTIONS = [
    ("zoom", "in"),
    ("zoom", "out"),
    ("pan", "left"),
    ("pan", "right"),
    ("pan", "up"),
    ("pan", "down"),
    ("rotation", "right"),
    ("complex", "in"),
    ("complex", "left"),
]
MAGENTA = (255, 0, 255)


def _subject_photo(tmp_path) -> tuple[Path, tuple[float, float, float, float]]:
    """A muted texture with a magenta shape right of centre: the 'motorcycle' case."""
    image = textured(960, 540, seed=11, low=100, high=150)
    box = (600, 150, 765, 330)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle(box, radius=30, fill=MAGENTA)
    path = tmp_path / "subject.png"
    image.save(path)
    return path, (box[0] / 960, box[1] / 540, box[2] / 960, box[3] / 540)


def _magenta_mask(frame: np.ndarray) -> np.ndarray:
    r, g, b = (frame[..., i].astype(int) for i in range(3))
    return (r > 180) & (b > 180) & (g < 110)


def _render(tmp_path, source, name="out.mp4", **params):
    out = tmp_path / name
    result = render_video(source, out, MotionParams(duration=1, fps=12, **{"crf": 14, **params}))
    return decode_frames(out), result


def test_the_subject_is_found_where_it_was_drawn(tmp_path):
    path, box = _subject_photo(tmp_path)
    found = detect_subject(load_image(path))
    assert found.method == "saliency" and found.confidence >= 0.5
    assert found.box is not None
    assert all(abs(a - b) < 0.04 for a, b in zip(found.box, box, strict=True))


def test_a_plain_texture_has_no_subject():
    assert detect_subject(np.array(textured(640, 360, seed=3, low=110, high=150))).method == "none"


def test_the_astronauts_face_is_found():
    found = detect_subject(load_image(ASTRONAUT))
    assert found.method == "face"
    x0, y0, x1, y1 = found.box
    # The face in this NASA portrait is in the upper middle-left of the photo.
    assert 0.2 < x0 < 0.4 and 0.4 < x1 < 0.7 and y0 < 0.15 and 0.25 < y1 < 0.5


@pytest.mark.parametrize("aspect", list(SIZES))
@pytest.mark.parametrize("motion_type,direction", MOTIONS)
def test_the_subject_stays_whole_in_every_frame(tmp_path, aspect, motion_type, direction):
    path, _ = _subject_photo(tmp_path)
    width, height = SIZES[aspect]
    frames, result = _render(
        tmp_path, path, motion_type=motion_type, motion_direction=direction, width=width, height=height
    )
    assert result.framing["method"] == "saliency"
    areas = []
    for i, frame in enumerate(frames):
        mask = _magenta_mask(frame)
        assert mask.any(), f"frame {i}: the subject is out of the frame"
        edges = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
        assert not edges.any(), f"frame {i}: the subject is cut by the frame edge"
        areas.append(mask.sum())
        assert luma(frame).min() > 40, f"frame {i} shows a border"


def test_centre_focus_keeps_the_old_centred_crop_and_cuts_the_subject(tmp_path):
    """The case that motivated focus: a centred 9:16 crop cuts a subject right of centre."""
    path, _ = _subject_photo(tmp_path)
    frames, result = _render(
        tmp_path, path, motion_type="pan", motion_direction="right", width=108, height=192, focus="center"
    )
    assert result.framing["method"] == "center"
    assert all(_magenta_mask(frame)[:, -1].any() for frame in frames)


def _with_dots(image: Image.Image, points) -> Image.Image:
    """Bright Gaussian dots centred exactly on photo fractions (pixel centres at i + 0.5)."""
    rgb = np.asarray(image).astype(np.float64)
    yy, xx = np.mgrid[: rgb.shape[0], : rgb.shape[1]]
    for px, py in points:
        cx, cy = px * rgb.shape[1] - 0.5, py * rgb.shape[0] - 0.5
        rgb += 140 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 3.0**2))[..., None]
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _dot_photo(tmp_path, point, size=(800, 600)):
    path = tmp_path / "dot.png"
    _with_dots(textured(*size, seed=5, low=95, high=108), [point]).save(path)
    return path


def _dot_position(frame, near=None, radius=30):
    """Sub-pixel centroid of the bright dot (optionally the one near a point)."""
    y = luma(frame).astype(np.float64)
    weight = np.clip(y - 135, 0, None)
    if near is not None:
        yy, xx = np.mgrid[: y.shape[0], : y.shape[1]]
        weight[(xx - near[0]) ** 2 + (yy - near[1]) ** 2 > radius**2] = 0
    total = weight.sum()
    assert total > 0, "the dot is not in the frame"
    yy, xx = np.mgrid[: y.shape[0], : y.shape[1]]
    return (weight * xx).sum() / total, (weight * yy).sum() / total


@pytest.mark.parametrize("focus", [(0.3, 0.35), (0.7, 0.6), (0.22, 0.75)])
@pytest.mark.parametrize("aspect", list(SIZES))
def test_a_zoom_in_ends_on_the_focus(tmp_path, focus, aspect):
    width, height = (2 * v for v in SIZES[aspect])
    frames, _ = _render(
        tmp_path, _dot_photo(tmp_path, focus), motion_type="zoom", width=width, height=height, focus=focus
    )
    x, y = _dot_position(frames[-1])
    assert abs(x - (width - 1) / 2) <= 0.02 * width
    assert abs(y - (height - 1) / 2) <= 0.02 * height
    assert min(float(luma(f).min()) for f in frames) > 40


def test_pan_and_rotation_frame_the_focus(tmp_path):
    focus = (0.25, 0.3)
    for motion_type in ("pan", "rotation"):
        frames, result = _render(
            tmp_path, _dot_photo(tmp_path, focus), motion_type=motion_type, width=160, height=160, focus=focus
        )
        for frame in frames:
            _dot_position(frame)  # in every frame
        mid = _dot_position(frames[len(frames) // 2])
        assert result.framing["focus"] == {"x": 0.25, "y": 0.3}
        assert min(float(luma(f).min()) for f in frames) > 40
        assert abs(mid[0] - 79.5) < 48 and abs(mid[1] - 79.5) < 48  # nearer the centre than the edge


def test_keyframes_hit_their_marks_and_hold_still(tmp_path):
    marks = [(0.35, 0.4), (0.6, 0.55)]
    path = tmp_path / "marks.png"
    _with_dots(textured(800, 600, seed=8, low=95, high=108), marks).save(path)
    keyframes = (
        Keyframe(t=0.0, zoom=1.5, x=0.35, y=0.4, ease="smooth"),
        Keyframe(t=1.0, zoom=1.5, x=0.6, y=0.55, ease="hold"),
        Keyframe(t=2.0, zoom=1.5, x=0.6, y=0.55, ease="smooth"),
    )
    width, height = 240, 180
    out = tmp_path / "k.mp4"
    result = render_video(
        path, out, MotionParams(duration=2, fps=10, crf=10, width=width, height=height, keyframes=keyframes)
    )
    frames = decode_frames(out)
    centre = ((width - 1) / 2, (height - 1) / 2)
    for time, frame_index in ((0.0, 0), (1.0, 10), (2.0, 19)):
        x, y = _dot_position(frames[frame_index], near=centre)
        assert abs(x - centre[0]) <= 0.5 and abs(y - centre[1]) <= 0.5, (time, x, y)
    window = cv2.createHanningWindow((width, height), cv2.CV_64F)
    for a, b in pairwise(frames[10:]):
        (dx, dy), _ = cv2.phaseCorrelate(luma(a).astype(np.float64), luma(b).astype(np.float64), window)
        assert abs(dx) < 0.02 and abs(dy) < 0.02
    moving = [
        cv2.phaseCorrelate(luma(a).astype(np.float64), luma(b).astype(np.float64), window)[0][0]
        for a, b in pairwise(frames[:11])
    ]
    assert min(moving[3:7]) < -2  # it does move before the hold
    assert min(float(luma(f).min()) for f in frames) > 40
    assert result.camera_path[1]["ease"] == "hold"
    assert result.framing["baseZoom"] == 1.0


def test_a_keyframe_at_the_edge_raises_the_base_zoom_and_says_so(tmp_path):
    path = tmp_path / "tex.png"
    textured(400, 300, seed=2, low=110, high=170).save(path)
    keyframes = (Keyframe(t=0, zoom=1.2, x=0.5, y=0.5), Keyframe(t=1, zoom=1.2, x=0.95, y=0.5))
    frames, result = _render(tmp_path, path, width=160, height=120, keyframes=keyframes)
    assert result.framing["baseZoom"] > 1.2
    assert any("base zoom raised" in note for note in result.framing["notes"])
    assert min(int(f.min()) for f in frames) > 80


def test_a_recorded_camera_path_renders_the_same_video(tmp_path):
    path, _ = _subject_photo(tmp_path)
    first, result = _render(tmp_path, path, motion_type="complex", motion_direction="left", width=128, height=96, crf=0)
    again = tuple(Keyframe.from_dict(k) for k in result.camera_path)
    second, repeat = _render(tmp_path, path, name="again.mp4", width=128, height=96, keyframes=again, crf=0)
    assert repeat.framing["baseZoom"] == 1.0
    for a, b in zip(first, second, strict=True):  # lossless: any difference is the path's
        assert np.abs(a.astype(int) - b.astype(int)).mean() < 0.05


@pytest.mark.parametrize("aspect", list(SIZES))
@pytest.mark.parametrize("motion_type,direction", [("pan", "left"), ("zoom", "in"), ("rotation", "left")])
def test_the_astronauts_face_stays_in_frame(tmp_path, aspect, motion_type, direction):
    rgb = load_image(ASTRONAUT)
    face = detect_subject(rgb).box
    x0, y0, x1, y1 = (round(v * 512) for v in face)
    template = luma(rgb[y0:y1, x0:x1])
    width, height = SIZES[aspect]
    frames, _ = _render(
        tmp_path, ASTRONAUT, motion_type=motion_type, motion_direction=direction, width=width, height=height
    )
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        grey = luma(frame)
        best = 0.0
        for scale in np.geomspace(0.15, 1.0, 40):
            size = (max(8, round(template.shape[1] * scale)), max(8, round(template.shape[0] * scale)))
            if size[0] > grey.shape[1] or size[1] > grey.shape[0]:
                continue
            small = cv2.resize(template, size, interpolation=cv2.INTER_AREA)
            best = max(best, float(cv2.matchTemplate(grey, small, cv2.TM_CCOEFF_NORMED).max()))
        assert best > 0.8, "the whole face is not in the frame"


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"focus": (1.2, 0.5)}, "focus.x"),
        ({"focus": "middle"}, "focus"),
        ({"keyframes": (Keyframe(t=0),)}, "keyframes"),
        ({"keyframes": (Keyframe(t=0), Keyframe(t=0))}, "keyframes[1].t"),
        ({"keyframes": (Keyframe(t=0), Keyframe(t=4))}, "keyframes[1].t"),
        ({"keyframes": (Keyframe(t=0, zoom=0.5), Keyframe(t=1))}, "keyframes[0].zoom"),
        ({"keyframes": (Keyframe(t=0), Keyframe(t=1, angle=60))}, "keyframes[1].angle"),
        ({"keyframes": (Keyframe(t=0), Keyframe(t=1, ease="bounce"))}, "keyframes[1].ease"),
        ({"keyframes": (Keyframe(t=0), Keyframe(t=1, y=-0.1))}, "keyframes[1].y"),
    ],
)
def test_bad_focus_and_keyframes_name_the_field(kwargs, param):
    with pytest.raises(InvalidParameter) as caught:
        MotionParams(duration=3, **kwargs).validate()
    assert caught.value.param == param


def test_the_face_photo_is_not_mistaken_for_a_plain_one(tmp_path):
    """A photo with one person is framed on the face, and the record says what was found."""
    _, result = _render(tmp_path, ASTRONAUT, motion_type="zoom", width=96, height=96)
    assert result.framing["method"] == "face"
    assert result.framing["subjectInFrame"] is True
    Image.open(ASTRONAUT).close()


def test_sampling_a_path_at_once_matches_asking_it_frame_by_frame():
    from image_to_video.engine.camera import CameraPath

    path = CameraPath(
        [
            Keyframe(0, 1, 0.3, 0.4, 0, "smooth"),
            Keyframe(1, 1.5, 0.6, 0.5, 10, "hold"),
            Keyframe(2, 1.5, 0.6, 0.5, 10, "linear"),
            Keyframe(3, 2, 0.5, 0.5, -5),
        ]
    )
    times = np.linspace(-0.5, 3.5, 161)
    zoom, x, y, angle = path.sample(times)
    for i, t in enumerate(times):
        cam = path(float(t))
        assert (zoom[i], x[i], y[i], angle[i]) == pytest.approx((cam.zoom, cam.x, cam.y, cam.angle), abs=1e-12)


def test_detection_in_many_threads_at_once_agrees_with_one_thread():
    """The in-process worker renders two jobs at once: threads detecting together get what one thread gets
    (a shared OpenCV cascade failed 16 of 120 calls here with ``vector::_M_range_check``)."""
    from concurrent.futures import ThreadPoolExecutor

    rgb = load_image(ASTRONAUT)
    photos = [rgb, np.ascontiguousarray(rgb[:, ::-1]), cv2.resize(rgb, (384, 384))]
    expected = [detect_subject(p) for p in photos]
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda i: detect_subject(photos[i % 3]), range(120)))
    assert all(f.method == "face" for f in found)
    assert found == [expected[i % 3] for i in range(120)]
