"""An image posted to the API becomes a completed job with exactly one asset in S3."""

import tempfile
from pathlib import Path

import pytest
import requests
from django.conf import settings

from assets.models import Asset
from image_to_video.models import Job
from tests.conftest import bucket_keys, eventually, generate_body, photo_bytes, upload_files, wait_for_job
from tests.videos import probe_video


def _probe_download(url: str, suffix: str):
    response = requests.get(url, timeout=30)
    assert response.status_code == 200, response.text[:200]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"video{suffix}"
        path.write_bytes(response.content)
        return probe_video(path)


def _assert_poster(url: str, width: int, height: int) -> None:
    """The poster is a JPEG of the video's size (long side capped at 1280) and not a flat picture."""
    import io

    import numpy as np
    from PIL import Image

    assert "Signature" in url, "presigned like the video"
    response = requests.get(url, timeout=10)
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "JPEG"
    scale = min(1.0, 1280 / max(width, height))
    assert image.size == (round(width * scale), round(height * scale))
    assert float(np.asarray(image.convert("L")).std()) > 5, "not uniform"


def assert_filed(job_id, tenant, s3, *, width, height, duration, fmt="mp4", frames=None):
    job = wait_for_job(job_id, asset=True)
    assert job.status == "completed", job.error_message
    assets = Asset.objects.filter(job=job)
    assert assets.count() == 1
    asset = assets.get()
    assert (asset.client, asset.user) == (tenant.client, tenant.user)
    assert sorted(asset.tags.values_list("name", flat=True)) == ["generated", "image-to-video"]
    assert sorted(asset.categories.values_list("name", flat=True)) == ["generated", "videos"]
    assert asset.metadata["jobId"] == str(job.pk)
    for key, value in {
        "motionType": job.motion_type,
        "motionDirection": job.motion_direction,
        "motionStrength": job.motion_strength,
        "duration": duration,
        "outputFormat": fmt,
        "width": width,
        "height": height,
    }.items():
        assert asset.metadata[key] == value
    keys = bucket_keys(s3, f"clients/{tenant.client.pk}/")
    assert keys == sorted([asset.file.name, asset.poster.name]), "the video and its poster, beside it"
    assert asset.poster.name == asset.file.name.rsplit(".", 1)[0] + ".poster.jpg"
    # The job JSON now points at the asset; the URL is presigned and downloads the real video.
    body = tenant.api.get(f"/api/image-to-video/jobs/{job.pk}").json()
    assert body["assetId"] == str(asset.pk) and body["progress"] == 100 and body["completedAt"]
    assert "X-Amz-Signature" in body["videoUrl"] or "Signature" in body["videoUrl"]
    info = _probe_download(body["videoUrl"], f".{fmt}")
    assert (info.width, info.height) == (width, height)
    assert info.frames == (frames or round(duration * 30))
    assert info.duration == pytest.approx(duration, abs=0.1)
    # The asset's facts were probed from the stored file: they match what decoding it finds.
    shown = tenant.api.get(f"/api/assets/{asset.pk}").json()
    assert (shown["width"], shown["height"], shown["frameCount"]) == (info.width, info.height, info.frames)
    assert shown["duration"] == pytest.approx(info.duration, abs=0.05) and shown["fps"] == pytest.approx(
        info.fps, rel=1e-3
    )
    assert shown["codec"] == info.codec and shown["size"] == asset.size
    assert shown["bitrate"] == pytest.approx(asset.size * 8 / shown["duration"], rel=0.01)
    _assert_poster(shown["posterUrl"], width, height)
    # The service deletes the local render just after the asset's commit (never before it).
    eventually(lambda: not any(str(job.pk) in str(p) for p in upload_files() if "renders" in str(p)), 10)
    assert not any(str(job.pk) in str(p) for p in upload_files() if "renders" in str(p)), "the render is removed"
    return asset


def test_json_data_uri_becomes_an_asset_in_s3(in_process, tenant, s3):
    response = tenant.api.post(
        "/api/image-to-video/generate",
        generate_body(motionType="pan", motionDirection="left", duration=1.5, width=192, height=108),
        format="json",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] == "queued" and body["clientId"] == str(tenant.client.pk)
    assert body["params"] == {
        "motionType": "pan",
        "motionStrength": 50,
        "motionDirection": "left",
        "duration": 1.5,
        "outputFormat": "mp4",
        "width": 192,
        "height": 108,
        "focus": "auto",
        "keyframes": None,
        "loop": False,
        "videoCodec": "h264",
        "motionBlur": 0.0,
    }
    assert body["error"] is None and body["assetId"] is None and body["videoUrl"] is None
    assert_filed(body["jobId"], tenant, s3, width=192, height=108, duration=1.5, frames=45)


def test_multipart_upload_and_gif_output(in_process, tenant, s3):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("photo.jpg", photo_bytes(400, 300, "JPEG"), content_type="image/jpeg")
    response = tenant.api.post(
        "/api/image-to-video/generate",
        {
            "sourceImage": upload,
            "motionType": "rotation",
            "outputFormat": "gif",
            "width": "101",
            "height": "77",
            "duration": "1",
        },
        format="multipart",
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["params"]["motionDirection"] == "right", "rotation defaults to right"
    asset = assert_filed(body["jobId"], tenant, s3, width=101, height=77, duration=1.0, fmt="gif", frames=15)
    assert asset.content_type == "image/gif"


def test_defaults_follow_the_contract(in_process, tenant, s3):
    body = generate_body()
    for key in ("motionType", "motionDirection", "motionStrength", "duration", "outputFormat", "width", "height"):
        body.pop(key)
    body["duration"] = 1
    body["width"], body["height"] = 128, 128  # keep the render small; the rest are defaults
    response = tenant.api.post("/api/image-to-video/generate", body, format="json")
    assert response.status_code == 202
    params = response.json()["params"]
    assert params == {
        "motionType": "zoom",
        "motionStrength": 50,
        "motionDirection": "in",
        "duration": 1.0,
        "outputFormat": "mp4",
        "width": 128,
        "height": 128,
        "focus": "auto",
        "keyframes": None,
        "loop": False,
        "videoCodec": "h264",
        "motionBlur": 0.0,
    }
    wait_for_job(response.json()["jobId"], asset=True)


def test_client_jobs_are_paginated_newest_first_with_status_filter(tenant, make_tenant):
    from image_to_video.models import JobStatus

    from .factories import make_job

    jobs = [make_job(tenant, status=JobStatus.COMPLETED if i % 2 else JobStatus.FAILED) for i in range(25)]
    response = tenant.api.get(f"/api/image-to-video/jobs/client/{tenant.client.pk}")
    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 25 and len(page["results"]) == 20 and page["next"] and page["previous"] is None
    assert [j["jobId"] for j in page["results"]] == [str(j.pk) for j in reversed(jobs)][:20]
    second = tenant.api.get(page["next"]).json()
    assert len(second["results"]) == 5
    failed = tenant.api.get(f"/api/image-to-video/jobs/client/{tenant.client.pk}?status=failed").json()
    assert failed["count"] == 13 and {j["status"] for j in failed["results"]} == {"failed"}
    bad = tenant.api.get(f"/api/image-to-video/jobs/client/{tenant.client.pk}?status=done")
    assert bad.status_code == 400 and "status" in bad.json()


@pytest.mark.celery
def test_a_real_celery_worker_process_renders_and_files_the_asset(celery_worker, transactional_db, tenant, s3):
    assert settings.CELERY_BROKER_URL, "this test goes through the Redis broker"
    response = tenant.api.post(
        "/api/image-to-video/generate",
        generate_body(motionType="complex", motionDirection="up", width=160, height=120),
        format="json",
    )
    assert response.status_code == 202
    job_id = response.json()["jobId"]
    assert_filed(job_id, tenant, s3, width=160, height=120, duration=1.0)
    assert Job.objects.get(pk=job_id).started_at is not None
