"""Wire shapes coming in: GenerateRequest validates a generate call. Its fields (the photo, focus, keyframes)
are in :mod:`.fields`; output shapes in :mod:`.outputs`."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import Model
from django.http import QueryDict
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from assets.clients import clients_of, parse_client_key

from .conf import get_config
from .engine import (
    DIRECTIONS,
    MOTION_TYPES,
    OUTPUT_FORMATS,
    VIDEO_CODECS,
    InvalidParameter,
    Keyframe,
    MotionParams,
)
from .fields import FocusField, KeyframeIn, SourceImageField
from .providers import PROVIDER_NAMES, provider_unavailable_reason
from .providers.runway import MODELS as RUNWAY_MODELS
from .services.outbound import WEBHOOK_EVENTS, WebhookRefused, WebhookUnresolved, check_webhook_url


def member_client(user, value) -> Model | None:
    """The client ``value`` names, if the user belongs to it; a 400 on clientId otherwise."""
    if value is None:
        return None
    key = parse_client_key(value)
    client = None if key is None else clients_of(user).filter(pk=key).first()
    if client is None:
        raise serializers.ValidationError("Not a client you belong to.")
    return client


def default_client(user, client: Model | None) -> Model:
    """The client given, or the user's only one."""
    if client is not None:
        return client
    clients = list(clients_of(user)[:2])
    if not clients:
        raise serializers.ValidationError({"clientId": ["You do not belong to any client."]})
    if len(clients) > 1:
        raise serializers.ValidationError({"clientId": ["Required: you belong to several clients; say which one."]})
    return clients[0]


LIST_FIELDS = ("webhookEvents",)  # repeated in a form: -F webhookEvents=a -F webhookEvents=b


def _keyframe_errors_named(detail: Any) -> Any:
    """DRF reports a bad keyframe by position ({1: {"t": [...]}} or [{}, {"t": [...]}]); name it:
    {"keyframes[1].t": [...]}."""
    if not isinstance(detail, dict) or "keyframes" not in detail:
        return detail
    errors = detail["keyframes"]
    if isinstance(errors, list) and all(isinstance(item, dict) for item in errors):
        errors = dict(enumerate(errors))
    if not isinstance(errors, dict):
        return detail
    named = {key: value for key, value in detail.items() if key != "keyframes"}
    for index, item in errors.items():
        if isinstance(item, dict):
            for field, messages in item.items():
                named[f"keyframes[{index}].{field}"] = messages
        else:  # "non_field_errors": not a list of keyframes at all
            named.setdefault("keyframes", []).extend(item if isinstance(item, list) else [item])
    return named


def _json_fields_parsed(data: QueryDict) -> dict:
    """A multipart form carries focus and keyframes as JSON text; everything else as it came."""
    parsed: dict = {key: data.getlist(key) if key in LIST_FIELDS else data.get(key) for key in data}
    for name in ("focus", "keyframes"):
        value = parsed.get(name)
        if isinstance(value, str) and value.strip()[:1] in ('"', "{", "["):
            try:
                parsed[name] = json.loads(value)
            except ValueError:
                pass  # left as text: the field names the problem
    return parsed


RUNWAY_MODEL_NAMES = tuple(RUNWAY_MODELS)


class GenerateRequest(serializers.Serializer):
    """POST /api/image-to-video/generate."""

    sourceImage = SourceImageField()
    motionType = serializers.ChoiceField(choices=MOTION_TYPES, default="zoom")
    motionStrength = serializers.IntegerField(min_value=1, max_value=100, default=50)
    motionDirection = serializers.ChoiceField(
        choices=sorted({d for ds in DIRECTIONS.values() for d in ds}), required=False, allow_null=True
    )
    duration = serializers.FloatField(min_value=1, max_value=10, default=3)
    outputFormat = serializers.ChoiceField(choices=OUTPUT_FORMATS, default="mp4")
    width = serializers.IntegerField(min_value=64, max_value=1920, default=1080)
    height = serializers.IntegerField(min_value=64, max_value=1920, default=1080)
    loop = serializers.BooleanField(default=False, help_text="The last frame leads seamlessly into the first.")
    videoCodec = serializers.ChoiceField(
        choices=VIDEO_CODECS,
        required=False,
        allow_null=True,
        default=None,
        help_text="mp4 and mov: h264 (default), hevc (tagged hvc1), av1 (mp4 only); webm is VP9",
    )
    motionBlur = serializers.FloatField(
        min_value=0, max_value=1, default=0, help_text="The shutter as a fraction of the frame interval (0: none)"
    )
    clientId = serializers.CharField(required=False, allow_null=True, max_length=64, help_text="the client's key")
    provider = serializers.ChoiceField(choices=PROVIDER_NAMES, required=False, allow_null=True, default=None)
    promptText = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
    focus = FocusField(required=False, default="auto")
    model = serializers.ChoiceField(
        choices=RUNWAY_MODEL_NAMES,
        required=False,
        allow_null=True,
        default=None,
        help_text="Runway's model (provider runway only); default RUNWAY_MODEL",
    )
    webhook = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="An https URL called back (signed, Standard Webhooks) as the job moves; default the client's",
    )
    webhookEvents = serializers.ListField(
        child=serializers.ChoiceField(choices=WEBHOOK_EVENTS),
        required=False,
        allow_empty=False,
        max_length=len(WEBHOOK_EVENTS),
        default=None,
        allow_null=True,
        help_text="Which events to send, each once; default all but job.progress",
    )
    keyframes = KeyframeIn(
        many=True,
        required=False,
        allow_null=True,
        default=None,
        help_text="2-16 keyframes: a camera path instead of motionType, motionDirection and motionStrength.",
    )

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        if isinstance(data, QueryDict):
            data = _json_fields_parsed(data)
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_keyframe_errors_named(exc.detail)) from None

    def validate_clientId(self, value):
        return member_client(self.context["request"].user, value)

    def validate_webhook(self, value):
        if not value:
            return ""
        try:
            return check_webhook_url(value)
        except WebhookRefused as exc:
            raise serializers.ValidationError(f"Refused: {exc}.") from None
        except WebhookUnresolved:
            return value  # not known to be private: checked again, and retried, at every delivery

    def validate_provider(self, value):
        value = value or get_config().PROVIDER
        reason = provider_unavailable_reason(value)
        if reason:
            raise serializers.ValidationError(reason[:1].upper() + reason[1:] + ".")
        return value

    def validate_webhookEvents(self, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise serializers.ValidationError("Name each event once.")
        return value

    def validate(self, attrs):
        client = default_client(self.context["request"].user, attrs.get("clientId"))
        try:
            params = MotionParams(
                motion_type=attrs["motionType"],
                motion_direction=attrs.get("motionDirection"),
                motion_strength=attrs["motionStrength"],
                duration=float(attrs["duration"]),
                width=attrs["width"],
                height=attrs["height"],
                output_format=attrs["outputFormat"],
                focus=attrs.get("focus", "auto"),
                loop=attrs["loop"],
                video_codec=attrs.get("videoCodec"),
                motion_blur=float(attrs["motionBlur"]),
                keyframes=tuple(Keyframe(**k) for k in attrs["keyframes"])
                if attrs.get("keyframes") is not None
                else None,
            ).validate()
        except InvalidParameter as exc:
            raise serializers.ValidationError({exc.param: [exc.message[:1].upper() + exc.message[1:] + "."]}) from None
        model = attrs.get("model")
        if model and attrs["provider"] != "runway":
            raise serializers.ValidationError({"model": ["Applies to the runway provider only."]})
        return {
            "client": client,
            "params": params,
            "source": attrs.get("sourceImage") or self.context["source"],
            "provider": attrs["provider"],
            "prompt_text": attrs.get("promptText", ""),
            "model": model or "",
            "webhook_url": attrs.get("webhook", ""),
            "webhook_events": list(attrs.get("webhookEvents") or []),
        }


@extend_schema_serializer(component_name="GenerateUpload")
class GenerateUpload(GenerateRequest):
    """Generate's fields as multipart, for the schema: the photo as a file (Swagger UI offers an upload);
    ``focus`` and ``keyframes`` as JSON text."""

    sourceImage = serializers.FileField(help_text="The photo: JPEG, PNG or WebP, up to MAX_UPLOAD_BYTES")  # type: ignore[assignment]


# A valid request for the interactive docs ("Try it out" makes a job): a 96×64 gradient PNG.
EXAMPLE_PHOTO = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAGAAAABACAIAAABqVuVZAAAAcUlEQVR42u3QOREAIBAEweWRgAgUn14UQErSU6Og"
    "217VE9+eGdEjQIAAAQIECBAgQAIECBAgQIAAARIgQIAAAQIECJAAAQIECBAgQIAACRAgQIAAAQIESIAAAQIECBAgQAIECBAgQIAAAQIkQIAA/"
    "egASrcDS2xTXmMAAAAASUVORK5CYII="
)
GENERATE_EXAMPLE = {
    "sourceImage": EXAMPLE_PHOTO,
    "motionType": "zoom",
    "motionDirection": "in",
    "motionStrength": 50,
    "duration": 2,
    "outputFormat": "mp4",
    "width": 320,
    "height": 320,
}


class VariantRequest(GenerateRequest):
    """One variant of a batch: any of generate's fields but the image and the client, which the batch gives."""

    sourceImage = None  # type: ignore[assignment]  # DRF: None removes an inherited field
    clientId = None  # type: ignore[assignment]

    def validate(self, attrs):
        attrs["clientId"] = self.context["client"]
        return super().validate(attrs)


class VariantsRequest(serializers.Serializer):
    """POST /api/image-to-video/generate/variants: one image, 1-12 variants, all jobs or none."""

    sourceImage = SourceImageField()
    clientId = serializers.CharField(required=False, allow_null=True, max_length=64, help_text="the client's key")
    variants = serializers.ListField(
        child=serializers.DictField(),
        min_length=1,
        max_length=12,
        help_text="1-12 objects of generate's fields (motion, focus, keyframes, size, format, provider, webhook…)",
    )

    def validate_clientId(self, value):
        return member_client(self.context["request"].user, value)

    def validate(self, attrs):
        client = default_client(self.context["request"].user, attrs.get("clientId"))
        context = {**self.context, "client": client, "source": attrs["sourceImage"]}
        jobs, errors = [], {}
        for i, variant in enumerate(attrs["variants"]):
            form = VariantRequest(data=variant, context=context)
            if form.is_valid():
                jobs.append(form.validated_data)
            else:
                errors.update({f"variants[{i}].{field}": messages for field, messages in form.errors.items()})
        if errors:
            raise serializers.ValidationError(errors)
        cost = sum(render_cost(job["params"]) for job in jobs)
        budget = get_config().REQUEST_RENDER_BUDGET
        if cost > budget:
            raise serializers.ValidationError(
                {"variants": [f"These variants make {cost:,} pixel-frames; one request may make at most {budget:,}."]}
            )
        return {"client": client, "source": attrs["sourceImage"], "variants": jobs}


def render_cost(params: MotionParams) -> int:
    """What a render costs, as the pixels it makes: width × height × frames."""
    return params.width * params.height * params.frame_count


class WsTicketRequest(serializers.Serializer):
    """POST /api/image-to-video/ws-ticket: a socket ticket for one of the caller's clients."""

    clientId = serializers.CharField(max_length=64, help_text="the client's key")

    def validate_clientId(self, value):
        client = member_client(self.context["request"].user, value)
        return None if client is None else client.pk


class WsTicketOut(serializers.Serializer):
    ticket = serializers.CharField()
    expiresIn = serializers.IntegerField(help_text="seconds")
