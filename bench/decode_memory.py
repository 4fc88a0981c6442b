"""What decoding a 36-megapixel photo of each costly kind adds to a process, and eight at once.

Run by hand: ``.venv/bin/python bench/decode_memory.py [--root DIR]``. It writes small
files that decode to 7200×5000 (a progressive JPEG with full-resolution chroma, a
baseline JPEG, lossless and lossy WebP with and without alpha, 8-bit RGBA, palette
and 16-bit grey PNGs), then for each, in a fresh Python process:

- ``one``: ``load_image(data, min_size=(1920, 1080))`` (what a 1080p render asks), the
  process's peak RSS (VmHWM) over its RSS just before;
- ``eight``: the same in eight threads at once, the peak over the same baseline.

``--root DIR`` measures another checkout's engine (a ``git worktree`` of an older
commit), for before/after figures from one run of the machine. Results and method:
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SIZE = (7200, 5000)

CHILD = r"""
import sys, threading
sys.path.insert(0, sys.argv[1])
from image_to_video.engine.source import load_image
def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0
data = open(sys.argv[2], "rb").read()
count = int(sys.argv[3])
before = peak()
threads = [threading.Thread(target=load_image, args=(data,), kwargs={"min_size": (1920, 1080)}) for _ in range(count)]
for t in threads: t.start()
for t in threads: t.join()
print(round(peak() - before))
"""


def files(folder: Path) -> dict[str, Path]:
    width, height = SIZE
    noise = np.random.default_rng(7).integers(0, 255, (50, 72, 3), dtype=np.uint8)
    photo = Image.fromarray(noise).resize(SIZE, Image.BILINEAR)
    made = {
        "progressive JPEG 4:4:4": (photo, "JPEG", {"quality": 60, "progressive": True, "subsampling": 0}),
        "progressive JPEG 4:2:0": (photo, "JPEG", {"quality": 60, "progressive": True}),
        "baseline JPEG": (photo, "JPEG", {"quality": 60}),
        "WebP lossless": (Image.new("RGB", SIZE, (10, 120, 200)), "WEBP", {"lossless": True}),
        "WebP lossy": (Image.new("RGB", SIZE, (10, 120, 200)), "WEBP", {"quality": 50}),
        "WebP lossy + alpha": (Image.new("RGBA", SIZE, (10, 120, 200, 128)), "WEBP", {"quality": 50}),
        "PNG RGBA": (Image.new("RGBA", SIZE, (10, 120, 200, 128)), "PNG", {}),
        "PNG palette": (Image.new("RGB", SIZE, (10, 120, 200)).quantize(), "PNG", {}),
        "PNG 16-bit grey": (Image.fromarray(np.full((height, width), 40000, np.uint16)), "PNG", {}),
    }
    paths = {}
    for name, (image, kind, options) in made.items():
        buf = io.BytesIO()
        image.save(buf, kind, **options)
        path = folder / f"{len(paths)}.{kind.lower()}"
        path.write_bytes(buf.getvalue())
        paths[name] = path
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        rows = {}
        for name, path in files(Path(folder)).items():
            grown = []
            for count in (1, 8):
                out = subprocess.run(
                    [sys.executable, "-c", CHILD, str(args.root), str(path), str(count)],
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                grown.append(int(out.stdout.strip()) if out.returncode == 0 else out.stderr.strip().splitlines()[-1])
            rows[name] = {"bytes": path.stat().st_size, "oneMB": grown[0], "eightMB": grown[1]}
            print(f"{name:24} {path.stat().st_size:>9,} B   one +{grown[0]} MB   eight +{grown[1]} MB", flush=True)
        print(json.dumps(rows))


if __name__ == "__main__":
    main()
