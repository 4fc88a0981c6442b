"""Writes to the asset library: filing a completed job's video, exactly once."""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from .models import Asset, Category, Tag

log = logging.getLogger(__name__)
GENERATED_TAGS = ("generated", "image-to-video")
GENERATED_CATEGORIES = ("videos", "generated")
CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "gif": "image/gif"}


class AssetStoreError(Exception):
    """The video could not be stored; it stays in UPLOAD_DIR for reconcile_assets."""


def asset_storage_name(job) -> str:
    return f"clients/{job.client_id}/videos/{job.pk}.{job.output_format}"


def asset_create_from_job(*, job_id) -> Asset | None:
    """File the video of a completed job as its asset; a second call returns the first asset."""
    from image_to_video import events
    from image_to_video.models import Job, JobStatus

    job = Job.objects.select_related("client", "user").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.COMPLETED:
        return None
    existing = Asset.objects.filter(job=job).first()
    if existing is not None:
        return existing
    video = Path(job.output_path) if job.output_path else None
    if video is None or not video.is_file():
        raise AssetStoreError(f"the rendered video of job {job.pk} is missing ({job.output_path or 'no path'})")

    name = asset_storage_name(job)
    try:
        if default_storage.exists(name):
            default_storage.delete(name)  # a leftover of an interrupted attempt (the name must stay as planned)
        with video.open("rb") as fh:
            stored = default_storage.save(name, File(fh, name=video.name))
    except Exception as exc:
        log.error("storing the video of job %s failed: %s", job.pk, exc)
        raise AssetStoreError(str(exc)) from exc

    metadata = {"jobId": str(job.pk), "provider": job.provider, **job.params}
    if job.prompt_text:
        metadata["promptText"] = job.prompt_text
    try:
        with transaction.atomic():
            asset = Asset.objects.create(
                client=job.client,
                user=job.user,
                job=job,
                file=stored,
                name=f"{job.motion_type.capitalize()} {job.motion_direction}, {job.width}x{job.height} "
                f"{job.output_format} ({str(job.pk)[:8]})",
                content_type=CONTENT_TYPES.get(job.output_format, "application/octet-stream"),
                size=video.stat().st_size,
                width=job.width,
                height=job.height,
                duration=job.duration,
                metadata=metadata,
            )
            asset.tags.set([Tag.objects.get_or_create(name=t)[0] for t in GENERATED_TAGS])
            asset.categories.set([Category.objects.get_or_create(name=c)[0] for c in GENERATED_CATEGORIES])
            transaction.on_commit(lambda: events.publish_asset(asset))
            transaction.on_commit(lambda: events.publish_job(job.pk, final=True))
    except IntegrityError:
        return Asset.objects.get(job=job)  # another run filed it first; same key, same file
    video.unlink(missing_ok=True)
    log.info("job %s filed as asset %s", job.pk, asset.pk)
    return asset


def assets_reconcile() -> int:
    """Create the missing asset of every completed job; safe to run any number of times."""
    from image_to_video.models import Job, JobStatus

    created = 0
    for job_id in Job.objects.filter(status=JobStatus.COMPLETED, asset__isnull=True).values_list("pk", flat=True):
        try:
            if asset_create_from_job(job_id=job_id) is not None:
                created += 1
        except AssetStoreError as exc:
            log.error("reconcile: job %s still has no asset: %s", job_id, exc)
    return created
