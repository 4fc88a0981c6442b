"""What an attacker would try, each against the real code path."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assets.models import Asset
from image_to_video.models import Job, JobStatus
from image_to_video.services.provider_requests import render_request
from tests.conftest import drain
from tests.service.runway_fixtures import signed_headers

from .factories import make_job

WEBHOOK = "/api/image-to-video/webhook"


class Receiver:
    """A local HTTP server that records every hit: what the service must never be made to fetch."""

    def __init__(self, *, redirect_to: str | None = None, trickle: bool = False, video: bytes = b"") -> None:
        self.hits: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                receiver.hits.append(self.path)
                if redirect_to:
                    self.send_response(302)
                    self.send_header("Location", redirect_to)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(10_000_000 if trickle else len(video)))
                self.end_headers()
                if trickle:
                    for _ in range(100):
                        try:
                            self.wfile.write(b"\0" * 100)
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                else:
                    self.wfile.write(video)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    made: list[Receiver] = []

    def make(**kwargs) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


@pytest.fixture
def runway_job(tenant, runway):
    task_id = "task-" + str(time.monotonic_ns())
    runway.tasks[task_id] = {"id": task_id, "status": "RUNNING", "polls": 0, "request": {}}
    return make_job(tenant, status=JobStatus.PROCESSING, provider="runway", provider_task_id=task_id)


def _deliver(client, secret, task: dict):
    body = json.dumps(task)
    return client.post(WEBHOOK, body, content_type="application/json", **signed_headers(secret, body))


@pytest.mark.parametrize("target", ["loopback", "metadata"])
def test_a_signed_forged_body_cannot_make_the_worker_fetch_anything(
    in_process, client, webhook_secret, runway_job, runway, receiver, target, s3
):
    internal = receiver()
    url = f"{internal.url}/internal" if target == "loopback" else "http://169.254.169.254/latest/meta-data/"
    forged = {"id": runway_job.provider_task_id, "status": "SUCCEEDED", "output": [url]}
    assert _deliver(client, webhook_secret, forged).status_code == 202
    drain()
    job = Job.objects.get(pk=runway_job.pk)
    assert job.status == "processing", "the API says RUNNING: the body's claim is not applied"
    assert internal.hits == [] and runway.calls("GET", "/outputs/") == []
    assert runway.calls("GET", f"/v1/tasks/{runway_job.provider_task_id}"), "the worker asked the API instead"


def test_an_output_outside_the_allowed_prefixes_is_refused(in_process, runway_job, runway, receiver, s3):
    from image_to_video import services

    elsewhere = receiver(video=runway.video.read_bytes())
    runway.tasks[runway_job.provider_task_id].update(status="SUCCEEDED", output=[f"{elsewhere.url}/v.mp4"])
    services.job_poll(runway_job.pk)
    job = Job.objects.get(pk=runway_job.pk)
    assert job.status == "failed" and job.error_code == "runway_output_refused"
    assert elsewhere.hits == [] and not Asset.objects.filter(job__pk=job.pk).exists()


def test_a_redirect_to_loopback_is_refused(in_process, settings, runway_job, runway, receiver, s3, app_settings):
    from image_to_video import services

    secret = receiver()
    hop = receiver(redirect_to=f"{secret.url}/secret")
    app_settings(RUNWAY_OUTPUT_URL_PREFIXES=[f"{hop.url}/outputs/"])
    runway.tasks[runway_job.provider_task_id].update(status="SUCCEEDED", output=[f"{hop.url}/outputs/v.mp4"])
    services.job_poll(runway_job.pk)
    job = Job.objects.get(pk=runway_job.pk)
    assert hop.hits == ["/outputs/v.mp4"] and secret.hits == [], "the hop is checked before it is followed"
    assert job.status == "failed" and job.error_code == "runway_output_refused"


def test_a_trickling_download_fails_at_the_deadline(
    in_process, settings, runway_job, runway, receiver, s3, app_settings
):
    from image_to_video import services
    from image_to_video.providers import ProviderError, get_provider

    slow = receiver(trickle=True)
    app_settings(RUNWAY_OUTPUT_URL_PREFIXES=[f"{slow.url}/"])
    app_settings(RUNWAY_DOWNLOAD_DEADLINE=1.0)
    runway.tasks[runway_job.provider_task_id].update(status="SUCCEEDED", output=[f"{slow.url}/v.mp4"])
    started = time.monotonic()
    with pytest.raises(ProviderError, match="took over 1 s"):
        services.job_apply_provider_update(runway_job.pk, get_provider("runway").poll(render_request(runway_job)))
    assert time.monotonic() - started < 10, "each of the 3 tries stops at the deadline"
    assert Job.objects.get(pk=runway_job.pk).status == "processing", "a transient failure: polled again later"


def test_a_downloaded_file_that_is_not_mp4_is_not_opened_as_anything_else(tmp_path):
    from image_to_video.engine import InvalidImage
    from image_to_video.engine.fit import fit_video

    playlist = tmp_path / "output.mp4"
    playlist.write_text("#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n")
    with pytest.raises(InvalidImage):
        fit_video(playlist, tmp_path / "out.mp4", width=64, height=64, duration=1, output_format="mp4")


def test_failures_lock_the_attackers_pair_and_address_never_the_victims_name(tenant):
    """Ten failures against a user's name from one address lock that address (whatever name it tries next,
    even with the right password), not the name: the real user logs in from their own address. A forged
    X-Forwarded-For does not move the attacker to a fresh address (no proxy is named here)."""
    from django.test import Client

    tenant.user.set_password("the-real-password-9")
    tenant.user.save()
    attacker = Client(REMOTE_ADDR="10.9.8.7")
    for i in range(10):
        response = attacker.post("/accounts/login/", {"username": tenant.user.username, "password": f"wrong{i}"})
        assert response.status_code == (429 if i == 9 else 200), "failures show the form; the 10th locks"
    right = {"username": tenant.user.username, "password": "the-real-password-9"}
    assert attacker.post("/accounts/login/", right).status_code == 429, "the attacker's address stays locked"
    assert attacker.post("/accounts/login/", {"username": "someone-else", "password": "x"}).status_code == 429
    forged = Client(REMOTE_ADDR="10.9.8.7", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert forged.post("/accounts/login/", right).status_code == 429, "a forged header is not a new address"
    victim = Client(REMOTE_ADDR="10.1.1.1")
    answer = victim.post("/accounts/login/", right)
    assert answer.status_code == 302, "the real user logs in after someone else's failures against their name"


def test_password_validators_refuse_weak_passwords(tenant):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        validate_password("12345678", tenant.user)
    validate_password("a long and unusual passphrase 93", tenant.user)
