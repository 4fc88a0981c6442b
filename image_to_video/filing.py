"""A completed job's video becomes its asset in the library, exactly once.

The post-save signal queues :func:`asset_create_from_job` (the ``store_asset``
task, which retries with backoff) when a job completes; :func:`assets_reconcile`
files whatever that missed and runs periodically. Either may run on any host:
the video is taken from the shared storage, else from this host's scratch space
(storage was down when the job finished here), else made again from the stored
source (the worker that had it is gone).
"""

from __future__ import annotations

import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from assets.models import Asset
from assets.services import AssetStoreError, asset_create
from assets.storage import files_storage

from . import events, logs, metrics
from .conf import get_config
from .engine import EngineError
from .engine.probe import VideoFacts, VideoQuality, inspect_video_with_poster
from .models import ORIGIN_PREFIX, Job, JobStatus
from .providers import ProviderError
from .services.lifecycle import job_link_asset, job_record_video
from .services.outbound import deliveries_create
from .services.scratch import StorageUnavailable, store_video, stored_video_exists
from .services.videos import remake_video

log = logging.getLogger(__name__)
GENERATED_TAGS = ("generated", "image-to-video")
GENERATED_CATEGORIES = ("videos", "generated")
CONTENT_TYPES = {"mp4": "video/mp4", "mov": "video/quicktime", "gif": "image/gif", "webm": "video/webm"}

__all__ = ["AssetStoreError", "asset_create_from_job", "asset_origin", "assets_reconcile"]


def asset_origin(job: Job) -> str:
    return f"{ORIGIN_PREFIX}{job.pk}"


def asset_create_from_job(*, job_id: Any) -> Asset | None:
    """File the video of a completed job as its asset; a second call returns the first asset."""
    with logs.job_context(job_id):
        job = Job.objects.select_related("client", "user", "asset").filter(pk=job_id).first()
        if job is None or job.status != JobStatus.COMPLETED:
            return None
        if job.asset is not None:
            return job.asset
        try:
            asset = Asset.objects.filter(origin=asset_origin(job)).first() or _file(job)
        except AssetStoreError:
            metrics.FILING_FAILURES.inc()
            raise
        with transaction.atomic():
            if job_link_asset(job.pk, asset):
                deliveries_create(job, "asset.created", asset=asset)
                transaction.on_commit(lambda: events.publish_asset(asset), robust=True)
                transaction.on_commit(lambda: events.publish_job(job.pk, final=True), robust=True)
                log.info("filed as asset %s", asset.pk)
        return asset


def _file(job: Job) -> Asset:
    name = _video_in_storage(job)
    facts, quality, poster_name = _facts_and_poster(name)
    metadata = {"jobId": str(job.pk), "provider": job.provider, **job.params}
    if quality is not None:
        metadata["quality"] = quality_report(quality, job.framing or {})
    if job.framing:
        metadata["framing"] = job.framing
        metadata["cameraPath"] = job.camera_path
    if job.source_name:
        metadata["sourceName"] = job.source_name
    if job.prompt_text:
        metadata["promptText"] = job.prompt_text
    if job.batch_id:
        metadata["batchId"] = str(job.batch_id)
    if job.fallback_from:
        metadata["fallbackFrom"] = job.fallback_from
    asset, _ = asset_create(
        client=job.client,
        user=job.user,
        stored_name=name,
        name=f"{job.motion_type.capitalize()} {job.motion_direction}, {job.width}x{job.height} "
        f"{job.output_format} ({str(job.pk)[:8]})",
        content_type=CONTENT_TYPES.get(job.output_format, "application/octet-stream"),
        origin=asset_origin(job),
        tags=(*GENERATED_TAGS, f"batch-{job.batch_id}") if job.batch_id else GENERATED_TAGS,
        categories=GENERATED_CATEGORIES,
        metadata=metadata,
        width=facts.width if facts else job.width,
        height=facts.height if facts else job.height,
        duration=facts.duration if facts else job.duration,
        fps=facts.fps if facts else None,
        frame_count=facts.frame_count if facts else None,
        codec=facts.codec if facts else "",
        bitrate=facts.bitrate if facts else None,
        poster_name=poster_name,
    )
    return asset


def quality_report(quality: VideoQuality, framing: dict) -> dict:
    """``metadata.quality``: the measured values, and ``flags`` naming each outside the config's limits."""
    report = {**quality.as_dict(), "subjectInFrame": framing.get("subjectShare")}
    limits = get_config().QUALITY_LIMITS
    flags = [
        name
        for name, limit in limits.items()
        if report.get(name) is not None and (report[name] < limit if name == "subjectInFrame" else report[name] > limit)
    ]
    return {**report, "flags": flags}


def _facts_and_poster(name: str) -> tuple[VideoFacts | None, VideoQuality | None, str]:
    """Probe the stored video (not the request) and store a poster beside it, ``<video>.poster.jpg``.

    A video that cannot be probed is still filed, with the requested size and
    length and no poster; a storage outage is an AssetStoreError (retried).
    """
    poster_name = f"{name.rsplit('.', 1)[0]}.poster.jpg"
    Path(get_config().UPLOAD_DIR).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=get_config().UPLOAD_DIR) as tmp:
        local = Path(tmp) / Path(name).name
        try:
            with files_storage.open(name, "rb") as src, local.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        except Exception as exc:
            raise AssetStoreError(f"{name} could not be read from storage ({type(exc).__name__})") from exc
        try:
            facts, quality, poster = inspect_video_with_poster(local)  # one download, one decode
        except Exception as exc:  # noqa: BLE001 - whatever the file is, it is filed (without facts)
            log.error("could not probe %s (%s): filed without facts or poster", name, exc)
            return None, None, ""
    try:
        if files_storage.exists(poster_name):
            files_storage.delete(poster_name)  # a retry: the poster of the same video
        saved = files_storage.save(poster_name, ContentFile(poster))
    except Exception as exc:
        raise AssetStoreError(f"the poster could not be stored ({type(exc).__name__})") from exc
    return facts, quality, saved


def _video_in_storage(job: Job) -> str:
    """The video's storage name, storing or making it first where needed."""
    try:
        if job.video_name and stored_video_exists(job.video_name):
            return job.video_name
        local = Path(job.output_path) if job.output_path else None
        if local is not None and local.is_file():
            name = store_video(job, local)
            local.unlink(missing_ok=True)
        else:
            log.warning("the video is in no storage here; making it again from the source")
            name = remake_video(job)
    except StorageUnavailable as exc:
        raise AssetStoreError(str(exc)) from exc
    except (FileNotFoundError, EngineError, ProviderError) as exc:
        raise AssetStoreError(f"the video of job {job.pk} is missing and cannot be made again ({exc})") from exc
    job_record_video(job.pk, name)
    return name


def assets_reconcile() -> int:
    """Create the missing asset of every completed job; safe to run any number of times, on any host."""
    created = 0
    for job_id in Job.objects.filter(status=JobStatus.COMPLETED, asset__isnull=True).values_list("pk", flat=True):
        try:
            if asset_create_from_job(job_id=job_id) is not None:
                created += 1
        except AssetStoreError as exc:
            log.error("reconcile: job %s still has no asset: %s", job_id, exc)
    return created
