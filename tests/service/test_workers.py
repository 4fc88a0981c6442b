"""The worker's side: two kinds of work apart, renders safe in threads, a stopping worker handing its job back."""

from __future__ import annotations

import base64

import pytest

from assets.models import Asset
from image_to_video import dispatch, stopping, tasks
from image_to_video.conf import get_config
from image_to_video.engine.params import DEFAULT_FPS
from image_to_video.models import Job
from image_to_video.services.runs import run_next_job
from tests.conftest import ASTRONAUT, generate_body, wait_for_job
from tests.service.factories import make_job
from tests.videos import decode_frames

GENERATE = "/api/image-to-video/generate"


def test_renders_and_everything_else_go_to_their_own_queues(app_settings):
    app_settings(RENDER_QUEUE="r", IO_QUEUE="i")
    assert dispatch.queue_name(dispatch.kind_of(tasks.run_next_job)) == "r"
    assert dispatch.queue_name(dispatch.kind_of(tasks.run_job)) == "r"
    for task in (tasks.store_asset, tasks.deliver_webhook, tasks.poll_job, tasks.start_next_remote_job):
        assert dispatch.queue_name(dispatch.kind_of(task)) == "i"
    assert {entry["options"]["queue"] for entry in tasks.periodic_entries().values()} == {"i"}


def test_a_host_that_names_no_queue_keeps_everything_on_its_default_queue(app_settings):
    from celery import current_app

    app_settings(RENDER_QUEUE=None, IO_QUEUE=None, QUEUE=None)
    default = current_app.conf.task_default_queue
    assert dispatch.queue_name("render") == dispatch.queue_name("io") == default


def test_runway_jobs_get_io_turns_and_local_jobs_render_turns(db, tenant):
    """A render turn never takes a Runway job (its HTTP calls belong on io) and an io turn never renders.
    Called directly (no worker threads, whose sweep could take the local job first)."""
    remote = make_job(tenant, provider="runway")
    local = make_job(tenant)
    from image_to_video.services.lifecycle import job_start

    assert job_start(remote=False).pk == local.pk
    assert job_start(remote=False) is None, "the Runway job is not a render worker's"
    assert job_start(remote=True).pk == remote.pk


@pytest.mark.django_db(transaction=True)
def test_several_renders_at_once_in_one_process_all_complete(in_process, tenant, s3):
    """The in-process worker renders two jobs at a time on photos with faces: every one completes, framed on
    the face (OpenCV's detector is not thread-safe; each render thread has its own)."""
    photo = "data:image/png;base64," + base64.b64encode(ASTRONAUT.read_bytes()).decode()
    ids = [
        tenant.api.post(GENERATE, generate_body(sourceImage=photo, width=96, height=96), format="json").json()["jobId"]
        for _ in range(6)
    ]
    jobs = [wait_for_job(job_id, timeout=120) for job_id in ids]
    assert [job.status for job in jobs] == ["completed"] * 6, [job.error for job in jobs]
    assert all(job.framing["method"] == "face" for job in jobs)


@pytest.mark.django_db(transaction=True)
def test_a_stopping_worker_hands_its_render_back_after_the_grace(in_process, tenant, s3, app_settings, tmp_path):
    """SIGTERM arrives mid-render with no grace left: the job is queued again at once (lease cleared, partial
    file removed, the attempt counted), and the next worker renders it to one asset."""
    app_settings(RENDER_GRACE_SECONDS=0)
    job = make_job(tenant, duration=3, width=640, height=360)
    seen = []

    def sigterm_midway(fraction: float) -> None:
        seen.append(fraction)
        if fraction > 0.2:
            stopping.request_stop()

    try:
        run_next_job(on_progress=sigterm_midway)
        handed_back = Job.objects.get(pk=job.pk)
        renders = get_config().UPLOAD_DIR / "renders"
        assert handed_back.status == "queued" and handed_back.lease_expires_at is None
        assert handed_back.attempts == 1 and handed_back.progress == 0
        assert not [*renders.glob(".partial-*"), *renders.glob(f"{job.pk}.*")], "the partial render is removed"
        assert max(seen) < 0.9, "the render stopped, it did not run to the end"
        assert run_next_job() is None, "a stopping worker takes no new job"
    finally:
        stopping.reset()
    done = wait_for_job(job.pk, asset=True, timeout=120)  # the turns sent go to the in-process worker
    assert done.status == "completed" and done.attempts == 2
    assert Asset.objects.filter(origin__endswith=str(job.pk)).count() == 1
    video = tmp_path / "video.mp4"
    with done.asset.file.open("rb") as stored:
        video.write_bytes(stored.read())
    assert len(decode_frames(video)) == 3 * DEFAULT_FPS["mp4"], "the whole video, rendered once more from the start"
