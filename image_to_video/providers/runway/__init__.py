"""Runway's API as a provider: the HTTP client (:mod:`.client`), its models (:mod:`.models`), the camera move
in words (:mod:`.prompt`) and the adapter (:mod:`.provider`)."""

from .client import API_VERSION, STATUS_MAP, RunwayClient, parse_task
from .models import MODELS, nearest_duration, nearest_ratio
from .prompt import motion_prompt
from .provider import RunwayProvider

__all__ = [
    "API_VERSION",
    "MODELS",
    "STATUS_MAP",
    "RunwayClient",
    "RunwayProvider",
    "motion_prompt",
    "nearest_duration",
    "nearest_ratio",
    "parse_task",
]
