"""Reading the still image: limits checked from the header, then decoded to RGB.

Every mode Pillow hands back is brought to 8-bit RGB here, so nothing after
this module thinks about palettes, alpha, CMYK, 16-bit samples or EXIF.
"""

from __future__ import annotations

import io
import os
import warnings
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .errors import InvalidImage

MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000
ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
FLATTEN_BACKGROUND = (255, 255, 255)

Source = str | os.PathLike[str] | bytes | BinaryIO


@dataclass(frozen=True)
class ImageInfo:
    """What the header says, before any pixel is decoded."""

    format: str
    content_type: str
    width: int
    height: int
    orientation: int = 1

    @property
    def oriented_size(self) -> tuple[int, int]:
        """Width and height once EXIF orientation is applied."""
        return (self.height, self.width) if self.orientation in (5, 6, 7, 8) else (self.width, self.height)


def _open(source: Source) -> Image.Image:
    if isinstance(source, bytes):
        if not source:
            raise InvalidImage("the image is empty (0 bytes)")
        source = io.BytesIO(source)
    elif isinstance(source, (str, os.PathLike)):
        try:
            if os.path.getsize(source) == 0:
                raise InvalidImage("the image is empty (0 bytes)")
        except FileNotFoundError as exc:
            raise InvalidImage(f"no such file: {os.fspath(source)}") from exc
    else:
        source.seek(0, io.SEEK_END)
        empty = source.tell() == 0
        source.seek(0)
        if empty:
            raise InvalidImage("the image is empty (0 bytes)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(source)
    except Image.DecompressionBombError as exc:
        raise InvalidImage(f"the image is too large (over {MAX_PIXELS // 1_000_000} megapixels)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidImage("not an image we can read (JPEG, PNG or WebP expected)") from exc
    if image.format not in ACCEPTED_FORMATS:
        raise InvalidImage(f"{image.format} images are not accepted; use JPEG, PNG or WebP")
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage("the image has no pixels")
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise InvalidImage(
            f"the image is {width}×{height}; at most {MAX_PIXELS // 1_000_000} megapixels "
            f"and {MAX_SIDE} px on a side are accepted"
        )
    return image


def probe_image(source: Source) -> ImageInfo:
    """Check format and size from the header only (cheap; no pixel decoded)."""
    image = _open(source)
    fmt = image.format or ""  # _open accepts only ACCEPTED_FORMATS
    return ImageInfo(fmt, ACCEPTED_FORMATS[fmt], *image.size, orientation=_orientation(image))


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation, from the header only.

    Pillow's PNG ``getexif()`` decodes the whole image when no eXIf chunk came
    before the pixels (a 36-megapixel PNG: 100+ MB and a second of CPU just to
    learn "upright"); such a PNG is upright here, and one whose eXIf chunk
    follows the pixels is turned once it is decoded (``exif_transpose``).
    """
    if image.format == "PNG" and "exif" not in image.info:
        return 1
    try:
        return int(image.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - a broken EXIF block just means "upright"
        return 1


def load_image(source: Source, *, min_size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode fully to an (h, w, 3) uint8 RGB array, upright per EXIF.

    ``min_size`` lets a JPEG decode at 1/2, 1/4 or 1/8 scale (DCT scaling) when
    the render needs far fewer pixels than the photo has: faster, less memory,
    and still at least ``min_size`` in both dimensions.
    """
    image = _open(source)
    if min_size and image.format in ("JPEG", "MPO"):
        # min_size is upright (as displayed); the decoder works in the file's stored orientation.
        width, height = min_size
        if _orientation(image) in (5, 6, 7, 8):
            width, height = height, width
        image.draft("RGB", (width, height))
    try:
        image.load()
        if min_size and image.format not in ("JPEG", "MPO"):
            image = _reduce_to(image, min_size)
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage("the image data is truncated or corrupt") from exc


def _reduce_to(image: Image.Image, min_size: tuple[int, int]) -> Image.Image:
    """Box-average by the largest whole factor that keeps ``min_size``: later copies are that much smaller.

    PNG and WebP have no scaled decoding; reducing right after the decode keeps
    a 36-megapixel photo from being copied at full size through the rest of the
    pipeline (the renderer's own area filter would average the same pixels).
    """
    width, height = min_size
    if _orientation(image) in (5, 6, 7, 8):
        width, height = height, width
    factor = min(image.width // max(1, width), image.height // max(1, height))
    if factor < 2 or image.mode not in ("RGB", "RGBA", "L", "LA"):
        return image
    return image.reduce(factor)


def _to_rgb(image: Image.Image) -> np.ndarray:
    mode = image.mode
    if mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
        mode = image.mode
    if mode.startswith("I;16") or mode == "I":
        values = np.asarray(image).astype(np.uint32)
        if mode.startswith("I;16") or values.max(initial=0) > 255:
            values = np.right_shift(values, np.uint32(8))
        grey = np.clip(values, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode == "F":
        grey = np.clip(np.asarray(image), 0, 255).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(grey[:, :, None], 3, axis=2))
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, FLATTEN_BACKGROUND)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        image = flat
    elif mode != "RGB":
        image = image.convert("RGB")
    return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
