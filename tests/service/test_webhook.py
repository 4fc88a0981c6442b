"""The signed webhook: verify, store before acknowledging, process once, never backwards."""

import json
import time

import pytest

from assets.models import Asset
from image_to_video.models import Job, JobStatus, WebhookEvent
from tests.conftest import drain, eventually, wait_for_job
from tests.service.runway_fixtures import signed_headers

from .factories import make_job

URL = "/api/image-to-video/webhook"


def _deliver(client, secret, task: dict, **kwargs):
    body = json.dumps(task)
    return client.post(URL, body, content_type="application/json", **signed_headers(secret, body, **kwargs))


@pytest.fixture
def runway_job(tenant, runway):
    """A processing Runway job whose task exists at the fake server."""
    task_id = "task-" + str(time.monotonic_ns())
    runway.tasks[task_id] = {"id": task_id, "status": "RUNNING", "polls": 0, "request": {}}
    return make_job(
        tenant, status=JobStatus.PROCESSING, provider="runway", provider_task_id=task_id, width=128, height=72
    )


def _succeeded(runway, task_id) -> dict:
    """A SUCCEEDED delivery; Runway's API (the fake) says the same when the worker asks, as it would."""
    if task_id in runway.tasks:
        runway.tasks[task_id].update(status="SUCCEEDED", output=[f"{runway.url}/outputs/{task_id}.mp4"])
    return {
        "id": task_id,
        "status": "SUCCEEDED",
        "createdAt": "2026-11-25T00:00:00Z",
        "output": [f"{runway.url}/outputs/{task_id}.mp4"],
    }


def test_unconfigured_webhook_answers_503(client, settings, app_settings):
    app_settings(RUNWAY_WEBHOOK_SECRET=None)
    assert client.post(URL, "{}", content_type="application/json").status_code == 503


@pytest.mark.parametrize("tamper", ["forged", "stale", "missing", "garbled", "future"])
def test_bad_signatures_get_401_and_store_nothing(db, client, webhook_secret, tamper):
    body = json.dumps({"id": "t1", "status": "RUNNING", "progress": 0.5})
    headers = signed_headers(webhook_secret, body)
    if tamper == "forged":
        headers = signed_headers("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY", body)
    elif tamper == "stale":
        headers = signed_headers(webhook_secret, body, at=time.time() - 6 * 60)
    elif tamper == "future":
        headers = signed_headers(webhook_secret, body, at=time.time() + 6 * 60)
    elif tamper == "missing":
        headers.pop("HTTP_WEBHOOK_SIGNATURE")
    elif tamper == "garbled":
        headers["HTTP_WEBHOOK_SIGNATURE"] = "nonsense"
    response = client.post(URL, body, content_type="application/json", **headers)
    assert response.status_code == 401
    assert WebhookEvent.objects.count() == 0


def test_a_tampered_body_is_refused(db, client, webhook_secret):
    body = json.dumps({"id": "t1", "status": "RUNNING"})
    headers = signed_headers(webhook_secret, body)
    response = client.post(URL, body.replace("RUNNING", "SUCCEEDED"), content_type="application/json", **headers)
    assert response.status_code == 401 and WebhookEvent.objects.count() == 0


def test_the_same_delivery_five_times_completes_once_with_one_asset(
    in_process, client, webhook_secret, runway_job, runway, s3
):
    task = _succeeded(runway, runway_job.provider_task_id)
    answers = [_deliver(client, webhook_secret, task, msg_id="msg_same").status_code for _ in range(5)]
    assert all(200 <= a < 300 for a in answers)
    job = wait_for_job(runway_job.pk, asset=True)
    assert job.status == "completed"
    from image_to_video import dispatch

    dispatch.wait_idle()
    assert WebhookEvent.objects.filter(webhook_id="msg_same").count() == 1
    event = WebhookEvent.objects.get(webhook_id="msg_same")
    assert event.processed_at is not None and event.job_id == job.pk
    assert Asset.objects.filter(job=job).count() == 1
    assert len(runway.calls("GET", "/outputs/")) == 1, "the result was fetched once"
    assert _deliver(client, webhook_secret, task, msg_id="msg_same").json()["status"] == "duplicate"


def test_distinct_deliveries_and_polling_of_the_same_success_make_one_asset(
    in_process, client, webhook_secret, tenant, runway, s3
):
    from tests.conftest import generate_body

    runway.polls_to_finish = 2
    job_id = tenant.api.post("/api/image-to-video/generate", generate_body(provider="runway"), format="json").json()[
        "jobId"
    ]
    task_id = eventually(lambda: Job.objects.get(pk=job_id).provider_task_id, 10, "the Runway task")
    for i in range(5):
        _deliver(client, webhook_secret, _succeeded(runway, task_id), msg_id=f"msg_{i}")
    job = wait_for_job(job_id, asset=True)
    assert job.status == "completed"
    drain()
    assert Asset.objects.filter(job=job).count() == 1


def test_a_late_running_after_succeeded_changes_nothing(in_process, client, webhook_secret, runway_job, runway, s3):
    _deliver(client, webhook_secret, _succeeded(runway, runway_job.provider_task_id))
    job = wait_for_job(runway_job.pk, asset=True)
    before = (job.status, job.progress, job.completed_at)
    late = {"id": runway_job.provider_task_id, "status": "RUNNING", "progress": 0.3}
    assert _deliver(client, webhook_secret, late).status_code == 202
    failed = {"id": runway_job.provider_task_id, "status": "FAILED", "failure": "too late"}
    assert _deliver(client, webhook_secret, failed).status_code == 202
    drain()
    job.refresh_from_db()
    assert (job.status, job.progress, job.completed_at) == before
    assert WebhookEvent.objects.filter(processed_at__isnull=False).count() == 3


def test_running_updates_progress(in_process, client, webhook_secret, runway_job, runway):
    runway.polls_to_finish = 100
    runway.tasks[runway_job.provider_task_id]["polls"] = 63  # the API will say 64 % when asked
    _deliver(client, webhook_secret, {"id": runway_job.provider_task_id, "status": "RUNNING", "progress": 0.64})
    eventually(lambda: Job.objects.get(pk=runway_job.pk).progress == 64, 5, "progress 64")


def test_an_unknown_task_id_is_acknowledged_and_logged(in_process, client, webhook_secret):
    response = _deliver(
        client, webhook_secret, {"id": "no-such-task", "status": "SUCCEEDED", "output": []}, msg_id="msg_unknown"
    )
    assert 200 <= response.status_code < 300
    event = eventually(
        lambda: WebhookEvent.objects.filter(webhook_id="msg_unknown", processed_at__isnull=False).first(), 5
    )
    assert event.processed_at and event.error == "unknown task id"


def test_a_body_that_is_not_a_task_is_400(db, client, webhook_secret):
    assert _deliver(client, webhook_secret, {"hello": "world"}).status_code == 400
    assert WebhookEvent.objects.count() == 0


def test_a_failing_delivery_stays_stored_and_is_processed_on_retry(
    in_process, client, webhook_secret, runway_job, runway, s3
):
    runway.download_faults.extend([("status", 500)] * 3)  # every download attempt of this round fails
    task = _succeeded(runway, runway_job.provider_task_id)
    assert _deliver(client, webhook_secret, task, msg_id="msg_retry").status_code == 202
    event = eventually(lambda: WebhookEvent.objects.exclude(error="").filter(webhook_id="msg_retry").first(), 10)
    assert event.processed_at is None and "download" in event.error and event.attempts == 1
    assert Job.objects.get(pk=runway_job.pk).status == "processing"
    # The sender retries the same delivery; this time the download works.
    assert _deliver(client, webhook_secret, task, msg_id="msg_retry").status_code == 202
    job = wait_for_job(runway_job.pk, asset=True)
    assert job.status == "completed" and Asset.objects.filter(job=job).count() == 1
    event.refresh_from_db()
    assert event.processed_at is not None and event.error == ""


def test_the_periodic_sweep_retries_stored_failures(transactional_db, client, webhook_secret, runway_job, runway, s3):
    from django.utils import timezone

    from image_to_video.services import webhook_events_retry

    event = WebhookEvent.objects.create(
        webhook_id="msg_sweep",
        provider="runway",
        task_id=runway_job.provider_task_id,
        body=_succeeded(runway, runway_job.provider_task_id),
        error="earlier failure",
        attempts=1,
    )
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timezone.timedelta(minutes=5))
    assert webhook_events_retry() == 1
    assert Job.objects.get(pk=runway_job.pk).status == "completed"
