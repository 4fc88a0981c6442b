"""What integrators get: signed outbound webhooks with a delivery log, Prefer: wait, variants and batches.

Webhooks go to a real HTTP receiver on loopback; signatures are checked with
the ``standardwebhooks`` package and the client's own secret.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from assets.models import Asset
from image_to_video.models import ClientWebhookSettings, Job, WebhookDelivery
from tests.conftest import drain, eventually, generate_body, upload_files, wait_for_job

GENERATE = "/api/image-to-video/generate"
VARIANTS = "/api/image-to-video/generate/variants"


@dataclass
class Receiver:
    """A webhook receiver on loopback: records every call, answers the scripted statuses, then 200."""

    answers: deque = field(default_factory=deque)
    calls: list = field(default_factory=list)

    def start(self) -> Receiver:
        return self.start_on(0)

    def start_on(self, port: int) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                receiver.calls.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status = receiver.answers.popleft() if receiver.answers else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/airwave"

    def events(self) -> list[str]:
        return [json.loads(c["body"])["type"] for c in self.calls]

    def wait_for(self, count: int, timeout: float = 30) -> list:
        eventually(lambda: len(self.calls) >= count, timeout, f"{count} calls received")
        return self.calls


@pytest.fixture
def receiver(settings, app_settings):
    app_settings(OUTBOUND_WEBHOOK_ALLOW_PRIVATE=True)
    app_settings(OUTBOUND_WEBHOOK_FIRST_RETRY=0.2)
    receiver = Receiver().start()
    yield receiver
    receiver.server.shutdown()


def _secret(tenant) -> str:
    response = tenant.api.post(f"/api/image-to-video/clients/{tenant.client.pk}/webhook-secret")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    return secret


def test_deliveries_are_signed_with_the_clients_secret_and_carry_the_api_json(in_process, tenant, s3, receiver):
    secret = _secret(tenant)
    response = tenant.api.post(GENERATE, generate_body(webhook=receiver.url), format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["jobId"], asset=True)
    calls = receiver.wait_for(3)
    assert receiver.events() == ["job.started", "job.completed", "asset.created"], "default: all but progress"
    for call in calls:
        payload = Webhook(secret).verify(call["body"], call["headers"])  # raises if the signature is wrong
        assert call["headers"]["webhook-id"].startswith("msg_")
        if payload["type"].startswith("job."):
            assert payload["job"]["jobId"] == str(job.pk)
    asset = json.loads(calls[2]["body"])["asset"]
    assert asset["assetId"] == str(job.asset_id) and asset["posterUrl"]
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "A" * 43 + "=").verify(calls[0]["body"], calls[0]["headers"])
    log = tenant.api.get(f"/api/image-to-video/jobs/{job.pk}/deliveries").json()
    assert [(d["event"], d["state"], d["attempts"], d["lastStatus"]) for d in log] == [
        ("job.started", "delivered", 1, 200),
        ("job.completed", "delivered", 1, 200),
        ("asset.created", "delivered", 1, 200),
    ]


def test_a_failing_receiver_gets_retries_with_the_same_webhook_id(in_process, tenant, s3, receiver):
    receiver.answers.extend([500, 500])
    response = tenant.api.post(
        GENERATE, generate_body(webhook=receiver.url, webhookEvents=["job.completed"]), format="json"
    )
    job = wait_for_job(response.json()["jobId"])
    calls = receiver.wait_for(3)
    assert len(calls) == 3 and receiver.events() == ["job.completed"] * 3
    assert len({c["headers"]["webhook-id"] for c in calls}) == 1, "one webhook-id across the retries"
    delivery = eventually(
        lambda: WebhookDelivery.objects.filter(job=job, delivered_at__isnull=False).first(), 5, "the delivery done"
    )
    assert (delivery.attempts, delivery.last_status, delivery.state) == (3, 200, "delivered")


def test_a_receiver_that_is_down_gets_the_delivery_when_it_is_back(in_process, tenant, s3, receiver):
    port = receiver.server.server_address[1]
    url = receiver.url
    receiver.server.shutdown()
    receiver.server.server_close()  # connection refused from now on
    response = tenant.api.post(GENERATE, generate_body(webhook=url, webhookEvents=["job.completed"]), format="json")
    job = wait_for_job(response.json()["jobId"])
    delivery = eventually(lambda: WebhookDelivery.objects.filter(job=job, attempts__gte=1).first(), 10, "an attempt")
    assert delivery.delivered_at is None and delivery.last_error.startswith("connection failed")
    assert delivery.next_retry_at is not None, "a retry is scheduled"
    revived = Receiver().start_on(port)
    receiver.server = revived.server  # the fixture shuts this one down
    calls = revived.wait_for(1, timeout=20)
    assert [json.loads(c["body"])["job"]["jobId"] for c in calls] == [str(job.pk)]
    assert calls[0]["headers"]["webhook-id"] == delivery.webhook_id


def test_progress_events_are_sent_when_asked_at_most_every_half_second(in_process, tenant, s3, receiver):
    response = tenant.api.post(
        GENERATE,
        generate_body(webhook=receiver.url, webhookEvents=["job.progress"], duration=4, width=640, height=360),
        format="json",
    )
    wait_for_job(response.json()["jobId"])
    drain()
    stamps = [
        datetime.fromisoformat(json.loads(c["body"])["job"]["updatedAt"].replace("Z", "+00:00")) for c in receiver.calls
    ]
    assert receiver.events() and set(receiver.events()) == {"job.progress"}
    gaps = [(b - a).total_seconds() for a, b in zip(stamps, stamps[1:], strict=False)]
    assert all(gap >= 0.45 for gap in gaps), gaps


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "https://127.0.0.1/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://localhost/hook",
        "ftp://example.com/hook",
        "https://user:pw@example.com/hook",
    ],
)
def test_private_and_non_https_targets_are_refused_at_submit(tenant, settings, url, app_settings):
    app_settings(OUTBOUND_WEBHOOK_ALLOW_PRIVATE=False)
    before = Job.objects.count(), len(upload_files())
    response = tenant.api.post(GENERATE, generate_body(webhook=url), format="json")
    assert response.status_code == 400 and "webhook" in response.json(), response.json()
    assert (Job.objects.count(), len(upload_files())) == before


def test_a_host_that_does_not_resolve_is_accepted_and_retried(in_process, tenant, s3, settings, app_settings):
    """DNS failing is not a refusal: the job is made, and each attempt resolves (and checks) again."""
    app_settings(OUTBOUND_WEBHOOK_ALLOW_PRIVATE=False)
    app_settings(OUTBOUND_WEBHOOK_FIRST_RETRY=30)
    response = tenant.api.post(GENERATE, generate_body(webhook="https://hooks.airwave.invalid/x"), format="json")
    assert response.status_code == 202, response.json()
    job = wait_for_job(response.json()["jobId"])
    tried = eventually(lambda: list(WebhookDelivery.objects.filter(job=job, attempts__gt=0)), 10, "an attempt")
    assert tried and all("does not resolve" in d.last_error and d.next_retry_at for d in tried)


def test_a_target_that_turns_private_is_refused_at_delivery(in_process, tenant, s3, receiver, settings, app_settings):
    response = tenant.api.post(GENERATE, generate_body(webhook=receiver.url), format="json")
    app_settings(OUTBOUND_WEBHOOK_ALLOW_PRIVATE=False)  # as if the name now resolved to a private address
    job = wait_for_job(response.json()["jobId"])
    drain()
    failed = [d for d in WebhookDelivery.objects.filter(job=job) if d.last_error.startswith("refused")]
    assert failed and all(d.next_retry_at is None and d.delivered_at is None for d in failed)


def test_the_client_default_webhook_and_its_event_filter(in_process, tenant, s3, receiver):
    ClientWebhookSettings.objects.create(
        client=tenant.client, webhook_url=receiver.url, webhook_events=["asset.created"]
    )
    response = tenant.api.post(GENERATE, generate_body(), format="json")
    wait_for_job(response.json()["jobId"], asset=True)
    receiver.wait_for(1)
    drain()
    assert receiver.events() == ["asset.created"]


def test_deliveries_and_secrets_are_the_clients_own(tenant, outsider):
    job = Job.objects.create(
        client=tenant.client, user=tenant.user, motion_type="zoom", motion_direction="in", motion_strength=50,
        duration=1, output_format="mp4", width=64, height=64,
    )  # fmt: skip
    assert outsider.api.get(f"/api/image-to-video/jobs/{job.pk}/deliveries").status_code == 404
    assert outsider.api.post(f"/api/image-to-video/clients/{tenant.client.pk}/webhook-secret").status_code == 404
    assert outsider.api.post("/api/image-to-video/clients/not-a-uuid/webhook-secret").status_code == 404
    assert not ClientWebhookSettings.objects.filter(client=tenant.client).exists()


def test_the_admin_shows_the_delivery_log_and_redelivers(in_process, tenant, s3, receiver, admin_client):
    response = tenant.api.post(GENERATE, generate_body(webhook=receiver.url), format="json")
    job = wait_for_job(response.json()["jobId"], asset=True)
    receiver.wait_for(3)
    page = admin_client.get(f"/admin/image_to_video/job/{job.pk}/change/").content.decode()
    delivery = WebhookDelivery.objects.filter(job=job, event="job.completed").get()
    assert delivery.webhook_id in page and "job.completed" in page
    answer = admin_client.post(
        "/admin/image_to_video/webhookdelivery/",
        {"action": "redeliver", "_selected_action": [str(delivery.pk)]},
        follow=True,
    )
    assert answer.status_code == 200 and "sent again" in answer.content.decode()
    calls = receiver.wait_for(4)
    assert calls[-1]["headers"]["webhook-id"] == delivery.webhook_id
    # The receiver answers a moment before the attempt is recorded.
    eventually(lambda: WebhookDelivery.objects.filter(pk=delivery.pk, attempts=2, delivered_at__isnull=False), 5)


def test_prefer_wait_returns_the_finished_job_in_one_request(in_process, tenant, s3):
    started = time.monotonic()
    response = tenant.api.post(GENERATE, generate_body(), format="json", HTTP_PREFER="wait=30")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "completed" and response["Preference-Applied"] == "wait=30"
    assert time.monotonic() - started < 30


def test_prefer_wait_gives_up_after_n_seconds_with_a_202(in_process, tenant, s3):
    started = time.monotonic()
    response = tenant.api.post(
        GENERATE,
        generate_body(duration=10, width=1920, height=1080, motionType="complex"),
        format="json",
        HTTP_PREFER="wait=1",
    )
    took = time.monotonic() - started
    assert response.status_code == 202 and response.json()["status"] in ("queued", "processing")
    assert 0.9 < took < 3.0, took
    tenant.api.post(f"/api/image-to-video/jobs/{response.json()['jobId']}/cancel")


def test_a_user_past_the_cap_of_waits_gets_the_202_at_once(in_process, tenant, s3, app_settings):
    """One wait already under way for this user and a cap of one: the next ``Prefer: wait`` is not held."""
    from image_to_video.api import _waits

    app_settings(PREFER_WAIT_PER_USER=1)
    assert _waits.enter(tenant.user.pk)
    try:
        started = time.monotonic()
        response = tenant.api.post(
            GENERATE, generate_body(duration=10, width=1920, height=1080), format="json", HTTP_PREFER="wait=30"
        )
        took = time.monotonic() - started
    finally:
        _waits.leave(tenant.user.pk)
    assert response.status_code == 202 and "Preference-Applied" not in response
    assert took < 10, "answered at once, not after the render"
    tenant.api.post(f"/api/image-to-video/jobs/{response.json()['jobId']}/cancel")


def test_prefer_wait_is_bounded_and_ignored_on_errors(tenant):
    response = tenant.api.post(GENERATE, generate_body(width=63), format="json", HTTP_PREFER="wait=30")
    assert response.status_code == 400 and "width" in response.json()


def test_three_variants_make_three_jobs_and_assets_under_one_batch(in_process, tenant, s3):
    variants = [
        {"width": 192, "height": 108},
        {"width": 108, "height": 192, "focus": "center"},
        {"width": 128, "height": 128, "motionType": "pan", "motionDirection": "left"},
    ]
    body = {"sourceImage": generate_body()["sourceImage"], "variants": variants}
    response = tenant.api.post(VARIANTS, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert response.status_code == 202, response.json()
    batch = response.json()
    assert len(batch["jobs"]) == 3 and {j["batchId"] for j in batch["jobs"]} == {batch["batchId"]}
    again = tenant.api.post(VARIANTS, body, format="json", HTTP_IDEMPOTENCY_KEY="batch-1")
    assert again.json()["batchId"] == batch["batchId"], "the same key and body: the same batch"
    for job in batch["jobs"]:
        wait_for_job(job["jobId"], asset=True)
    shown = tenant.api.get(f"/api/image-to-video/batches/{batch['batchId']}").json()
    assert [(j["params"]["width"], j["params"]["height"]) for j in shown["jobs"]] == [
        (192, 108),
        (108, 192),
        (128, 128),
    ]
    assets = Asset.objects.filter(metadata__batchId=batch["batchId"])
    assert assets.count() == 3
    found = tenant.api.get(f"/api/assets/?tag=batch-{batch['batchId']}").json()
    assert found["count"] == 3


def test_one_invalid_variant_makes_no_job(tenant):
    before = Job.objects.count(), len(upload_files())
    body = {
        "sourceImage": generate_body()["sourceImage"],
        "variants": [{"width": 192, "height": 108}, {"width": 191}, {"motionType": "wobble"}],
    }
    response = tenant.api.post(VARIANTS, body, format="json")
    assert response.status_code == 400
    errors = response.json()
    assert "variants[1].width" in errors and "variants[2].motionType" in errors
    assert (Job.objects.count(), len(upload_files())) == before
    too_many = tenant.api.post(VARIANTS, {**body, "variants": [{}] * 13}, format="json")
    assert too_many.status_code == 400 and "variants" in too_many.json()


def test_a_batch_over_the_client_limit_makes_no_job(tenant, settings, app_settings):
    app_settings(MAX_ACTIVE_JOBS_PER_CLIENT=2)
    before = Job.objects.count(), len(upload_files())
    body = {"sourceImage": generate_body()["sourceImage"], "variants": [{}, {}, {}]}
    response = tenant.api.post(VARIANTS, body, format="json")
    assert response.status_code == 429
    assert (Job.objects.count(), len(upload_files())) == before


def test_batches_are_the_clients_own(tenant, outsider, s3):
    body = {"sourceImage": generate_body()["sourceImage"], "variants": [{"width": 96, "height": 96}]}
    batch = tenant.api.post(VARIANTS, body, format="json").json()["batchId"]
    assert outsider.api.get(f"/api/image-to-video/batches/{batch}").status_code == 404
    assert outsider.api.get("/api/image-to-video/batches/not-a-uuid").status_code == 404


def test_multipart_takes_focus_keyframes_and_repeated_events(tenant, receiver):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.conftest import photo_bytes

    form = {
        "sourceImage": SimpleUploadedFile("p.png", photo_bytes(), content_type="image/png"),
        "focus": '{"x": 0.25, "y": 0.75}',
        "keyframes": '[{"t": 0}, {"t": 1, "zoom": 2}]',
        "webhook": receiver.url,
        "webhookEvents": ["job.completed", "asset.created"],
        "width": "96",
        "height": "96",
    }
    response = tenant.api.post(GENERATE, form, format="multipart")
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["jobId"])
    assert job.focus == {"x": 0.25, "y": 0.75} and len(job.keyframes) == 2
    assert job.webhook_event_types == ["job.completed", "asset.created"]
