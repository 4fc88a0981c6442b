"""Before/after stills of subject framing for docs/FRAMING.md (run by hand).

``.venv/bin/python bench/framing_stills.py`` renders the bundled astronaut
(NASA, public domain) into a 16:9 pan, once centred (``focus=center``, the old
behaviour) and once with ``focus=auto``, and writes the first, middle and last
frames of each side by side into ``docs/img/``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from image_to_video.engine import MotionParams, render_video  # noqa: E402

PHOTO = ROOT / "image_to_video" / "sample" / "astronaut.png"
OUT = ROOT / "docs" / "img"


def strip(video: Path) -> Image.Image:
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    picks = [frames[0], frames[len(frames) // 2], frames[-1]]
    gap = np.full((picks[0].shape[0], 8, 3), 255, np.uint8)
    return Image.fromarray(np.hstack([picks[0], gap, picks[1], gap, picks[2]]))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for focus in ("center", "auto"):
            video = Path(tmp) / f"{focus}.mp4"
            result = render_video(
                PHOTO,
                video,
                MotionParams(motion_type="pan", motion_direction="up", width=384, height=216, duration=2, focus=focus),
            )
            strip(video).save(OUT / f"framing-pan-16x9-{focus}.jpg", quality=82)
            print(focus, result.framing)


if __name__ == "__main__":
    main()
