"""Seamless loops, WebM/HEVC/AV1, motion blur and the quality report: each output decoded and measured."""

import av
import numpy as np
import pytest

from image_to_video.engine import InvalidParameter, MotionParams, render_video
from image_to_video.engine.camera import CameraPath, Keyframe
from image_to_video.engine.encode import open_encoder
from image_to_video.engine.fit import fit_video
from image_to_video.engine.probe import inspect_video
from image_to_video.engine.render import FrameRenderer
from tests.conftest import ASTRONAUT
from tests.videos import decode_frames


def _grey(path) -> list[np.ndarray]:
    return [f.astype(np.float64) for f in decode_frames(path, "gray")]


@pytest.mark.parametrize(
    "fmt,codec,decoded,tag,container",
    [
        ("webm", None, {"vp9", "libvpx-vp9"}, None, "matroska,webm"),
        ("mp4", "hevc", {"hevc"}, "hvc1", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("mov", "hevc", {"hevc"}, "hvc1", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("mp4", "av1", {"av1", "libdav1d"}, "av01", "mov,mp4,m4a,3gp,3g2,mj2"),
        ("mp4", "h264", {"h264"}, "avc1", "mov,mp4,m4a,3gp,3g2,mj2"),
    ],
)
def test_each_codec_decodes_as_itself(tmp_path, fmt, codec, decoded, tag, container):
    out = tmp_path / f"out.{fmt}"
    result = render_video(
        ASTRONAUT, out, MotionParams(width=192, height=128, duration=1, output_format=fmt, video_codec=codec)
    )
    with av.open(str(out)) as opened:
        stream = opened.streams.video[0]
        assert opened.format.name == container
        assert stream.codec_context.name in decoded
        if tag:
            assert stream.codec_tag == tag, "HEVC must be tagged hvc1 for Apple's players"
        frames = [f.to_ndarray(format="rgb24") for f in opened.decode(stream)]
    assert len(frames) == 30 and frames[0].shape == (128, 192, 3)
    assert frames[15].std() > 20, "a picture, not a blank"
    assert result.content_type == {"webm": "video/webm", "mp4": "video/mp4", "mov": "video/quicktime"}[fmt]


@pytest.mark.parametrize(
    "kwargs,field",
    [
        ({"output_format": "webm", "video_codec": "hevc"}, "videoCodec"),
        ({"output_format": "gif", "video_codec": "h264"}, "videoCodec"),
        ({"output_format": "mov", "video_codec": "av1"}, "videoCodec"),
        ({"video_codec": "vp8"}, "videoCodec"),
        ({"motion_blur": 1.5}, "motionBlur"),
        ({"motion_blur": -0.1}, "motionBlur"),
        ({"loop": "yes"}, "loop"),
        ({"output_format": "webm", "width": 321}, "width"),
    ],
)
def test_bad_codec_loop_and_blur_values_are_named(kwargs, field):
    with pytest.raises(InvalidParameter) as raised:
        MotionParams(**{"width": 320, "height": 320, **kwargs}).validate()
    assert raised.value.param == field


@pytest.mark.parametrize("motion_type,direction", [("zoom", "in"), ("pan", "right"), ("rotation", "left")])
def test_a_loop_wraps_with_an_ordinary_step_and_still_moves(tmp_path, motion_type, direction):
    out = tmp_path / "loop.mp4"
    params = MotionParams(motion_type=motion_type, motion_direction=direction, width=256, height=256, duration=2)
    result = render_video(ASTRONAUT, out, params.__class__(**{**params.__dict__, "loop": True}))
    frames = _grey(out)
    steps = [np.abs(a - b).mean() for a, b in zip(frames, frames[1:], strict=False)]
    wrap = np.abs(frames[-1] - frames[0]).mean()
    assert np.median(steps) > 1.0, "it moves"
    assert wrap <= 1.5 * np.median(steps), (wrap, np.median(steps))
    half = np.abs(frames[len(frames) // 2] - frames[0]).mean()
    assert half > 5 * wrap, "the middle is far from the start: there and back, not a still"
    path = result.camera_path
    assert path[0] == {**path[-1], "t": path[0]["t"], "ease": path[0]["ease"]}, "the path ends where it began"
    assert path[-1]["t"] == pytest.approx(2.0), "one period is the clip: the frame after the last is the first"


@pytest.mark.parametrize("fmt", ["mp4", "gif"])
def test_a_providers_one_way_clip_is_fitted_to_a_seamless_loop(tmp_path, fmt):
    """Runway makes one-way clips: fitted with ``loop``, the clip goes forward for the first half and back
    for the second, so frame i is frame total - i and the frame after the last is the first."""
    clip = tmp_path / "provider.mp4"
    render_video(ASTRONAUT, clip, MotionParams(motion_type="pan", width=256, height=144, duration=2))
    out = tmp_path / f"loop.{fmt}"
    result = fit_video(clip, out, width=128, height=96, duration=2, output_format=fmt, loop=True)
    frames = _grey(out)
    total = len(frames)
    assert total == result.frame_count == {"mp4": 60, "gif": 30}[fmt]

    def apart(i: int, j: int) -> float:
        return float(np.abs(frames[i] - frames[j % total]).mean())

    for i in range(1, total // 2):
        if fmt == "gif":  # one palette, so the same picture twice is the same indices
            assert apart(i, total - i) == 0, f"frame {i}"
        elif i > 1:  # encoded apart, the two are one picture up to the codec: nearer than either neighbour
            assert apart(i, total - i) < min(apart(i, total - i - 1), apart(i, total - i + 1)), f"frame {i}"
    steps = [np.abs(a - b).mean() for a, b in zip(frames, frames[1:], strict=False)]
    wrap = np.abs(frames[-1] - frames[0]).mean()
    assert np.median(steps) > 1.0, "it moves"
    assert wrap <= 1.5 * np.median(steps), (wrap, np.median(steps))
    assert np.abs(frames[total // 2] - frames[0]).mean() > 5 * wrap, "the middle is far from the start"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["provider.mp4", out.name]), "no spill left"


def test_a_looped_gif_plays_forever(tmp_path):
    out = tmp_path / "loop.gif"
    render_video(ASTRONAUT, out, MotionParams(width=96, height=96, duration=1, output_format="gif", loop=True))
    from PIL import Image

    with Image.open(out) as gif:
        assert gif.info.get("loop") == 0, "netscape loop count 0: for ever"


def _gradients(frames: list[np.ndarray]) -> tuple[float, float]:
    middle = frames[len(frames) // 2 - 3 : len(frames) // 2 + 3]
    gx = np.mean([np.abs(np.diff(f, axis=1)).mean() for f in middle])
    gy = np.mean([np.abs(np.diff(f, axis=0)).mean() for f in middle])
    return float(gx), float(gy)


def test_motion_blur_smears_a_fast_pan_across_the_motion_not_along_it(tmp_path):
    params = {"motion_type": "pan", "motion_direction": "right", "motion_strength": 100, "duration": 1}
    sharp, blurred = tmp_path / "sharp.mp4", tmp_path / "blurred.mp4"
    render_video(ASTRONAUT, sharp, MotionParams(width=320, height=180, **params))
    render_video(ASTRONAUT, blurred, MotionParams(width=320, height=180, motion_blur=1.0, **params))
    (sx, sy), (bx, by) = _gradients(_grey(sharp)), _gradients(_grey(blurred))
    assert bx < 0.85 * sx, f"horizontal detail down at least 15 %: {bx:.2f} vs {sx:.2f}"
    # Slanted edges lose some vertical contrast to a horizontal smear too, but far less than across it.
    assert 1 - by / sy < 0.5 * (1 - bx / sx), f"vertical detail mostly kept: {by:.2f} vs {sy:.2f}"


def test_the_blur_costs_one_warp_when_the_camera_is_still_and_more_as_it_speeds_up():
    rgb = np.zeros((200, 300, 3), np.uint8)
    still = CameraPath([Keyframe(0, ease="hold"), Keyframe(2)])
    moving = CameraPath([Keyframe(0, x=0.3, zoom=1.3), Keyframe(1, x=0.7, zoom=1.3)])
    assert len(FrameRenderer(rgb, still, 160, 96, 30, shutter=1.0).sample_times(10)) == 1
    fast = FrameRenderer(rgb, moving, 160, 96, 30, shutter=1.0)
    counts = [len(fast.sample_times(i)) for i in (0, 15)]
    assert counts[0] < counts[1] <= 16, counts
    assert len(FrameRenderer(rgb, moving, 160, 96, 30, shutter=0.0).sample_times(15)) == 1


def test_a_clean_move_reads_clean(tmp_path):
    out = tmp_path / "pan.mp4"
    render_video(ASTRONAUT, out, MotionParams(motion_type="pan", width=320, height=180, duration=2))
    facts, quality = inspect_video(out)
    assert facts.frame_count == 60
    assert quality.border_pixels == 0 and quality.jitter_px < 0.3 and quality.flicker < 1.0, quality


def _write(path, frames):
    encoder = open_encoder(path, output_format="mp4", width=160, height=96, fps=30, crf=12, preset="veryfast")
    with encoder:
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
            encoder.write(frame)


def _renderer_frames(path: CameraPath, count: int) -> list[np.ndarray]:
    from PIL import Image

    photo = np.asarray(Image.open(ASTRONAUT).convert("RGB"))
    renderer = FrameRenderer(photo, path, 160, 96, 30, "rgb24")
    return [renderer.render(i)[0].copy() for i in range(count)]


def test_the_report_sees_borders_shake_and_flicker_that_are_there(tmp_path):
    # Borders: a camera wider than the photo (zoom 0.8) shows the renderer's fill (Y=U=V=0) at the sides.
    grey_photo = np.full((300, 400, 3), 128, np.uint8)
    renderer = FrameRenderer(grey_photo, CameraPath([Keyframe(0, zoom=0.8), Keyframe(1, zoom=0.8)]), 160, 96, 30)
    encoder = open_encoder(
        tmp_path / "wide.mp4", output_format="mp4", width=160, height=96, fps=30, crf=12, preset="veryfast"
    )
    expected = 0
    with encoder:
        for i in range(12):
            frame, planes = encoder.blank()
            renderer.render(i, planes)
            expected = max(expected, int((planes[0] == 0).sum()))
            encoder.write(frame)
    measured = inspect_video(tmp_path / "wide.mp4")[1].border_pixels
    assert expected > 1000 and abs(measured - expected) < 0.15 * expected, (measured, expected)
    # Shake: a pan with a random offset of ~1.4 output pixels on every frame.
    rng = np.random.default_rng(3)
    keys = [Keyframe(i / 30, zoom=1.5, x=0.4 + 0.004 * i + rng.normal(0, 3.0) / 512, y=0.5) for i in range(16)]
    _write(tmp_path / "shaky.mp4", _renderer_frames(CameraPath(keys), 16))
    smooth = [Keyframe(0, zoom=1.5, x=0.4, y=0.5, ease="linear"), Keyframe(15 / 30, zoom=1.5, x=0.46, y=0.5)]
    _write(tmp_path / "smooth.mp4", _renderer_frames(CameraPath(smooth), 16))
    shaky, steady = inspect_video(tmp_path / "shaky.mp4")[1], inspect_video(tmp_path / "smooth.mp4")[1]
    assert shaky.jitter_px > 0.8 and steady.jitter_px < 0.2, (shaky, steady)
    # Flicker: every other frame 12 grey levels brighter.
    base = _renderer_frames(CameraPath(smooth), 16)
    flashing = [np.clip(f.astype(int) + (12 if i % 2 else 0), 0, 255).astype(np.uint8) for i, f in enumerate(base)]
    _write(tmp_path / "flicker.mp4", flashing)
    assert inspect_video(tmp_path / "flicker.mp4")[1].flicker > 10 > steady.flicker * 10
