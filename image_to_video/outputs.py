"""Wire shapes going out: the job as the API, the socket and outbound calls show it. camelCase lives here."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from .models import Job, JobStatus


class JobParamsOut(serializers.Serializer):
    motionType = serializers.CharField(source="motion_type")
    motionStrength = serializers.IntegerField(source="motion_strength")
    motionDirection = serializers.CharField(source="motion_direction")
    duration = serializers.FloatField()
    outputFormat = serializers.CharField(source="output_format")
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class JobErrorOut(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


@extend_schema_serializer(component_name="Job")
class JobOut(serializers.ModelSerializer):
    jobId = serializers.UUIDField(source="id", read_only=True)
    clientId = serializers.UUIDField(source="client_id", read_only=True)
    userId = serializers.IntegerField(source="user_id", read_only=True)
    status = serializers.ChoiceField(choices=JobStatus.choices, read_only=True)
    params = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)
    completedAt = serializers.DateTimeField(source="completed_at", read_only=True)
    assetId = serializers.SerializerMethodField()
    videoUrl = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "jobId",
            "clientId",
            "userId",
            "status",
            "progress",
            "provider",
            "params",
            "error",
            "createdAt",
            "updatedAt",
            "completedAt",
            "assetId",
            "videoUrl",
        ]

    @extend_schema_field(JobParamsOut)
    def get_params(self, job: Job) -> dict:
        return JobParamsOut(job).data

    @extend_schema_field(JobErrorOut(allow_null=True))
    def get_error(self, job: Job) -> dict | None:
        if not job.error_code and not job.error_message:
            return None
        return {"code": job.error_code or "error", "message": job.error_message}

    @extend_schema_field(OpenApiTypes.UUID)
    def get_assetId(self, job: Job) -> str | None:
        return str(job.asset_id) if job.asset_id else None

    @extend_schema_field(OpenApiTypes.URI)
    def get_videoUrl(self, job: Job) -> str | None:
        return job.asset.file_url() if job.asset else None
