"""Each codec against H.264 CRF 20: the CRF that gives the same quality, its file size and its speed;
and what motion blur costs. Run by hand: ``.venv/bin/python bench/codecs.py [--size 1280x720]``.

Method: one 3 s pan of the bundled photo is rendered to raw YUV frames once (the engine's own
FrameRenderer), then encoded by each codec at a few CRFs, each encode timed; quality is the
luma PSNR of the decoded frames against those raw frames. Parity is the CRF whose PSNR is
nearest H.264's at CRF 20. Motion blur: the same render timed with motionBlur 0, 0.5 and 1.
Results and method: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from image_to_video.engine import MotionParams, render_video
from image_to_video.engine.encode import CODECS, CRF_OFFSETS, YuvEncoder
from image_to_video.engine.framing import plan_camera
from image_to_video.engine.render import FrameRenderer, prescale_image, prescale_size
from image_to_video.engine.source import load_image

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "image_to_video" / "sample" / "astronaut.png"
# The encoders' own CRF values tried (the engine passes its x264-scale CRF plus CRF_OFFSETS[codec]).
CANDIDATES = {"h264": [20], "hevc": [24, 25, 26, 27, 28], "av1": [40, 42, 44, 46, 48], "vp9": [33, 35, 37, 39, 41]}


def raw_frames(width: int, height: int, seconds: int = 3) -> list[np.ndarray]:
    params = MotionParams(motion_type="pan", width=width, height=height, duration=seconds, focus="center").validate()
    photo = load_image(PHOTO)
    times = [i / 30 for i in range(params.frame_count)]
    size = prescale_size(
        plan_camera(params, photo.shape[1], photo.shape[0]).path, times, photo.shape[1], photo.shape[0], width, height
    )
    rgb = prescale_image(photo, size)
    renderer = FrameRenderer(rgb, plan_camera(params, rgb.shape[1], rgb.shape[0]).path, width, height, 30)
    return [np.concatenate([p.reshape(-1) for p in renderer.render(i)]) for i in range(params.frame_count)]


def encode(frames: list[np.ndarray], codec: str, crf: int, width: int, height: int, out: Path) -> float:
    container = "webm" if codec == "vp9" else "mp4"
    started = time.perf_counter()
    with YuvEncoder(
        out, container_format=container, codec=codec, width=width, height=height, fps=30, crf=crf, preset="veryfast"
    ) as encoder:
        for data in frames:
            frame, planes = encoder.blank()
            offset = 0
            for plane in planes:
                size = plane.size
                plane[...] = data[offset : offset + size].reshape(plane.shape)
                offset += size
            encoder.write(frame)
    return time.perf_counter() - started


def psnr(frames: list[np.ndarray], path: Path, width: int, height: int) -> float:
    errors = []
    with av.open(str(path)) as container:
        for raw, frame in zip(frames, container.decode(video=0), strict=False):
            y = frame.to_ndarray(format="yuv420p")[:height].astype(np.float64)
            errors.append(np.mean((y - raw[: width * height].reshape(height, width)) ** 2))
    return 10 * math.log10(255**2 / max(np.mean(errors), 1e-9))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    frames = raw_frames(width, height)
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for codec, crfs in CANDIDATES.items():
            for crf in crfs:
                out = Path(folder) / f"{codec}-{crf}.{'webm' if codec == 'vp9' else 'mp4'}"
                seconds = encode(frames, codec, crf - CRF_OFFSETS[codec], width, height, out)
                row = {
                    "codec": codec,
                    "encoder": CODECS[codec].encoder,
                    "crf": crf,
                    "psnr": round(psnr(frames, out, width, height), 2),
                    "kB": out.stat().st_size // 1024,
                    "fps": round(len(frames) / seconds, 1),
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
        blur = {}
        for shutter in (0.0, 0.5, 1.0):
            out = Path(folder) / f"blur-{shutter}.mp4"
            started = time.perf_counter()
            render_video(
                PHOTO,
                out,
                MotionParams(
                    motion_type="pan", width=width, height=height, duration=3, motion_strength=100, motion_blur=shutter
                ),
            )
            blur[str(shutter)] = round(time.perf_counter() - started, 2)
        print(json.dumps({"motionBlurSeconds": blur}))
    target = next(r["psnr"] for r in rows if r["codec"] == "h264")
    for codec in ("hevc", "av1", "vp9"):
        best = min((r for r in rows if r["codec"] == codec), key=lambda r: abs(r["psnr"] - target))
        print(
            json.dumps(
                {
                    "parity": codec,
                    "crf": best["crf"],
                    "offset": best["crf"] - 20,
                    "psnr": best["psnr"],
                    "h264Psnr": target,
                    "inUse": 20 + CRF_OFFSETS[codec],
                }
            )
        )


if __name__ == "__main__":
    main()
