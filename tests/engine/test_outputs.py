"""Every output is decoded and checked: frames, size, duration, codec, pixel format."""

import os

import pytest

from image_to_video.engine import MotionParams, render_video
from tests.videos import decode_frames, probe_video

MOTIONS = [
    ("zoom", "in"),
    ("zoom", "out"),
    ("pan", "left"),
    ("pan", "right"),
    ("pan", "up"),
    ("pan", "down"),
    ("rotation", "left"),
    ("rotation", "right"),
    ("complex", "in"),
    ("complex", "out"),
    ("complex", "left"),
    ("complex", "down"),
]


@pytest.mark.parametrize("motion_type,direction", MOTIONS)
def test_each_motion_renders_exact_mp4(photo, tmp_path, motion_type, direction):
    out = tmp_path / "out.mp4"
    result = render_video(
        photo, out, MotionParams(motion_type=motion_type, motion_direction=direction, duration=1, width=160, height=96)
    )
    info = probe_video(out)
    assert (info.codec, info.pix_fmt) == ("h264", "yuv420p")
    assert (info.width, info.height) == (160, 96)
    assert info.frames == 30 == result.frame_count
    assert info.duration == pytest.approx(1.0, abs=0.04)


@pytest.mark.parametrize(
    "ext,container,codec,pix_fmt,fps",
    [
        ("mp4", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "yuv420p", 30),
        ("mov", "mov,mp4,m4a,3gp,3g2,mj2", "h264", "yuv420p", 30),
        ("gif", "gif", "gif", "bgra", 15),
    ],
)
def test_containers_follow_the_extension(photo, tmp_path, ext, container, codec, pix_fmt, fps):
    out = tmp_path / f"clip.{ext}"
    render_video(photo, out, MotionParams.for_output(out, motion_type="pan", duration=2, width=120, height=80))
    info = probe_video(out)
    assert info.container == container and info.codec == codec
    assert (info.width, info.height, info.frames) == (120, 80, 2 * fps)
    assert info.duration == pytest.approx(2.0, abs=0.08)
    if ext != "gif":
        assert info.pix_fmt == pix_fmt


def test_mp4_is_faststart_and_mov_is_quicktime(photo, tmp_path):
    mp4, mov = tmp_path / "a.mp4", tmp_path / "a.mov"
    for out in (mp4, mov):
        render_video(photo, out, MotionParams.for_output(out, duration=1, width=64, height=64))
    data = mp4.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat"), "the index must come first (+faststart)"
    assert b"qt  " in mov.read_bytes()[:32], "a .mov is a QuickTime file"


@pytest.mark.parametrize("duration,fps,frames", [(1.5, 10, 15), (1.25, 30, 38), (2.34, 24, 56), (10, 1, 10)])
def test_frame_count_is_round_duration_times_fps(photo, tmp_path, duration, fps, frames):
    out = tmp_path / "f.mp4"
    render_video(photo, out, MotionParams(duration=duration, fps=fps, width=64, height=64))
    info = probe_video(out)
    assert info.frames == frames
    assert info.duration == pytest.approx(frames / fps, abs=0.05)


def test_gif_uses_one_palette_and_loops(photo, tmp_path):
    out = tmp_path / "a.gif"
    render_video(photo, out, MotionParams.for_output(out, motion_type="complex", duration=1, width=96, height=96))
    data = out.read_bytes()
    assert b"NETSCAPE2.0" in data, "looping GIFs carry the NETSCAPE2.0 extension"
    colours = set()
    for frame in decode_frames(out):
        colours.update(map(tuple, frame.reshape(-1, 3)))
    assert len(colours) <= 256, "all frames share one palette of at most 256 colours"


def test_progress_rises_to_one(photo, tmp_path):
    seen = []
    render_video(photo, tmp_path / "p.mp4", MotionParams(duration=1, width=64, height=64), on_progress=seen.append)
    assert len(seen) == 30 and seen == sorted(seen) and seen[-1] == 1.0


def test_cancel_stops_between_frames_and_leaves_nothing(photo, tmp_path):
    from image_to_video.engine import RenderCanceled

    asked = []

    def should_cancel():
        asked.append(1)
        return len(asked) > 5

    out = tmp_path / "out" / "c.mp4"
    with pytest.raises(RenderCanceled):
        render_video(photo, out, MotionParams(duration=5, width=64, height=64), should_cancel=should_cancel)
    assert len(asked) == 6
    assert os.listdir(out.parent) == [], "no output and no partial file remain"


def test_cli_renders_and_reports(photo, tmp_path):
    import json
    import subprocess
    import sys

    out = tmp_path / "cli.gif"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "image_to_video.engine",
            str(photo),
            str(out),
            "--motion-type",
            "rotation",
            "--motion-direction",
            "left",
            "--duration",
            "1",
            "--width",
            "80",
            "--height",
            "64",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["frames"] == 15
    assert probe_video(out).frames == 15
    assert "frame" in proc.stderr, "a progress bar is drawn on stderr"


def test_cli_names_the_bad_parameter(photo, tmp_path):
    import subprocess
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "image_to_video.engine",
            str(photo),
            str(tmp_path / "x.mp4"),
            "--motion-type",
            "pan",
            "--motion-direction",
            "in",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "motionDirection" in proc.stderr
    assert not (tmp_path / "x.mp4").exists()


def test_a_video_gets_the_mode_any_new_file_gets(photo, tmp_path):
    out = tmp_path / "out" / "a.mp4"
    umask = os.umask(0o022)
    try:
        render_video(photo, out, MotionParams.for_output(out, duration=1, width=64, height=64))
    finally:
        os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o644, "readable by others, as the umask allows (mkstemp gave 0600)"
    assert [p.name for p in out.parent.iterdir()] == ["a.mp4"], "nothing partial left beside it"
