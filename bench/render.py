"""Engine vs ffmpeg's zoompan on the same photo: wall time, peak memory, jitter.

Run by hand (``.venv/bin/python bench/render.py [IMAGE] [--runs N]``); results and
method are in docs/PERFORMANCE.md. Both renderers use the same libx264 preset
and CRF and run alternately, so machine noise hits both alike. The engine is
timed twice: in this process (as a worker runs it) and as the CLI (with the
interpreter's start-up); zoompan is always the ffmpeg CLI. Peak RSS is the
child's own VmHWM (``ru_maxrss`` would include the pages the child inherited
from this process before ``exec``).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import av
import imageio_ffmpeg
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_IMAGE = ROOT / "image_to_video" / "sample" / "astronaut.png"
SIZE, FPS, SECONDS, CRF, PRESET = 1080, 30, 3, 20, "veryfast"
ZOOM_TOP = 1.25  # the engine's zoom at strength 50
PAN_TRAVEL = 0.15  # the engine's pan at strength 50, fraction of the width


PEAK_RSS_WRAPPER = (
    "import atexit, runpy, sys\n"
    "def report():\n"
    "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "    print('VmHWM', hwm, file=sys.stderr)\n"
    "atexit.register(report)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n"
)


def run(cmd: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS in MiB (0 when not measured) of one child process."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr}")
    hwm = [line.split()[1] for line in proc.stderr.splitlines() if line.startswith("VmHWM")]
    return elapsed, int(hwm[-1]) // 1024 if hwm else 0


def engine_in_process(image: Path, out: Path, motion: str, direction: str, focus: str = "center") -> float:
    from image_to_video.engine import MotionParams, render_video

    params = MotionParams(
        motion_type=motion,
        motion_direction=direction,
        motion_strength=50,
        duration=SECONDS,
        width=SIZE,
        height=SIZE,
        fps=FPS,
        crf=CRF,
        preset=PRESET,
        focus=focus,
    )
    start = time.perf_counter()
    render_video(image, out, params)
    return time.perf_counter() - start


def engine_cmd(image: Path, out: Path, motion: str, direction: str, seconds: float) -> list[str]:
    return [
        sys.executable,
        "-c",
        PEAK_RSS_WRAPPER,
        "image_to_video.engine",
        str(image),
        str(out),
        "--quiet",
        "--motion-type",
        motion,
        "--motion-direction",
        direction,
        "--motion-strength",
        "50",
        "--duration",
        str(seconds),
        "--width",
        str(SIZE),
        "--height",
        str(SIZE),
        "--fps",
        str(FPS),
        "--crf",
        str(CRF),
        "--preset",
        PRESET,
        "--focus",
        "center",
    ]


def detection_seconds(image: Path) -> float:
    """Subject detection alone, as a render with focus=auto runs it (median of 5)."""
    from image_to_video.engine import load_image
    from image_to_video.engine.subject import DETECT_SIDE, detect_subject

    rgb = load_image(image, min_size=(DETECT_SIDE, DETECT_SIDE))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        detect_subject(rgb)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def startup_seconds(image: Path, tmp: Path) -> float:
    """CLI start-up: a one-frame render at 64 px is all interpreter, imports, decode and set-up."""
    cmd = [sys.executable, "-m", "image_to_video.engine", str(image), str(tmp / "one.mp4"), "--quiet"]
    cmd += ["--width", "64", "--height", "64", "--duration", "1", "--fps", "1", "--focus", "center"]
    return statistics.median(run(cmd)[0] for _ in range(5))


def zoompan_cmd(image: Path, out: Path, motion: str) -> list[str]:
    frames = SECONDS * FPS
    if motion == "zoom":
        expr = f"z='1+{ZOOM_TOP - 1}*on/{frames - 1}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
    else:  # pan right at a fixed zoom that leaves room for the travel
        zoom = 1 + PAN_TRAVEL
        expr = f"z={zoom}:x='(iw-iw/zoom)*on/{frames - 1}':y='ih/2-(ih/zoom/2)'"
    return [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-y",
        "-i",
        str(image),
        "-vf",
        f"zoompan={expr}:d={frames}:s={SIZE}x{SIZE}:fps={FPS},format=yuv420p",
        "-frames:v",
        str(frames),
        "-c:v",
        "libx264",
        "-preset",
        PRESET,
        "-crf",
        str(CRF),
        str(out),
    ]


def grey_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.float64) for f in container.decode(video=0)]


def shift(a: np.ndarray, b: np.ndarray, refine: bool) -> tuple[float, float]:
    """The engine's own measure (what ``metadata.quality.jitterPx`` uses), plain or refined."""
    from image_to_video.engine.probe import global_shift

    return global_shift(a, b, refine)


def zoom_jitter(frames: list[np.ndarray], refine: bool = True) -> float:
    """RMS frame-to-frame shift of the central 160 px patch (a centred zoom should not move it)."""
    h, w = frames[0].shape
    y, x = h // 2 - 80, w // 2 - 80
    shifts = [shift(a[y : y + 160, x : x + 160], b[y : y + 160, x : x + 160], refine) for a, b in pairwise(frames)]
    return math.sqrt(np.mean([dx * dx + dy * dy for dx, dy in shifts]))


def pan_jitter(frames: list[np.ndarray], refine: bool = True) -> float:
    """RMS deviation of the frame-to-frame horizontal shift from a cubic fit over time."""
    shifts = np.array([shift(a, b, refine)[0] for a, b in pairwise(frames)])
    t = np.arange(len(shifts))
    fit = np.polyval(np.polyfit(t, shifts, 3), t)
    return float(np.sqrt(np.mean((shifts - fit) ** 2)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image", nargs="?", type=Path, default=DEFAULT_IMAGE)
    parser.add_argument("--runs", type=int, default=3, help="alternating runs per renderer and motion")
    args = parser.parse_args()
    os.chdir(ROOT)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        print(
            f"image {args.image.name}; {SIZE}x{SIZE}, {SECONDS} s at {FPS} fps, libx264 {PRESET} crf {CRF}; "
            f"{args.runs} alternating runs"
        )
        for motion, direction in (("zoom", "in"), ("pan", "right")):
            eng_out, cli_out, zp_out = (tmp / f"{who}-{motion}.mp4" for who in ("engine", "cli", "zoompan"))
            eng, cli, zp = [], [], []
            auto = []
            for _ in range(args.runs):
                eng.append(engine_in_process(args.image, eng_out, motion, direction))
                auto.append(engine_in_process(args.image, tmp / "auto.mp4", motion, direction, "auto"))
                zp.append(run(zoompan_cmd(args.image, zp_out, motion))[0])
                cli.append(run(engine_cmd(args.image, cli_out, motion, direction, SECONDS))[0])
            med = statistics.median
            ratio_in = med([e / z for e, z in zip(eng, zp, strict=True)])
            ratio_cli = med([c / z for c, z in zip(cli, zp, strict=True)])
            print(
                f"{motion:5s} wall: engine in-process {med(eng):.2f} s, engine CLI {med(cli):.2f} s, "
                f"zoompan {med(zp):.2f} s; ratio engine/zoompan {ratio_in:.2f} in-process, {ratio_cli:.2f} CLI; "
                f"with focus=auto {med(auto):.2f} s ({med([a / z for a, z in zip(auto, zp, strict=True)]):.2f})"
            )
            measure = zoom_jitter if motion == "zoom" else pan_jitter
            eng_frames, zp_frames = grey_frames(eng_out), grey_frames(zp_out)
            print(
                f"{motion:5s} jitter (refined): engine {measure(eng_frames):.3f} px, zoompan "
                f"{measure(zp_frames):.3f} px; plain phaseCorrelate: engine "
                f"{measure(eng_frames, False):.3f} px, zoompan {measure(zp_frames, False):.3f} px"
            )
            del eng_frames, zp_frames
        detect = detection_seconds(args.image)
        startup = startup_seconds(args.image, tmp)
        print(f"subject detection {detect * 1000:.0f} ms; CLI start-up (1 frame at 64 px) {startup:.3f} s")
        rss = {s: run(engine_cmd(args.image, tmp / f"rss{s}.mp4", "complex", "in", s))[1] for s in (3, 10)}
        print(f"peak RSS engine: 3 s {rss[3]} MiB, 10 s {rss[10]} MiB ({(rss[10] / rss[3] - 1) * 100:+.1f} %)")


if __name__ == "__main__":
    main()
