"""Idempotency, cancel, state transitions, and asset creation surviving an S3 outage."""

import time

import pytest
from django.conf import settings
from django.core.management import call_command

from assets.models import Asset
from image_to_video import services
from image_to_video.conf import get_config
from image_to_video.models import Job, JobStatus
from tests.conftest import bucket_keys, ensure_bucket, eventually, generate_body, upload_files, wait_for_job

from .factories import make_job

GENERATE = "/api/image-to-video/generate"


def test_same_idempotency_key_same_body_returns_the_same_job(tenant):
    body = generate_body()
    first = tenant.api.post(GENERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    again = tenant.api.post(GENERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 202
    assert first.json()["jobId"] == again.json()["jobId"]
    assert Job.objects.count() == 1
    files = len(upload_files())
    other = tenant.api.post(GENERATE, generate_body(motionStrength=70), format="json", HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    assert Job.objects.count() == 1 and len(upload_files()) == files
    fresh = tenant.api.post(GENERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="abc-2")
    assert fresh.json()["jobId"] != first.json()["jobId"]


def test_idempotency_keys_are_per_user(tenant, outsider):
    body = generate_body()
    a = tenant.api.post(GENERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    b = outsider.api.post(GENERATE, body, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert a.status_code == b.status_code == 202 and a.json()["jobId"] != b.json()["jobId"]


def test_transitions_never_leave_a_final_state(tenant):
    job = make_job(tenant)
    assert services.transition(job.pk, JobStatus.COMPLETED) is None, "queued cannot jump to completed"
    assert services.job_start(job.pk).status == JobStatus.PROCESSING
    assert services.job_complete(job.pk, output_path="/nonexistent.mp4").status == JobStatus.COMPLETED
    for target in (JobStatus.PROCESSING, JobStatus.FAILED, JobStatus.CANCELED, JobStatus.QUEUED):
        assert services.transition(job.pk, target) is None
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED and job.progress == 100 and job.completed_at


def test_progress_never_goes_backwards(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING)
    services.job_set_progress(job.pk, 40)
    services.job_set_progress(job.pk, 20)
    services.job_set_progress(job.pk, 100)
    job.refresh_from_db()
    assert job.progress == 99, "100 is kept for completion"


def test_cancel_a_queued_job_and_not_a_finished_one(tenant):
    queued, done = make_job(tenant), make_job(tenant, status=JobStatus.COMPLETED)
    response = tenant.api.post(f"/api/image-to-video/jobs/{queued.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert response.json()["error"]["code"] == "canceled"
    assert tenant.api.post(f"/api/image-to-video/jobs/{queued.pk}/cancel").status_code == 200, "idempotent"
    refused = tenant.api.post(f"/api/image-to-video/jobs/{done.pk}/cancel")
    assert refused.status_code == 409
    done.refresh_from_db()
    assert done.status == JobStatus.COMPLETED


def test_cancel_stops_a_running_render_within_about_a_second(in_process, tenant, s3):
    response = tenant.api.post(GENERATE, generate_body(duration=10, width=1920, height=1080), format="json")
    job_id = response.json()["jobId"]
    wait_for_job(job_id, statuses=("processing",), timeout=30)
    eventually(lambda: Job.objects.get(pk=job_id).progress >= 3, 30, "the render under way")
    asked = time.monotonic()
    assert tenant.api.post(f"/api/image-to-video/jobs/{job_id}/cancel").json()["status"] == "canceled"
    # The render notices within its cancel-check interval and removes its partial output.
    render_dir = get_config().UPLOAD_DIR / "renders"

    def leftovers():  # this job's video, or any half-written one (other tests' finished renders may remain)
        return [*render_dir.glob(".partial-*"), *render_dir.glob(f"{job_id}.*")]

    eventually(lambda: not leftovers(), 5, "the partial render deleted")
    stopped_after = time.monotonic() - asked
    assert not leftovers(), "the partial render is deleted"
    assert stopped_after < 2.0
    job = Job.objects.get(pk=job_id)
    assert job.status == "canceled" and job.progress < 100
    assert not Asset.objects.filter(job__pk=job_id).exists()


def _empty_and_delete_bucket(s3):
    bucket = settings.AWS_STORAGE_BUCKET_NAME
    keys = bucket_keys(s3)
    for start in range(0, len(keys), 1000):  # in bulk: quick enough that a render under way does not refill it
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key} for key in keys[start : start + 1000]]})
    s3.delete_bucket(Bucket=bucket)


def test_storage_down_at_submit_is_a_503_with_nothing_created(tenant, s3):
    before = Job.objects.count()
    _empty_and_delete_bucket(s3)
    try:
        response = tenant.api.post(GENERATE, generate_body(), format="json")
    finally:
        ensure_bucket(s3)
    assert response.status_code == 503 and int(response["Retry-After"]) > 0
    assert "storage" in response.json()["detail"].lower()
    assert Job.objects.count() == before


def test_asset_survives_an_s3_outage_and_reconcile_creates_exactly_one(in_process, tenant, s3):
    response = tenant.api.post(GENERATE, generate_body(duration=8, width=1280, height=720), format="json")
    job_id = response.json()["jobId"]
    wait_for_job(job_id, statuses=("processing",), timeout=30)
    eventually(lambda: Job.objects.get(pk=job_id).progress >= 5, 30, "the source fetched, frames made")
    _empty_and_delete_bucket(s3)  # storage goes down while the job renders (its source was fetched already)
    try:
        job = wait_for_job(job_id)
        assert job.status == "completed"
        from image_to_video import dispatch

        dispatch.wait_idle()  # the asset task has run (and failed) by now
        assert not Asset.objects.filter(job__pk=job_id).exists()
        job.refresh_from_db()
        from pathlib import Path

        assert Path(job.output_path).is_file(), "the video is kept in UPLOAD_DIR"
        body = tenant.api.get(f"/api/image-to-video/jobs/{job_id}").json()
        assert body["status"] == "completed" and body["assetId"] is None
    finally:
        ensure_bucket(s3)
    call_command("reconcile_assets")
    call_command("reconcile_assets")
    assert Asset.objects.filter(job__pk=job_id).count() == 1
    assert len(bucket_keys(s3, f"clients/{tenant.client.pk}/")) == 2  # the video and its poster
    assert tenant.api.get(f"/api/image-to-video/jobs/{job_id}").json()["assetId"]


def test_asset_creation_is_exactly_once(tenant, s3, tmp_path):
    from image_to_video.filing import asset_create_from_job

    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0" * 100)
    job = make_job(tenant, status=JobStatus.PROCESSING)
    services.job_complete(job.pk, output_path=video)
    first = asset_create_from_job(job_id=job.pk)
    second = asset_create_from_job(job_id=job.pk)
    assert first.pk == second.pk and Asset.objects.filter(job=job).count() == 1


def test_asset_per_job_is_a_database_constraint(tenant):
    from django.db import IntegrityError, transaction

    from image_to_video.filing import asset_origin

    job = make_job(tenant, status=JobStatus.COMPLETED)
    origin = asset_origin(job)
    Asset.objects.create(
        client=tenant.client, user=tenant.user, origin=origin, file="a.mp4", name="a", content_type="video/mp4", size=1
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Asset.objects.create(
            client=tenant.client,
            user=tenant.user,
            origin=origin,
            file="b.mp4",
            name="b",
            content_type="video/mp4",
            size=1,
        )


def test_old_sources_are_pruned_and_recent_ones_kept(tenant):
    from django.utils import timezone

    from assets.storage import files_storage as default_storage

    old = make_job(tenant, status=JobStatus.COMPLETED)
    recent = make_job(tenant, status=JobStatus.FAILED)
    running = make_job(tenant, status=JobStatus.PROCESSING)
    Job.objects.filter(pk=old.pk).update(completed_at=timezone.now() - timezone.timedelta(days=8))
    Job.objects.filter(pk=recent.pk).update(completed_at=timezone.now() - timezone.timedelta(days=1))
    names = {job.pk: job.source_image.name for job in (old, recent, running)}
    assert services.job_sources_prune(older_than_days=7) == 1
    stored = default_storage.exists
    assert not stored(names[old.pk]) and stored(names[recent.pk]) and stored(names[running.pk])
    assert Job.objects.get(pk=old.pk).source_image.name == ""
    assert services.job_sources_prune(older_than_days=7) == 0


def test_jobs_whose_worker_is_gone_are_taken_by_another(in_process, tenant, s3):
    """A running job whose lease ran out (its worker died) goes back to the queue and completes once;
    a queued job no queue holds (the broker lost it) gets a turn; a live lease is left alone."""
    from django.utils import timezone

    lost = make_job(tenant)  # queued, but no turn for it anywhere (as after a broker restart)
    dead = make_job(
        tenant, status=JobStatus.PROCESSING, lease_expires_at=timezone.now() - timezone.timedelta(seconds=1)
    )
    alive = make_job(tenant, status=JobStatus.PROCESSING, lease_expires_at=timezone.now() + timezone.timedelta(hours=1))
    recovery = services.jobs_recover()
    assert recovery.requeued == 1 and recovery.turns_sent >= 2
    for job in (lost, dead):
        assert wait_for_job(job.pk, asset=True).status == "completed"
    assert Asset.objects.filter(job__pk=dead.pk).count() == 1
    assert Job.objects.get(pk=dead.pk).attempts == 1
    assert Job.objects.get(pk=alive.pk).status == "processing", "a job under a live lease is not taken"
    assert services.jobs_recover().requeued == 0
