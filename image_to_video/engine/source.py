"""Reading the still image: limits checked from the header, then decoded to RGB.

Every mode Pillow hands back is brought to 8-bit sRGB here, so nothing after
this module thinks about palettes, alpha, CMYK, 16-bit samples, colour profiles
or EXIF.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import io
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

import av
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .colour import to_srgb
from .errors import InvalidImage

MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000
# Framing keeps 2 px clear of each edge for the interpolation taps (framing.EDGE_MARGIN): a photo of 4 px or
# fewer on a side leaves no frame inside it, so no move; twice that is the least a photo may have.
MIN_SIDE = 8
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
    if min(width, height) < MIN_SIDE:
        raise InvalidImage(f"the image is {width}×{height}; at least {MIN_SIDE} px on a side are needed")
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
    """Decode fully to an (h, w, 3) uint8 RGB array, upright per EXIF, in bounded memory.

    ``min_size`` lets the decode shrink the photo by a whole factor when the
    render needs far fewer pixels than it has (still at least ``min_size`` in
    both dimensions): JPEGs by DCT scaling inside the decoder, WebP by scaling
    each decoded frame straight to that size, PNG by box-averaging right after
    the decode. A 36-megapixel file of any accepted kind costs a few hundred MB
    at most while it is decoded (``bench/decode_memory.py`` measures it).
    """
    image = _open(source)
    icc_profile = image.info.get("icc_profile")  # read with the header; the decode may drop it
    with DECODE_BUDGET.spend(decode_cost(image, min_size)):
        return to_srgb(_decode(source, image, min_size), icc_profile)


def _decode(source: Source, image: Image.Image, min_size: tuple[int, int] | None) -> np.ndarray:
    if image.format == "WEBP":
        return _load_webp(source, image, min_size)
    if min_size and image.format in ("JPEG", "MPO"):
        # min_size is upright (as displayed); the decoder works in the file's stored orientation.
        image.draft("RGB", _stored_size(image, min_size))
    try:
        image.load()
        image = _reducible(image)
        if min_size and image.format not in ("JPEG", "MPO"):
            image = _reduce_to(image, min_size)
        image = ImageOps.exif_transpose(image)
        return _to_rgb(image)
    except InvalidImage:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage("the image data is truncated or corrupt") from exc


def decode_cost(image: Image.Image, min_size: tuple[int, int] | None = None) -> int:
    """Roughly the bytes decoding ``image`` holds at its peak, from the header alone.

    A progressive JPEG keeps every DCT coefficient (2 bytes per sample of each
    component, at its subsampling) whatever the output scale; any JPEG holds its
    output at the decoder's power-of-two scale, about 10 bytes a pixel on its way
    to an RGB array. PNG and WebP hold the full image and a working copy.
    """
    pixels = image.width * image.height
    if image.format in ("JPEG", "MPO"):
        scale = 1
        while scale < 8 and scale * 2 <= _reduction(image, min_size):
            scale *= 2
        cost = pixels * 10 // scale**2
        if image.info.get("progressive") or image.info.get("progression"):
            sampling = [(h, v) for _, h, v, _ in getattr(image, "layer", [])] or [(1, 1)] * 3
            most = max(h * v for h, v in sampling)
            cost += int(pixels * 2 * sum(h * v for h, v in sampling) / most)
        return cost
    return pixels * 8


class DecodeBudget:
    """Bytes of decoding a process may hold at once: a decode waits until its cost fits.

    Requests (validating uploads) and render threads of one process share it, so
    however many large photos arrive together the process holds at most about
    this much for decoding (one decode costlier than the whole budget runs alone).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._in_use = 0
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def spend(self, cost: int) -> Iterator[None]:
        cost = min(max(cost, 0), self.limit)
        with self._changed:
            self._changed.wait_for(lambda: self._in_use + cost <= self.limit)
            self._in_use += cost
        try:
            yield
        finally:
            if cost >= RELEASE_AFTER:
                _release_freed_memory()
            with self._changed:
                self._in_use -= cost
                self._changed.notify_all()


# The decoders allocate in pieces below malloc's mmap threshold, so what they free stays in the heap of the
# thread that decoded (glibc keeps an arena per thread): one large decode after another in different
# threads would each leave their high-water mark resident. Handing it back after each large decode keeps
# the budget's promise in resident memory, not only in use.
RELEASE_AFTER = 32 * 1024 * 1024


def _release_freed_memory() -> None:
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to hand back this way
        return None


# 320 MB: one 36-megapixel photo of the costliest kind at a time, or several small ones.
DECODE_BUDGET = DecodeBudget(320 * 1024 * 1024)


def _stored_size(image: Image.Image, upright: tuple[int, int]) -> tuple[int, int]:
    width, height = upright
    return (height, width) if _orientation(image) in (5, 6, 7, 8) else (width, height)


def _reduction(image: Image.Image, min_size: tuple[int, int] | None) -> int:
    """The largest whole factor that still keeps ``min_size`` (upright)."""
    if not min_size:
        return 1
    width, height = _stored_size(image, min_size)
    return max(1, min(image.width // max(1, width), image.height // max(1, height)))


def _reduce_to(image: Image.Image, min_size: tuple[int, int]) -> Image.Image:
    """Box-average by the largest whole factor that keeps ``min_size``: later copies are that much smaller.

    PNG has no scaled decoding; reducing right after the decode keeps a
    36-megapixel photo from being copied at full size through the rest of the
    pipeline (the renderer's own area filter would average the same pixels).
    """
    factor = _reduction(image, min_size)
    return image.reduce(factor) if factor >= 2 else image


def _reducible(image: Image.Image) -> Image.Image:
    """Bring the modes ``Image.reduce`` refuses (1, P, PA, I;16) to 8-bit ones first, without a wide copy.

    A 36-megapixel 16-bit PNG would otherwise reach ``_to_rgb`` at full size and
    be widened to 32 bits there (+380 MB); shifted to 8 bits a strip at a time
    it costs 36 MB more than the decode.
    """
    mode = image.mode
    if mode == "1":
        return image.convert("L")
    if mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if mode == "PA":
        return image.convert("RGBA")
    if mode.startswith("I;16"):
        width, height = image.size
        grey = np.empty((height, width), np.uint8)
        rows = max(1, 4_000_000 // width)
        for top in range(0, height, rows):
            strip = np.asarray(image.crop((0, top, width, min(height, top + rows))))
            grey[top : top + strip.shape[0]] = np.right_shift(strip, 8)
        converted = Image.fromarray(grey, "L")
        if "exif" in image.info:
            converted.info["exif"] = image.info["exif"]
        return converted
    return image


# Pillow decodes a WebP into libwebp's animation canvas, then copies it twice: a 36-megapixel
# file costs over 550 MB. PyAV (FFmpeg's decoder, already the engine's) keeps one frame and
# scales it straight to the size wanted. Animated WebP, which FFmpeg's decoder here does not
# read, goes to Pillow only up to this size.
PILLOW_WEBP_PIXELS = 16_000_000
_EXIF_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _load_webp(source: Source, image: Image.Image, min_size: tuple[int, int] | None) -> np.ndarray:
    factor = _reduction(image, min_size)
    width, height = image.width // factor, image.height // factor
    orientation = _orientation(image)
    try:
        rgb = _webp_by_ffmpeg(_bytes_of(source), width, height)
    except av.FFmpegError:
        if image.width * image.height > PILLOW_WEBP_PIXELS:
            raise InvalidImage(
                "the WebP could not be read: it is truncated, corrupt, or animated "
                f"(animated WebP is read up to {PILLOW_WEBP_PIXELS // 1_000_000} megapixels)"
            ) from None
        try:
            image.load()
            image = _reduce_to(image, min_size) if min_size else image
            return _to_rgb(ImageOps.exif_transpose(image))
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            raise InvalidImage("the image data is truncated or corrupt") from exc
    if orientation in _EXIF_TRANSPOSE:
        rgb = np.asarray(Image.fromarray(rgb).transpose(_EXIF_TRANSPOSE[orientation]))
    return np.ascontiguousarray(rgb)


def _webp_by_ffmpeg(data: bytes, width: int, height: int) -> np.ndarray:
    """The first frame at ``width``×``height``, area-averaged by swscale, alpha flattened on white."""
    with av.open(io.BytesIO(data), mode="r", format="webp_pipe") as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1  # one frame in memory, not one per thread
        for frame in container.decode(stream):
            alpha = frame.format.name in ("argb", "rgba", "bgra", "abgr", "yuva420p")
            scaled = frame.reformat(
                width=width, height=height, format="rgba" if alpha else "rgb24", interpolation="AREA"
            )
            pixels = scaled.to_ndarray()
            if not alpha:
                return pixels
            rgba = Image.fromarray(pixels, "RGBA")
            flat = Image.new("RGB", rgba.size, FLATTEN_BACKGROUND)
            flat.paste(rgba, mask=rgba.getchannel("A"))
            return np.asarray(flat)
    raise av.InvalidDataError(0, "no frame")


def _bytes_of(source: Source) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as file:
            return file.read()
    source.seek(0)
    return source.read()


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
