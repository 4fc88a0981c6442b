"""Photos in other colour spaces brought to sRGB, which is what a video's players show.

Phones save Display P3 and cameras Adobe RGB, each saying so in an embedded ICC
profile. Read as if they were sRGB, their colours come out dull (a P3 orange
loses a fifth of its saturation). The photo's own profile is converted to sRGB
with LittleCMS (Pillow's ``ImageCms``), after any reduced decode so it costs
little; sRGB photos, untagged photos and broken or outsized profiles are left
as they are: a profile never fails a render.
"""

from __future__ import annotations

import functools
import io
import logging
from typing import Any

import numpy as np
from PIL import Image, ImageCms

log = logging.getLogger(__name__)
# A display profile is a few kB (a camera's with lookup tables, some tens); larger is not worth parsing.
MAX_PROFILE_BYTES = 256 * 1024
_TRANSFORMS_KEPT = 16


def to_srgb(rgb: np.ndarray, icc_profile: bytes | None) -> np.ndarray:
    """``rgb`` (h, w, 3 uint8) described by ``icc_profile``, as sRGB; the same array when nothing is to do."""
    if not icc_profile or len(icc_profile) > MAX_PROFILE_BYTES:
        return rgb
    transform = _transform(icc_profile)
    if transform is None:
        return rgb
    image = Image.fromarray(rgb, "RGB")
    ImageCms.applyTransform(image, transform, inPlace=True)
    return np.asarray(image)


@functools.lru_cache(maxsize=_TRANSFORMS_KEPT)
def _transform(icc_profile: bytes) -> Any | None:
    """The profile's transform to sRGB, built once per distinct profile; None where none is needed or
    possible. Without LittleCMS's one-pixel cache, so render threads can share it."""
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        if source.profile.xcolor_space.strip() != "RGB" or _is_srgb(source):
            return None
        return ImageCms.buildTransform(
            source,
            ImageCms.createProfile("sRGB"),
            "RGB",
            "RGB",
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            flags=ImageCms.Flags.NOCACHE,
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        log.info("the photo's colour profile could not be read (%s); its colours are taken as sRGB", exc)
        return None


def _is_srgb(profile: ImageCms.ImageCmsProfile) -> bool:
    description = (profile.profile.profile_description or "").lower()
    return "srgb" in description or "iec61966-2" in description
