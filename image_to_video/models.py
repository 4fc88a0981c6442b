"""Jobs and the webhook deliveries that report on them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from assets.clients import client_model_label
from assets.storage import get_files_storage

from .engine import Keyframe, MotionParams


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELED = "canceled"


FINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED})
# The only moves a job may make; services.transition() enforces them. Processing goes back
# to queued only when its worker is gone (an expired lease): the job is handed to another.
ALLOWED_TRANSITIONS = {
    JobStatus.QUEUED: frozenset({JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.CANCELED}),
    JobStatus.PROCESSING: frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.QUEUED}),
}


ORIGIN_PREFIX = "image_to_video.job:"  # an asset's origin: the job that made it


def asset_origin_of(job_id: object) -> str | None:
    """The origin of the asset a job made, or None when ``job_id`` is not a job id at all."""
    try:
        return f"{ORIGIN_PREFIX}{uuid.UUID(str(job_id))}"
    except ValueError:
        return None


def auto_focus() -> str:
    return "auto"


def source_path(job: Job, filename: str) -> str:
    return f"sources/{job.client_id}/{job.id}{filename[filename.rfind('.') :] if '.' in filename else ''}"


class Job(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client = models.ForeignKey(client_model_label(), on_delete=models.CASCADE, related_name="image_to_video_jobs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="video_jobs")
    provider = models.CharField(max_length=20, default="local")
    provider_task_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    provider_request = models.JSONField(default=dict, blank=True, help_text="What was sent to the provider.")

    status = models.CharField(max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0)

    motion_type = models.CharField(max_length=20)
    motion_direction = models.CharField(max_length=20)
    motion_strength = models.PositiveSmallIntegerField()
    duration = models.FloatField()
    output_format = models.CharField(max_length=10)
    video_codec = models.CharField(max_length=10, blank=True, default="", help_text="mp4/mov: h264, hevc or av1.")
    loop = models.BooleanField(default=False, help_text="The path returns to its start: a seamless loop.")
    motion_blur = models.FloatField(default=0.0, help_text="The shutter, as a fraction of the frame interval.")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    prompt_text = models.TextField(blank=True, default="")
    focus = models.JSONField(
        default=auto_focus, help_text='"auto", "center" or {"x", "y"} in photo fractions, as given.'
    )
    keyframes = models.JSONField(null=True, blank=True, help_text="The keyframed camera path as given, if any.")
    framing = models.JSONField(
        default=dict, blank=True, help_text="What the render found and did: subject, focus used, base zoom, notes."
    )
    model = models.CharField(max_length=40, blank=True, default="", help_text="The provider's model (Runway).")
    provider_status = models.CharField(
        max_length=20, blank=True, default="", help_text="The provider's own status word, e.g. THROTTLED."
    )
    fallback_from = models.CharField(
        max_length=20, blank=True, default="", help_text="The provider that failed before this job fell back."
    )
    fallback_error = models.JSONField(null=True, blank=True, help_text="That provider's error, {code, message}.")
    batch_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="Variants made together.")
    webhook_url = models.CharField(max_length=2000, blank=True, default="")
    webhook_event_types = models.JSONField(default=list, blank=True)
    camera_path = models.JSONField(
        default=list, blank=True, help_text="The resolved camera path (keyframes): renders the same video again."
    )

    # In the shared storage (S3 when configured): any worker on any host reads it from there.
    source_image = models.FileField(upload_to=source_path, max_length=300, storage=get_files_storage)
    source_content_type = models.CharField(max_length=50, default="")
    source_name = models.CharField(
        max_length=200, blank=True, default="", help_text="The uploaded photo's own file name (for search)."
    )
    video_name = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="The finished video in the shared storage, where filing finds it from any host.",
    )
    output_path = models.CharField(
        max_length=500,
        blank=True,
        default="",
        help_text="Only while storage was down: the video in the rendering worker's UPLOAD_DIR.",
    )
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        db_index=True,
        help_text="A running job's worker renews this as it works; once past, another worker takes the job.",
    )
    attempts = models.PositiveSmallIntegerField(default=0, help_text="How many times a worker started the job.")

    asset = models.OneToOneField(
        "assets.Asset",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="job",
        help_text="The video filed in the asset library (one per job: the asset's origin is unique).",
    )

    result_claimed_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while one worker fetches a provider's result."
    )
    error_code = models.CharField(max_length=50, blank=True, default="")
    error_message = models.TextField(blank=True, default="")

    idempotency_key = models.CharField(max_length=255, blank=True, default="")
    request_fingerprint = models.CharField(max_length=64, blank=True, default="")

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["client", "-created_at"]),
            # A client's queued jobs, oldest first: the fair pick's one probe, and the oldest a load row keeps.
            models.Index(fields=["client", "created_at"], condition=models.Q(status="queued"), name="i2v_job_queued"),
            # The running jobs: few (one per busy worker), counted by the recovery sweep's recount.
            models.Index(fields=["client"], condition=models.Q(status="processing"), name="i2v_job_running"),
            # Queued jobs of one provider kind: the pick's fallback reads only these, so a Runway turn does
            # not count a long local queue (nor a render turn a Runway one).
            models.Index(
                fields=["provider", "created_at"], condition=models.Q(status="queued"), name="i2v_job_queued_kind"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="one_job_per_idempotency_key",
            ),
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="progress_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.motion_type} {self.width}x{self.height} {self.output_format} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def params(self) -> dict:
        """The generation parameters, camelCase, as on the wire and in asset metadata."""
        return {
            "motionType": self.motion_type,
            "motionStrength": self.motion_strength,
            "motionDirection": self.motion_direction,
            "duration": self.duration,
            "outputFormat": self.output_format,
            "width": self.width,
            "height": self.height,
            "focus": self.focus,
            "keyframes": self.keyframes,
            "loop": self.loop,
            "videoCodec": self.video_codec or None,
            "motionBlur": self.motion_blur,
        }

    def motion_params(self) -> MotionParams:
        """What the engine renders for this job (validated)."""
        focus = self.focus
        return MotionParams(
            motion_type=self.motion_type,
            motion_direction=self.motion_direction,
            motion_strength=self.motion_strength,
            duration=self.duration,
            width=self.width,
            height=self.height,
            output_format=self.output_format,
            focus=(focus["x"], focus["y"]) if isinstance(focus, dict) else focus,
            loop=self.loop,
            video_codec=self.video_codec or None,
            motion_blur=self.motion_blur,
            keyframes=tuple(Keyframe.from_dict(k) for k in self.keyframes) if self.keyframes else None,
        ).validate()


class ClientLoad(models.Model):
    """A client's place in the fair queue, kept by the lifecycle as its jobs move: how many it has running
    and queued, and when its oldest queued job was made. The fair pick reads the first row of an index on
    (running, oldest_queued) instead of counting every queued job; the recovery sweep recounts it all, so
    a count that drifts (a crash between two writes cannot, they share a transaction) heals itself."""

    # No foreign-key constraint in the database: writing this row then never takes a lock on the client's
    # row, which job creation holds (FOR UPDATE) while it counts the client's jobs; the ORM still deletes
    # the row with its client.
    client = models.OneToOneField(
        client_model_label(),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="image_to_video_load",
        db_constraint=False,
    )
    running = models.IntegerField(default=0)
    queued = models.IntegerField(default=0)
    oldest_queued = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["running", "oldest_queued"], condition=models.Q(queued__gt=0), name="i2v_load_waiting")
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {self.running} running, {self.queued} queued"


class ClientWebhookSettings(models.Model):
    """What the app keeps per client, whatever the tenant model: the default outbound webhook of jobs that
    name none, and the secret that signs every webhook of the client (made at the first delivery)."""

    client = models.OneToOneField(
        client_model_label(),
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="image_to_video_webhook_settings",
    )
    webhook_url = models.URLField(
        max_length=2000, blank=True, default="", help_text="Default outbound webhook for jobs that name none."
    )
    webhook_events = models.JSONField(
        default=list, blank=True, help_text="Events sent to the default webhook; empty: all but job.progress."
    )
    webhook_secret = models.CharField(
        max_length=100, blank=True, default="", help_text="whsec_…: signs outbound webhooks (Standard Webhooks)."
    )

    class Meta:
        verbose_name = "client webhook settings"
        verbose_name_plural = "client webhook settings"

    def __str__(self) -> str:
        return f"webhooks of {self.client}"


class WebhookDelivery(models.Model):
    """One outbound webhook call and its attempts; the row is the outbox (made with the change it reports)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook_id = models.CharField(max_length=60, unique=True, help_text="Sent as webhook-id on every attempt.")
    client = models.ForeignKey(
        client_model_label(), on_delete=models.CASCADE, related_name="image_to_video_webhook_deliveries"
    )
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=30)
    url = models.CharField(max_length=2000)
    payload = models.JSONField()
    attempts = models.PositiveSmallIntegerField(default=0)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True, help_text="HTTP status of the last try.")
    last_error = models.TextField(blank=True, default="")
    next_retry_at = models.DateTimeField(
        null=True, blank=True, db_index=True, help_text="When the next attempt is due; empty once done or given up."
    )
    delivered_at = models.DateTimeField(null=True, blank=True)
    claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="An attempt is in flight until then (longer than an attempt can last)."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["client", "claimed_until"], name="i2v_delivery_in_flight")]

    def __str__(self) -> str:
        return f"{self.event} → {self.url}"

    @property
    def state(self) -> str:
        if self.delivered_at:
            return "delivered"
        return "pending" if self.next_retry_at else "failed"


class WebhookEvent(models.Model):
    """One verified webhook delivery, stored before it is acknowledged."""

    webhook_id = models.CharField(max_length=200, unique=True)
    provider = models.CharField(max_length=20, default="runway")
    task_id = models.CharField(max_length=200, blank=True, default="", db_index=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="webhook_events")
    body = models.JSONField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.provider} {self.webhook_id}"
