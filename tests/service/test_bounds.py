"""Every list and string on the wire has a bound with a named 400 (nothing made), or, where a standard says
to ignore what cannot be honoured (RFC 7240's Prefer), is ignored: never a 500."""

from __future__ import annotations

import uuid

import pytest

from image_to_video.models import Job
from tests.conftest import generate_body

GENERATE = "/api/image-to-video/generate"
VARIANTS = "/api/image-to-video/generate/variants"


@pytest.mark.parametrize(
    "events,word",
    [
        (["job.completed"] * 2, "once"),
        (["job.completed"] * 100_000, "webhookEvents"),
        (
            ["job.started", "job.progress", "job.completed", "job.failed", "job.canceled", "asset.created", "x"],
            "webhookEvents",
        ),
    ],
    ids=["repeated", "a hundred thousand", "seven"],
)
def test_webhook_events_are_bounded_and_named(tenant, events, word):
    before = Job.objects.count()
    response = tenant.api.post(GENERATE, generate_body(webhookEvents=events), format="json")
    assert response.status_code == 400 and "webhookEvents" in response.json()
    assert word in str(response.json())
    assert Job.objects.count() == before


@pytest.mark.parametrize("route,body", [(GENERATE, None), (VARIANTS, "variants")])
def test_a_long_idempotency_key_is_a_400_not_a_cut(tenant, route, body):
    """Cutting long keys made distinct requests collide; now the header is named and nothing is made."""
    payload = generate_body() if body is None else {"sourceImage": generate_body()["sourceImage"], "variants": [{}]}
    before = Job.objects.count()
    response = tenant.api.post(route, payload, format="json", HTTP_IDEMPOTENCY_KEY="k" * 300)
    assert response.status_code == 400 and "Idempotency-Key" in response.json()
    assert Job.objects.count() == before


def test_keys_that_differ_past_the_old_cut_are_distinct(tenant):
    first = tenant.api.post(GENERATE, generate_body(), format="json", HTTP_IDEMPOTENCY_KEY="a" * 250 + "1")
    second = tenant.api.post(GENERATE, generate_body(width=128), format="json", HTTP_IDEMPOTENCY_KEY="a" * 250 + "2")
    assert (first.status_code, second.status_code) == (202, 202)
    assert first.json()["jobId"] != second.json()["jobId"]


@pytest.mark.parametrize("prefer", ["wait=" + "9" * 5000, "wait=abc", "wait=-1", "wait", ";;;" * 2000])
def test_a_prefer_that_cannot_be_honoured_is_ignored(tenant, prefer):
    response = tenant.api.post(GENERATE, generate_body(), format="json", HTTP_PREFER=prefer)
    assert response.status_code == 202 and "Preference-Applied" not in response
    assert Job.objects.filter(pk=uuid.UUID(response.json()["jobId"])).exists()


def test_variants_over_the_render_budget_are_refused_with_nothing_made(tenant):
    """Twelve 10 s 1080p variants (about ten worker-minutes) in one request: a 400 naming the budget."""
    big = {"width": 1920, "height": 1080, "duration": 10}
    body = {"sourceImage": generate_body()["sourceImage"], "variants": [big] * 12}
    before = Job.objects.count()
    response = tenant.api.post(VARIANTS, body, format="json")
    assert response.status_code == 400 and "pixel-frames" in str(response.json()["variants"])
    assert Job.objects.count() == before
    body["variants"] = [big] * 4
    assert tenant.api.post(VARIANTS, body, format="json").status_code == 202, "four fit the default budget"
