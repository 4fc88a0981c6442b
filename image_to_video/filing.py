"""A completed job's video becomes its asset in the library, exactly once.

The post-save signal queues :func:`asset_create_from_job` (the ``store_asset``
task) when a job completes; :func:`assets_reconcile` files whatever that missed
(storage down, a crashed worker) and runs periodically.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.db import transaction

from assets.models import Asset
from assets.services import AssetStoreError, asset_create

from . import events
from .models import Job, JobStatus

log = logging.getLogger(__name__)
GENERATED_TAGS = ("generated", "image-to-video")
GENERATED_CATEGORIES = ("videos", "generated")
CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "gif": "image/gif"}

__all__ = ["AssetStoreError", "asset_create_from_job", "asset_origin", "asset_storage_name", "assets_reconcile"]


def asset_origin(job: Job) -> str:
    return f"image_to_video.job:{job.pk}"


def asset_storage_name(job: Job) -> str:
    return f"clients/{job.client_id}/videos/{job.pk}.{job.output_format}"


def asset_create_from_job(*, job_id: Any) -> Asset | None:
    """File the video of a completed job as its asset; a second call returns the first asset."""
    job = Job.objects.select_related("client", "user", "asset").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.COMPLETED:
        return None
    if job.asset is not None:
        return job.asset
    origin = asset_origin(job)
    video = Path(job.output_path) if job.output_path else None
    already_filed = Asset.objects.filter(origin=origin).exists()  # filed, but the job not yet linked
    if not already_filed and (video is None or not video.is_file()):
        raise AssetStoreError(f"the rendered video of job {job.pk} is missing ({job.output_path or 'no path'})")
    metadata = {"jobId": str(job.pk), "provider": job.provider, **job.params}
    if job.prompt_text:
        metadata["promptText"] = job.prompt_text
    asset, created = asset_create(
        client=job.client,
        user=job.user,
        path=video or Path(),
        storage_name=asset_storage_name(job),
        name=f"{job.motion_type.capitalize()} {job.motion_direction}, {job.width}x{job.height} "
        f"{job.output_format} ({str(job.pk)[:8]})",
        content_type=CONTENT_TYPES.get(job.output_format, "application/octet-stream"),
        origin=origin,
        tags=GENERATED_TAGS,
        categories=GENERATED_CATEGORIES,
        metadata=metadata,
        width=job.width,
        height=job.height,
        duration=job.duration,
    )
    with transaction.atomic():
        linked = Job.objects.filter(pk=job.pk, asset__isnull=True).update(asset=asset)
        if linked:
            transaction.on_commit(lambda: events.publish_asset(asset))
            transaction.on_commit(lambda: events.publish_job(job.pk, final=True))
    if video is not None:
        video.unlink(missing_ok=True)
    if created:
        log.info("job %s filed as asset %s", job.pk, asset.pk)
    return asset


def assets_reconcile() -> int:
    """Create the missing asset of every completed job; safe to run any number of times."""
    created = 0
    for job_id in Job.objects.filter(status=JobStatus.COMPLETED, asset__isnull=True).values_list("pk", flat=True):
        try:
            if asset_create_from_job(job_id=job_id) is not None:
                created += 1
        except AssetStoreError as exc:
            log.error("reconcile: job %s still has no asset: %s", job_id, exc)
    return created
