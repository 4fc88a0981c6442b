"""The request fields a generate call is made of: the photo (decoded and checked, in bounded slots), the
focus, a keyframe. :mod:`.serializers` builds the requests from them."""

from __future__ import annotations

import base64
import binascii
import functools
import re
import threading

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .conf import get_config
from .engine import EASES, FOCUS_WORDS, EngineError, load_image, probe_image
from .services import SourceImage

DATA_URI = re.compile(
    r"^data:(?P<type>image/[a-z0-9.+-]+)?(?P<params>(;[a-z0-9=.+-]+)*);base64,(?P<data>.*)$", re.IGNORECASE | re.DOTALL
)
# Full decodes in a request are bounded: a small PNG can inflate to 40 megapixels (120+ MB).


@functools.cache
def _decode_slots(size: int) -> threading.BoundedSemaphore:
    """The process's decode slots (made at first use, not at import: the config is read then)."""
    return threading.BoundedSemaphore(size)


EXTENSIONS = {"JPEG": "jpg", "MPO": "jpg", "PNG": "png", "WEBP": "webp"}


def _file_name(given: str | None) -> str:
    """The uploaded file's own name, kept for search: no folders, no control characters, at most 200."""
    base = re.split(r"[\\/]", given or "")[-1]
    return "".join(c for c in base if c.isprintable())[:200]


def engine_error_sentence(exc: EngineError) -> str:
    """What the engine found wrong with a photo, as the sentence a 400 carries ("image too small" ->
    "Image too small.")."""
    text = str(exc)
    return text[:1].upper() + text[1:] + "."


@extend_schema_field({"type": "string", "description": "data:image/…;base64,… URI, or a file in multipart"})
class SourceImageField(serializers.Field):
    """A data URI (JSON) or an uploaded file (multipart), checked to be a whole, decodable image."""

    default_error_messages = {
        "invalid": "Send a data:image/…;base64,… URI or upload a file.",
        "base64": "The data URI is not valid base64.",
        "too_large": "The image is larger than {limit} MB.",
        "empty": "The image is empty.",
    }

    def to_internal_value(self, value) -> SourceImage:
        limit = get_config().MAX_UPLOAD_BYTES
        name = ""
        if isinstance(value, UploadedFile):
            name = _file_name(value.name)
            if (value.size or 0) > limit:
                self.fail("too_large", limit=limit // (1024 * 1024))
            data = value.read()
        elif isinstance(value, str):
            match = DATA_URI.match(value.strip())
            if not match:
                self.fail("invalid")
            payload = re.sub(r"\s+", "", match["data"])
            if len(payload) * 3 // 4 > limit + 3:
                self.fail("too_large", limit=limit // (1024 * 1024))
            try:
                data = base64.b64decode(payload, validate=True)
            except (binascii.Error, ValueError):
                self.fail("base64")
        else:
            self.fail("invalid")
        if not data:
            self.fail("empty")
        if len(data) > limit:
            self.fail("too_large", limit=limit // (1024 * 1024))
        try:
            info = probe_image(data)  # the header: format, size within limits; no pixel decoded
            if info.format in ("JPEG", "MPO") or info.width * info.height <= get_config().VALIDATE_DECODE_PIXELS:
                # Decodes every byte (JPEGs at 1/8 scale), catching truncation, a few at a time per process.
                with _decode_slots(get_config().IMAGE_DECODES_AT_ONCE):
                    load_image(data, min_size=(64, 64))
            # Larger PNG/WebP: what the header says is checked here; the full decode is the worker's.
        except EngineError as exc:
            raise serializers.ValidationError(engine_error_sentence(exc)) from None
        return SourceImage(data=data, content_type=info.content_type, extension=EXTENSIONS[info.format], name=name)

    def to_representation(self, value):
        return None


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["auto", "center"]},
            {
                "type": "object",
                "properties": {
                    "x": {"type": "number", "minimum": 0, "maximum": 1},
                    "y": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "required": ["x", "y"],
            },
        ],
        "default": "auto",
        "description": 'Where the camera frames: "auto" (faces, else the salient region, else the centre), '
        '"center", or a photo point {"x", "y"} in fractions of its width and height.',
    }
)
class FocusField(serializers.Field):
    default_error_messages = {"invalid": 'Use "auto", "center" or {{"x": 0..1, "y": 0..1}}.'}

    def to_internal_value(self, value):
        if isinstance(value, str) and value in FOCUS_WORDS:
            return value
        if isinstance(value, dict) and set(value) == {"x", "y"}:
            x, y = value["x"], value["y"]
            if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (x, y)):
                return (float(x), float(y))
        self.fail("invalid")

    def to_representation(self, value):
        return value


class KeyframeIn(serializers.Serializer):
    t = serializers.FloatField(help_text="seconds from the start, 0..duration, increasing")
    zoom = serializers.FloatField(default=1.0, help_text="1..4, relative to the whole photo framed")
    x = serializers.FloatField(default=0.5, help_text="photo point at the frame centre, 0..1 of the width")
    y = serializers.FloatField(default=0.5, help_text="0..1 of the height")
    angle = serializers.FloatField(default=0.0, help_text="degrees, -45..45, positive turns clockwise")
    ease = serializers.ChoiceField(
        choices=EASES, default="smooth", help_text="how the camera leaves this keyframe; hold: stays until the next"
    )

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)
