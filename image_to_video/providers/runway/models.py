"""Runway's models: the ratios and durations each takes, and the nearest of them to what a job asks.

From Runway's API reference as its official SDK states it (runwayml/sdk-python 5.13,
types/image_to_video_create_params.py).
"""

from __future__ import annotations

import math
from typing import Any

GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
MODELS: dict[str, dict[str, Any]] = {
    "gen4.5": {"ratios": GEN4_RATIOS, "durations": tuple(range(2, 11))},  # "an integer from 2 to 10"
    "gen4_turbo": {"ratios": GEN4_RATIOS, "durations": tuple(range(2, 11))},
    "veo3.1": {"ratios": VEO_RATIOS, "durations": (4, 6, 8), "extra": {"audio": False}},  # audio costs more
    "veo3.1_fast": {"ratios": VEO_RATIOS, "durations": (4, 6, 8), "extra": {"audio": False}},
}


def nearest_ratio(model: str, width: int, height: int) -> str:
    """The model's allowed ratio closest to width:height (compared as log aspect ratios)."""
    wanted = math.log(width / height)

    def distance(ratio: str) -> tuple[float, float]:
        # The nearest shape first; between equal shapes (veo's 720:1280 and 1080:1920), the nearest size.
        w, h = (int(part) for part in ratio.split(":"))
        return round(abs(math.log(w / h) - wanted), 6), abs(math.log(w * h / (width * height)))

    return min(MODELS[model]["ratios"], key=distance)


def nearest_duration(model: str, seconds: float) -> int:
    allowed = MODELS[model]["durations"]
    longer = [d for d in allowed if d >= seconds]
    return min(longer) if longer else max(allowed)  # never shorter than asked, when it can be helped
