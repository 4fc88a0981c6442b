"""The Runway provider against a fake Runway server on loopback."""

import logging
import time

import numpy as np
import pytest

from assets.models import Asset
from image_to_video.models import Job
from image_to_video.providers import ProviderError
from image_to_video.providers.runway import (
    STATUS_MAP,
    motion_prompt,
    nearest_duration,
    nearest_ratio,
    parse_task,
)
from tests.conftest import data_uri, drain, eventually, generate_body, photo_bytes, wait_for_job
from tests.service.test_pipeline import assert_filed
from tests.videos import decode_frames

GENERATE = "/api/image-to-video/generate"


def _post(tenant, **overrides):
    response = tenant.api.post(GENERATE, generate_body(provider="runway", **overrides), format="json")
    assert response.status_code == 202, response.json()
    return response.json()["jobId"]


def _progress_seen(job_id, timeout=30):
    """Every progress value the job shows while it runs."""
    seen = set()

    def sample() -> bool:
        job = Job.objects.get(pk=job_id)
        seen.add(job.progress)
        return job.is_final

    eventually(sample, timeout, "the job final")
    return seen


def test_a_runway_job_is_followed_to_completion_and_filed(in_process, tenant, runway, s3):
    job_id = _post(
        tenant,
        motionType="pan",
        motionDirection="left",
        duration=2,
        outputFormat="gif",
        width=120,
        height=90,
        promptText="A quiet morning.",
    )
    seen = _progress_seen(job_id)
    assert any(0 < p < 100 for p in seen), f"progress from RUNNING polls was saved: {sorted(seen)}"
    assert_filed(job_id, tenant, s3, width=120, height=90, duration=2.0, fmt="gif", frames=30)
    job = Job.objects.get(pk=job_id)
    assert job.provider == "runway" and job.provider_task_id in runway.tasks
    sent = runway.tasks[job.provider_task_id]["request"]
    assert sent["model"] == "gen4.5" and sent["ratio"] == "1104:832" and sent["duration"] == 2
    assert sent["promptImage"].startswith("data:image/png;base64,")
    assert sent["promptText"].startswith("A quiet morning.") and "pans left" in sent["promptText"]
    recorded = job.provider_request
    assert recorded["ratio"] == "1104:832" and recorded["asked"] == {
        "width": 120,
        "height": 90,
        "duration": 2.0,
        "loop": False,
    }
    assert recorded["promptImage"].startswith("data URI (") and "base64" not in recorded["promptImage"]


def test_a_runway_loop_is_its_clip_played_there_and_back(in_process, tenant, runway, s3, tmp_path):
    """Runway's API takes one image and makes one-way clips: a loop asks it for half the length and plays
    the clip forward, then back, so the frame after the last is the first."""
    job_id = _post(
        tenant,
        motionType="pan",
        motionDirection="right",
        loop=True,
        duration=4,
        outputFormat="gif",
        width=96,
        height=64,
    )
    job = wait_for_job(job_id, asset=True)
    assert job.status == "completed", job.error_message
    sent = runway.tasks[job.provider_task_id]["request"]
    assert sent["duration"] == 2, "half the loop: the other half is the same frames back"
    assert job.provider_request["asked"]["loop"] is True
    video = tmp_path / "loop.gif"
    with job.asset.file.open("rb") as stored:
        video.write_bytes(stored.read())
    frames = [f.astype(float) for f in decode_frames(video, "gray")]
    total = len(frames)
    assert total == 60 and job.asset.metadata["loop"] is True
    assert all(np.array_equal(frames[i], frames[total - i]) for i in range(1, total // 2)), "there and back"
    assert np.abs(frames[total // 2] - frames[0]).mean() > 5 * np.abs(frames[-1] - frames[0]).mean()


def test_transient_500_429_and_timeouts_are_retried(in_process, tenant, runway, s3):
    runway.faults.extend([("status", 500), ("status", 429, "0.2")])  # create: 500, 429, then OK
    runway.polls_to_finish = 4
    job_id = _post(tenant)
    eventually(lambda: Job.objects.get(pk=job_id).provider_task_id, 10, "the Runway task")
    runway.faults.extend([("stall", 1.5), ("status", 503)])  # a poll times out, the next gets 503
    job = wait_for_job(job_id, asset=True)
    assert job.status == "completed", job.error_message
    posts = runway.calls("POST", "/v1/image_to_video")
    assert len(posts) == 3, "500 and 429 were retried"
    assert Asset.objects.filter(job=job).count() == 1


def test_retry_after_is_honoured(settings, runway):
    from image_to_video.providers.runway import RunwayClient

    client = RunwayClient(runway.key, runway.url, max_retries=1, backoff=0.0)
    runway.faults.append(("status", 429, "0.6"))
    started = time.monotonic()
    with pytest.raises(ProviderError, match="404"):
        client.get_task("missing")  # 429, wait 0.6 s, then 404
    assert time.monotonic() - started >= 0.6
    assert [s.path for s in runway.seen] == ["/v1/tasks/missing"] * 2


def test_a_bad_key_fails_the_job_at_once_without_leaking_it(in_process, tenant, runway, settings, caplog, app_settings):
    app_settings(RUNWAY_API_KEY="sk-wrong-key-that-must-not-leak")
    caplog.set_level(logging.DEBUG)
    job = wait_for_job(_post(tenant))
    assert job.status == "failed" and job.error_code == "runway_unauthorized"
    assert "401" in job.error_message
    assert len(runway.calls("POST", "/v1/image_to_video")) == 1, "a 401 is not retried"
    assert "sk-wrong-key" not in job.error_message and "sk-wrong-key" not in caplog.text
    body = tenant.api.get(f"/api/image-to-video/jobs/{job.pk}").json()
    assert body["error"] == {"code": "runway_unauthorized", "message": job.error_message}


def test_a_failed_task_fails_the_job_with_runways_reason(in_process, tenant, runway):
    runway.outcome = "fail"
    job = wait_for_job(_post(tenant))
    assert job.status == "failed"
    assert job.error_code == "runway_safety.input.image"
    assert job.error_message == "The prompt image was flagged by moderation"
    assert not Asset.objects.filter(job=job).exists()


def test_a_task_that_never_finishes_fails_at_the_deadline(in_process, tenant, runway, settings, app_settings):
    runway.outcome = "never"
    app_settings(RUNWAY_POLL_DEADLINE=1.0)
    job = wait_for_job(_post(tenant))
    assert job.status == "failed" and job.error_code == "provider_timeout"
    assert runway.calls("DELETE", f"/v1/tasks/{job.provider_task_id}"), "the task is canceled at Runway too"


def test_cancel_sends_delete_and_nothing_revives_the_job(in_process, tenant, runway):
    runway.outcome = "never"
    job_id = _post(tenant)
    task_id = eventually(lambda: Job.objects.get(pk=job_id).provider_task_id, 10, "the Runway task")
    response = tenant.api.post(f"/api/image-to-video/jobs/{job_id}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "canceled"
    assert runway.calls("DELETE", f"/v1/tasks/{task_id}")
    assert runway.tasks[task_id]["status"] == "CANCELLED"
    drain()
    assert Job.objects.get(pk=job_id).status == "canceled"


def test_images_over_5mb_go_as_a_presigned_url(in_process, tenant, runway, s3):
    import io

    import numpy as np
    from PIL import Image

    noise = np.random.default_rng(3).integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noise).save(buf, "PNG")
    assert 5 * 1024 * 1024 < len(buf.getvalue()) < 10 * 1024 * 1024
    job_id = _post(tenant, sourceImage=data_uri(buf.getvalue()))
    job = wait_for_job(job_id, asset=True)
    assert job.status == "completed", job.error_message
    sent = runway.tasks[job.provider_task_id]["request"]["promptImage"]
    assert sent.startswith("http") and "Signature" in sent
    assert "Signature" not in job.provider_request["promptImage"], "signatures are not recorded"


def test_runway_needs_a_key(tenant, settings, app_settings):
    app_settings(RUNWAY_API_KEY=None)
    response = tenant.api.post(GENERATE, generate_body(provider="runway"), format="json")
    assert response.status_code == 400 and "RUNWAY_API_KEY" in response.json()["provider"][0]


@pytest.mark.parametrize(
    "width,height,ratio",
    [
        (1920, 1080, "1280:720"),
        (1080, 1920, "720:1280"),
        (1080, 1080, "960:960"),
        (1800, 760, "1584:672"),
        (800, 600, "1104:832"),
    ],
)
def test_nearest_ratio(width, height, ratio):
    assert nearest_ratio("gen4_turbo", width, height) == ratio


def test_nearest_duration_and_veo_ratios():
    assert [nearest_duration("gen4_turbo", d) for d in (1, 5, 5.5, 10)] == [2, 5, 6, 10]
    assert [nearest_duration("veo3.1", d) for d in (3, 4.5, 7, 10)] == [4, 6, 8, 8]
    assert nearest_ratio("veo3.1", 1080, 1080) in ("1280:720", "720:1280")


def test_prompt_and_status_mapping():
    clockwise = motion_prompt("rotation", "right", 50)
    assert "clockwise" in clockwise and "counter" not in clockwise
    assert len(motion_prompt("zoom", "in", 100, "x" * 2000)) == 1000
    assert STATUS_MAP["THROTTLED"] == "pending" and STATUS_MAP["CANCELLED"] == "canceled"
    update = parse_task({"id": "t", "status": "RUNNING", "progress": 0.42})
    assert (update.state, update.progress) == ("running", 0.42)
    with pytest.raises(ValueError):
        parse_task({"id": "t", "status": "EXPLODED"})


def test_photo_bytes_sanity():
    assert photo_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _sent_to_runway(runway, job_id, timeout=20):
    job = eventually(lambda: Job.objects.filter(pk=job_id).exclude(provider_task_id="").first(), timeout, "Runway")
    return job, runway.tasks[job.provider_task_id]["request"]


def test_focus_and_keyframes_become_words_in_the_prompt(in_process, tenant, runway, s3):
    _, request = _sent_to_runway(runway, _post(tenant, focus={"x": 0.2, "y": 0.2}))
    sent = request["promptText"]
    assert "pushes in on the subject at upper left" in sent
    keyframes = [
        {"t": 0, "zoom": 1, "x": 0.5, "y": 0.5},
        {"t": 1.5, "zoom": 1.6, "x": 0.25, "y": 0.3, "ease": "hold"},
        {"t": 2, "zoom": 1.6, "x": 0.25, "y": 0.3},
        {"t": 3, "zoom": 1.6, "x": 0.6, "y": 0.3},
    ]
    job, request = _sent_to_runway(runway, _post(tenant, keyframes=keyframes, duration=3))
    sent = request["promptText"]
    assert "slow push in toward upper left, hold, then slow drift right" in sent
    assert job.provider_request["promptText"] == sent  # what was sent is on the job's record


@pytest.mark.parametrize(
    "model,width,height,duration,ratio,seconds",
    [
        ("gen4.5", 1920, 1080, 3, "1280:720", 3),
        ("gen4.5", 1080, 1080, 7.5, "960:960", 8),
        ("gen4_turbo", 720, 1280, 1, "720:1280", 2),
        ("gen4_turbo", 1920, 816, 10, "1584:672", 10),
        ("veo3.1", 1080, 1920, 3, "1080:1920", 4),
        ("veo3.1", 1920, 1080, 7, "1920:1080", 8),
        ("veo3.1_fast", 1280, 720, 5, "1280:720", 6),
        ("veo3.1_fast", 1000, 1000, 9, "1280:720", 8),
    ],
)
def test_each_model_gets_its_own_ratio_and_duration(
    settings, runway, tenant, model, width, height, duration, ratio, seconds, app_settings
):
    """Checked by the fake against Runway's own table (from its SDK), not ours."""
    app_settings(PROVIDER="runway")
    response = tenant.api.post(
        GENERATE,
        generate_body(provider="runway", model=model, width=width, height=height, duration=duration),
        format="json",
    )
    assert response.status_code == 202, response.json()
    assert response.json()["model"] == model
    from image_to_video.services.runs import job_run

    job_run(response.json()["jobId"])
    job = Job.objects.get(pk=response.json()["jobId"])
    assert job.provider_task_id, job.error_message
    sent = runway.tasks[job.provider_task_id]["request"]
    assert (sent["model"], sent["ratio"], sent["duration"]) == (model, ratio, seconds)
    assert ("audio" in sent) == model.startswith("veo") and sent.get("audio") in (None, False)


def test_model_is_for_runway_and_known(tenant, runway):
    bad = tenant.api.post(GENERATE, generate_body(provider="runway", model="gen9"), format="json")
    assert bad.status_code == 400 and "model" in bad.json()
    local = tenant.api.post(GENERATE, generate_body(provider="local", model="gen4.5"), format="json")
    assert local.status_code == 400 and "runway" in local.json()["model"][0]


def test_throttled_shows_as_queued_with_a_note(in_process, tenant, runway, s3):
    runway.throttled_polls = 3
    runway.polls_to_finish = 2
    job_id = _post(tenant)
    seen = []

    def sample() -> bool:
        body = tenant.api.get(f"/api/image-to-video/jobs/{job_id}").json()
        seen.append((body["status"], body["note"]))
        return body["status"] in ("completed", "failed")

    eventually(sample, 30, "the job final")
    assert any(status == "queued" and note and "THROTTLED" in note for status, note in seen), seen
    assert seen[-1][0] == "completed"


def test_an_expired_output_url_is_fetched_again_from_the_task(in_process, tenant, runway, s3):
    runway.expire_outputs = True
    job_id = _post(tenant)
    assert_filed(job_id, tenant, s3, width=160, height=96, duration=1.0)
    job = Job.objects.get(pk=job_id)
    downloads = [s for s in runway.seen if s.path.startswith(f"/outputs/{job.provider_task_id}")]
    assert len(downloads) >= 2, "the first, expired URL answered 403; a fresh one from the task worked"
    assert runway.calls("GET", f"/v1/tasks/{job.provider_task_id}")


def test_readyz_shows_runway_credits_to_staff(client, runway, django_user_model):
    staff = django_user_model.objects.create_user("ops", password="pw", is_staff=True)
    client.force_login(staff)
    body = client.get("/readyz").json()
    assert body["providers"]["runway"]["creditBalance"] == 4200
    client.logout()
    assert "providers" not in client.get("/readyz").json()


def test_a_runway_outage_falls_back_to_the_local_engine(in_process, tenant, runway, s3, settings, app_settings):
    app_settings(RUNWAY_FALLBACK="local")
    app_settings(RUNWAY_POLL_DEADLINE=1.0)
    runway.outcome = "never"  # Runway takes the task and never finishes it: a timeout, not the user's doing
    job_id = _post(tenant, duration=1)
    asset = assert_filed(job_id, tenant, s3, width=160, height=96, duration=1.0)
    body = tenant.api.get(f"/api/image-to-video/jobs/{job_id}").json()
    assert body["provider"] == "local" and body["fallbackFrom"] == "runway" and body["error"] is None
    assert "runway" in body["note"] and "did not finish" in body["note"]
    job = Job.objects.get(pk=job_id)
    assert job.fallback_error["code"] == "provider_timeout"
    assert runway.tasks[job.fallback_error["taskId"]]["status"] == "CANCELLED", "the Runway task was stopped"
    assert asset.metadata["provider"] == "local"


def test_a_5xx_at_create_falls_back_but_a_moderation_failure_does_not(
    in_process, tenant, runway, s3, settings, app_settings
):
    app_settings(RUNWAY_FALLBACK="local")
    runway.faults.extend([("status", 503)] * 3)  # every retry of the create answers 503
    fell_back = _post(tenant)
    assert_filed(fell_back, tenant, s3, width=160, height=96, duration=1.0)
    job = Job.objects.get(pk=fell_back)
    assert (job.provider, job.fallback_from, job.fallback_error["code"]) == ("local", "runway", "runway_unavailable")
    runway.outcome = "fail"
    refused = wait_for_job(_post(tenant))
    assert refused.status == "failed" and refused.provider == "runway" and not refused.fallback_from
