"""What bringing a Display P3 photo to sRGB costs a decode, side by side with the same photo untagged.

Run by hand: ``.venv/bin/python bench/colour.py``. A 4000×3000 JPEG (quality 92) is made once,
then saved twice from the same pixels: with a Display P3 profile and without one. Each is
decoded by ``load_image`` as a 1080p render asks (``min_size=(1920, 1080)``, the decoder at 1/2
scale) and at full size, alternately, 9 times; the medians and their ratio are printed as one
JSON line. Results and method: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from image_to_video.engine.source import load_image  # noqa: E402
from tests.colour_profiles import DISPLAY_P3  # noqa: E402


def _jpeg(pixels: np.ndarray, **save) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=92, **save)
    return buf.getvalue()


def main() -> None:
    rng = np.random.default_rng(1)
    coarse = rng.uniform(30, 220, (94, 125, 3)).astype(np.uint8)
    pixels = np.asarray(Image.fromarray(coarse).resize((4000, 3000), Image.Resampling.BICUBIC))
    files = {"untagged": _jpeg(pixels), "p3": _jpeg(pixels, icc_profile=DISPLAY_P3)}
    results = {}
    for label, min_size in (("1080p", (1920, 1080)), ("full", None)):
        times: dict[str, list[float]] = {name: [] for name in files}
        for _ in range(9):
            for name, data in files.items():
                start = time.perf_counter()
                load_image(data, min_size=min_size)
                times[name].append((time.perf_counter() - start) * 1000)
        medians = {name: round(statistics.median(values), 1) for name, values in times.items()}
        results[label] = {**medians, "ratio": round(medians["p3"] / medians["untagged"], 2)}
    print(json.dumps({"decodeMs": results}))


if __name__ == "__main__":
    main()
