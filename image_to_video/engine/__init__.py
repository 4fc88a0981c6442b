"""The motion engine: a still photo becomes a video with a camera move.

Pure Python on NumPy, OpenCV and PyAV; nothing here imports Django, so the
engine runs the same in a Celery worker, a management command or its own CLI
(``python -m image_to_video.engine IMAGE OUT``).

Pieces, in the order a render uses them: :mod:`.params` (what to render, and
its limits), :mod:`.source` (reading the photo), :mod:`.motion` (camera paths),
:mod:`.render` (affine warps), :mod:`.encode` (H.264 / GIF), :mod:`.pipeline`
(the streamed loop with progress and cancel), :mod:`.cli` (the command-line options), :mod:`.fit` (fitting an existing
video to a size and format).
"""

from .camera import EASES, Keyframe
from .errors import EngineError, InvalidImage, InvalidParameter, RenderCanceled
from .params import (
    DEFAULT_DIRECTION,
    DIRECTIONS,
    FOCUS_WORDS,
    MOTION_TYPES,
    OUTPUT_FORMATS,
    VIDEO_CODECS,
    MotionParams,
)
from .pipeline import RenderResult, VideoPlan, plan_video, render_video
from .source import DECODE_BUDGET, ImageInfo, load_image, probe_image

__all__ = [
    "EASES",
    "Keyframe",
    "DEFAULT_DIRECTION",
    "DIRECTIONS",
    "MOTION_TYPES",
    "OUTPUT_FORMATS",
    "VIDEO_CODECS",
    "FOCUS_WORDS",
    "EngineError",
    "ImageInfo",
    "InvalidImage",
    "InvalidParameter",
    "MotionParams",
    "RenderCanceled",
    "RenderResult",
    "VideoPlan",
    "plan_video",
    "DECODE_BUDGET",
    "load_image",
    "probe_image",
    "render_video",
]
