"""Job inspection for operators: read-only where editing would break invariants."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from assets.storage import presigned_url
from assets.users import user_search_fields
from assets.views import part_response

from . import services
from .filing import AssetStoreError, asset_create_from_job
from .models import ClientWebhookSettings, Job, WebhookDelivery, WebhookEvent
from .providers import PROVIDERS


class WebhookEventInline(admin.TabularInline):
    model = WebhookEvent
    extra = 0
    can_delete = False
    fields = ("webhook_id", "received_at", "processed_at", "attempts", "error", "body")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class WebhookDeliveryInline(admin.TabularInline):
    """The job's outbound webhook calls: event, target, attempts, outcome (redeliver from the delivery's page)."""

    model = WebhookDelivery
    extra = 0
    can_delete = False
    fields = ("delivery_link", "event", "url", "state", "attempts", "last_status", "last_error", "next_retry_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="delivery")
    def delivery_link(self, delivery):
        url = reverse(f"{self.admin_site.name}:image_to_video_webhookdelivery_change", args=[delivery.pk])
        return format_html('<a href="{}">{}</a>', url, delivery.webhook_id)


@admin.register(ClientWebhookSettings)
class ClientWebhookSettingsAdmin(admin.ModelAdmin):
    """A client's default outbound webhook; its signing secret is never shown (a member rotates it with
    ``POST …/clients/<id>/webhook-secret`` and sees it once)."""

    list_display = ["client", "webhook_url", "secret_state"]
    fields = ["client", "webhook_url", "webhook_events", "secret_state"]
    readonly_fields = ["secret_state"]
    raw_id_fields = ["client"]

    @admin.display(description="webhook signing secret")
    def secret_state(self, settings_row):
        return "set" if settings_row.webhook_secret else "not set (made at the first delivery)"


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["webhook_id", "event", "url", "state", "attempts", "last_status", "next_retry_at", "created_at"]
    list_filter = ["event", "client"]
    search_fields = ["webhook_id", "url", "job__id"]
    list_select_related = ["client", "job"]
    actions = ["redeliver"]
    readonly_fields = [
        "webhook_id",
        "client",
        "job",
        "event",
        "url",
        "payload",
        "attempts",
        "last_status",
        "last_error",
        "next_retry_at",
        "delivered_at",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Redeliver (same webhook-id)", permissions=["change"])
    def redeliver(self, request, queryset):
        for delivery in queryset:
            services.delivery_redeliver(delivery)
        self.message_user(request, f"{queryset.count()} delivery(ies) sent again.", messages.SUCCESS)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "status",
        "progress",
        "provider",
        "client",
        "user",
        "motion_type",
        "created_at",
        "render_seconds",
    ]
    list_filter = ["status", "provider", "client", "motion_type", "output_format"]
    search_fields = ["id", "provider_task_id"]
    date_hierarchy = "created_at"
    list_select_related = ["client", "user"]
    inlines = [WebhookEventInline, WebhookDeliveryInline]
    actions = ["cancel_jobs", "retry_jobs", "recreate_assets"]
    readonly_fields = [
        "id",
        "client",
        "user",
        "status",
        "progress",
        "provider",
        "provider_task_id",
        "provider_request",
        "motion_type",
        "motion_direction",
        "motion_strength",
        "duration",
        "output_format",
        "width",
        "height",
        "prompt_text",
        "focus",
        "keyframes",
        "framing",
        "camera_path",
        "model",
        "provider_status",
        "fallback_from",
        "fallback_error",
        "batch_id",
        "webhook_url",
        "webhook_event_types",
        "source_preview",
        "source_image",
        "output_path",
        "video_preview",
        "asset_link",
        "error_code",
        "error_message",
        "idempotency_key",
        "created_at",
        "updated_at",
        "started_at",
        "completed_at",
    ]
    exclude = ["request_fingerprint"]

    def has_add_permission(self, request):
        return False

    def get_search_fields(self, request):
        return [*self.search_fields, *user_search_fields()]  # whatever the host's user model calls its key

    def get_urls(self):
        source = path(
            "<uuid:job_id>/source/", self.admin_site.admin_view(self.source_view), name="image_to_video_job_source"
        )
        video = path(
            "<uuid:job_id>/video/", self.admin_site.admin_view(self.video_view), name="image_to_video_job_video"
        )
        return [source, video, *super().get_urls()]

    def get_readonly_fields(self, request, obj=None):
        """Everything: a job changes only through its lifecycle (the actions above), never by editing its row
        (a lease or an attempt count typed in by hand would confuse the workers)."""
        shown = [f.name for f in Job._meta.get_fields() if f.concrete and f.name not in self.exclude]
        return list(dict.fromkeys([*self.readonly_fields, *shown]))

    def video_view(self, request, job_id):
        """The job's video, for the job's page, to staff who may view jobs whatever client they belong to
        (the asset's own route is for the client's members)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(Job.objects.select_related("asset"), pk=job_id)
        if job.asset is None:
            raise Http404
        return part_response(job.asset, "file", {"X-Content-Type-Options": "nosniff"})

    def source_view(self, request, job_id):
        """The job's source image, for the job's page: staff who may view jobs only."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        job = get_object_or_404(Job, pk=job_id)
        if not job.source_image:
            raise Http404
        try:
            return FileResponse(job.source_image.open("rb"), content_type=job.source_content_type or None)
        except FileNotFoundError:
            raise Http404 from None

    def changelist_view(self, request, extra_context=None):
        """The providers' accounts (Runway credits and limits) above the job list, for operators."""
        for name, provider in PROVIDERS.items():
            try:
                detail = provider.status_detail()
            except Exception as exc:
                detail = {"error": f"unavailable ({type(exc).__name__})"}
            if detail.get("configured") or detail.get("error"):
                shown = ", ".join(f"{k} {v}" for k, v in detail.items() if k != "configured" and v is not None)
                self.message_user(request, f"{name}: {shown}", messages.INFO)
        return super().changelist_view(request, extra_context)

    @admin.display(description="duration (s)")
    def render_seconds(self, job):
        if job.started_at and job.completed_at:
            return round((job.completed_at - job.started_at).total_seconds(), 1)
        return None

    @admin.display(description="source image")
    def source_preview(self, job):
        if not job.source_image:
            return "-"
        return format_html(
            '<img src="{}" style="max-width:360px;max-height:360px" alt="source image">',
            reverse(f"{self.admin_site.name}:image_to_video_job_source", args=[job.pk]),
        )

    @admin.display(description="video")
    def video_preview(self, job):
        asset = job.asset
        if asset is None:
            return "-"
        src = presigned_url(asset.file.name or "", asset.file.storage) or reverse(
            f"{self.admin_site.name}:image_to_video_job_video", args=[job.pk]
        )
        if asset.content_type == "image/gif":
            return format_html('<img src="{}" style="max-width:480px" alt="generated gif">', src)
        return format_html('<video src="{}" controls style="max-width:480px"></video>', src)

    @admin.display(description="asset")
    def asset_link(self, job):
        asset = job.asset
        if asset is None:
            return "-"
        url = reverse(f"{self.admin_site.name}:assets_asset_change", args=[asset.pk])
        return format_html('<a href="{}">{}</a>', url, asset.name)

    @admin.action(description="Cancel selected jobs", permissions=["change"])
    def cancel_jobs(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                services.job_cancel(job)
                done += 1
            except services.JobNotCancelable:
                pass
        self.message_user(request, f"Canceled {done} job(s).", messages.SUCCESS)

    @admin.action(description="Retry selected failed jobs (as new jobs)", permissions=["change"])
    def retry_jobs(self, request, queryset):
        queued, gone, busy = 0, 0, 0
        for job in queryset.filter(status__in=["failed", "canceled"]):
            try:
                services.job_retry(job)
                queued += 1
            except services.JobNotRetryable:
                gone += 1
            except services.ClientBusy:
                busy += 1
        note = f" {gone} could not be retried: their source image is no longer kept." if gone else ""
        if busy:
            note += f" {busy} not queued: their client is at its limit of unfinished jobs."
        level = messages.WARNING if gone or busy else messages.SUCCESS
        self.message_user(request, f"Queued {queued} new job(s).{note}", level)

    @admin.action(description="Re-create missing assets", permissions=["change"])
    def recreate_assets(self, request, queryset):
        created = failed = 0
        for job in queryset.filter(status="completed", asset__isnull=True):
            try:
                created += asset_create_from_job(job_id=job.pk) is not None
            except AssetStoreError:
                failed += 1
        self.message_user(
            request,
            f"Created {created} asset(s); {failed} could not be stored.",
            messages.SUCCESS if not failed else messages.WARNING,
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["webhook_id", "provider", "task_id", "job", "received_at", "processed_at", "attempts"]
    search_fields = ["webhook_id", "task_id"]
    readonly_fields = [
        "webhook_id",
        "provider",
        "task_id",
        "job",
        "body",
        "received_at",
        "processed_at",
        "attempts",
        "error",
    ]
