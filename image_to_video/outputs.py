"""Wire shapes going out: the job as the API, the socket and outbound calls show it. camelCase lives here."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from assets.serializers import UserKeyField

from .models import Job, JobStatus, WebhookDelivery


class JobParamsOut(serializers.Serializer):
    motionType = serializers.CharField(source="motion_type")
    motionStrength = serializers.IntegerField(source="motion_strength")
    motionDirection = serializers.CharField(source="motion_direction")
    duration = serializers.FloatField()
    outputFormat = serializers.CharField(source="output_format")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    focus = serializers.JSONField(help_text='"auto", "center" or {"x", "y"}, as requested')
    keyframes = serializers.JSONField(allow_null=True, help_text="the keyframes as requested, or null")
    loop = serializers.BooleanField()
    videoCodec = serializers.SerializerMethodField()
    motionBlur = serializers.FloatField(source="motion_blur")

    @extend_schema_field({"type": "string", "nullable": True, "enum": ["h264", "hevc", "av1", None]})
    def get_videoCodec(self, job) -> str | None:
        return job.video_codec or None


class FramingOut(serializers.Serializer):
    requested = serializers.CharField(help_text="auto | center | point | keyframes")
    method = serializers.CharField(help_text="face | saliency | center | point | keyframes: what framed the shot")
    box = serializers.ListField(
        child=serializers.FloatField(), allow_null=True, help_text="the subject found: x0, y0, x1, y1 (photo fractions)"
    )
    confidence = serializers.FloatField(allow_null=True)
    focus = serializers.DictField(child=serializers.FloatField(), help_text="the focus used, {x, y}")
    baseZoom = serializers.FloatField(help_text="the constant zoom added so that no frame shows a border")
    subjectInFrame = serializers.BooleanField(allow_null=True, help_text="whether every frame holds the subject box")
    notes = serializers.ListField(child=serializers.CharField(), help_text="what the renderer changed, and why")


class JobErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_serializer(component_name="Job")
class JobOut(serializers.Serializer):
    """Every field declared: a ModelSerializer introspected the model for each job it wrote out, which was
    the largest part of a ``GET job``'s time (docs/PERFORMANCE.md)."""

    jobId = serializers.UUIDField(source="id", read_only=True)
    clientId = serializers.CharField(source="client_id", read_only=True, help_text="the client's key, as a string")
    userId = UserKeyField(source="user_id")
    status = serializers.SerializerMethodField()
    progress = serializers.IntegerField(read_only=True, help_text="0-100")
    provider = serializers.CharField(read_only=True, help_text="local | runway")
    params = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    completedAt = serializers.DateTimeField(source="completed_at", read_only=True, allow_null=True)
    assetId = serializers.SerializerMethodField()
    videoUrl = serializers.SerializerMethodField()
    framing = serializers.SerializerMethodField()
    fallbackFrom = serializers.SerializerMethodField()
    batchId = serializers.UUIDField(source="batch_id", read_only=True, allow_null=True)
    model = serializers.CharField(read_only=True, help_text="the provider's model, when it has several (Runway)")
    note = serializers.SerializerMethodField()
    cameraPath = serializers.JSONField(
        source="camera_path",
        read_only=True,
        help_text="the resolved keyframes: as keyframes, they render the same video",
    )

    @extend_schema_field(JobParamsOut)
    def get_params(self, job: Job) -> dict:
        return JobParamsOut(job).data

    @extend_schema_field({"type": "string", "enum": list(JobStatus.values)})
    def get_status(self, job: Job) -> str:
        # Runway holding the task back (THROTTLED) is, to the user, still waiting in a queue.
        if job.status == JobStatus.PROCESSING and job.provider_status == "THROTTLED":
            return JobStatus.QUEUED
        return job.status

    @extend_schema_field({"type": "string", "nullable": True})
    def get_fallbackFrom(self, job: Job) -> str | None:
        return job.fallback_from or None

    @extend_schema_field({"type": "string", "nullable": True})
    def get_note(self, job: Job) -> str | None:
        if job.status == JobStatus.PROCESSING and job.provider_status == "THROTTLED":
            return "Runway is holding this task in its queue (THROTTLED); it starts when Runway has capacity."
        if job.fallback_from and job.fallback_error:
            error = job.fallback_error
            return f"Rendered by the local engine after {job.fallback_from} failed: {error.get('message', '')}"
        return None

    @extend_schema_field(FramingOut(allow_null=True))
    def get_framing(self, job: Job) -> dict | None:
        return job.framing or None

    @extend_schema_field(JobErrorOut(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if not job.error_code and not job.error_message:
            return None
        return {"code": job.error_code or "error", "message": job.error_message}

    @extend_schema_field({"type": "string", "format": "uuid", "nullable": True})
    def get_assetId(self, job: Job) -> str | None:
        return str(job.asset_id) if job.asset_id else None

    @extend_schema_field({"type": "string", "nullable": True, "description": "presigned on S3, else a path here"})
    def get_videoUrl(self, job: Job) -> str | None:
        return job.asset.file_url() if job.asset else None


@extend_schema_serializer(component_name="WebhookDelivery")
class DeliveryOut(serializers.ModelSerializer):
    deliveryId = serializers.UUIDField(source="id", read_only=True)
    webhookId = serializers.CharField(source="webhook_id", read_only=True)
    event = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    state = serializers.CharField(read_only=True, help_text="pending | delivered | failed")
    attempts = serializers.IntegerField(read_only=True)
    lastStatus = serializers.IntegerField(source="last_status", read_only=True, allow_null=True)
    lastError = serializers.CharField(source="last_error", read_only=True)
    nextRetryAt = serializers.DateTimeField(source="next_retry_at", read_only=True, allow_null=True)
    deliveredAt = serializers.DateTimeField(source="delivered_at", read_only=True, allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "deliveryId",
            "webhookId",
            "event",
            "url",
            "state",
            "attempts",
            "lastStatus",
            "lastError",
            "nextRetryAt",
            "deliveredAt",
            "createdAt",
        ]


class PlanOut(serializers.Serializer):
    """What a job with these fields would render (``engine.VideoPlan``), before anything is made."""

    framing = serializers.DictField(
        help_text="method (face, saliency, point, center, keyframes), box, focus used, subjectInFrame, notes"
    )
    cameraPath = serializers.ListField(
        source="camera_path",
        child=serializers.DictField(),
        help_text="the resolved keyframes (t, zoom, x, y, angle, ease): a job with the same fields records these",
    )
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    fps = serializers.IntegerField()
    frameCount = serializers.IntegerField(source="frame_count")


class BatchOut(serializers.Serializer):
    batchId = serializers.UUIDField()
    jobs = JobOut(many=True)


class SecretOut(serializers.Serializer):
    secret = serializers.CharField(help_text="whsec_…: shown once; verify deliveries with it (Standard Webhooks)")
