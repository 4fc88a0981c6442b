"""Recovery, pruning and the outbound retry schedule, called directly: no worker, no sleeps."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from image_to_video.models import Job, JobStatus, WebhookDelivery
from image_to_video.services import outbound
from image_to_video.services.maintenance import job_sources_prune, jobs_recover
from tests.service.factories import make_job

pytestmark = pytest.mark.django_db
PAST = timezone.now() - timedelta(minutes=5)


def test_a_job_whose_worker_went_silent_goes_back_to_the_queue(tenant, app_settings):
    app_settings(WORKER="celery")  # the turn goes to the broker; no worker here renders it
    job = make_job(tenant, status=JobStatus.PROCESSING, lease_expires_at=PAST, progress=40)
    result = jobs_recover()
    row = Job.objects.get(pk=job.pk)
    assert result.requeued == 1 and (row.status, row.progress, row.lease_expires_at) == ("queued", 0, None)


def test_a_live_lease_is_left_alone(tenant, app_settings):
    app_settings(WORKER="celery")
    job = make_job(tenant, status=JobStatus.PROCESSING, lease_expires_at=timezone.now() + timedelta(minutes=1))
    assert jobs_recover().requeued == 0
    assert Job.objects.get(pk=job.pk).status == "processing"


def test_a_provider_job_whose_poll_was_lost_is_polled_again_not_requeued(tenant, app_settings):
    app_settings(WORKER="celery", RUNWAY_POLL_INTERVALS=(600, 600, 600))  # the poll waits on the broker
    job = make_job(tenant, provider="runway", status=JobStatus.PROCESSING, lease_expires_at=PAST, provider_task_id="t")
    result = jobs_recover()
    row = Job.objects.get(pk=job.pk)
    assert (result.requeued, result.polls_resent) == (0, 1)
    assert row.status == "processing" and row.lease_expires_at > timezone.now(), "the lease covers the next poll"


def test_sources_of_long_finished_jobs_are_pruned_and_no_others(tenant):
    old = make_job(tenant, status=JobStatus.COMPLETED, completed_at=timezone.now() - timedelta(days=8))
    recent = make_job(tenant, status=JobStatus.COMPLETED, completed_at=timezone.now() - timedelta(days=1))
    running = make_job(tenant, status=JobStatus.PROCESSING)
    assert job_sources_prune() == 1
    names = dict(Job.objects.values_list("pk", "source_image"))
    assert names[old.pk] == "" and names[recent.pk] and names[running.pk]


def _delivery(tenant, **fields) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        client=tenant.client,
        event="job.completed",
        url="https://hooks.example.com/x",
        payload={},
        **fields,
    )


def test_retries_double_from_the_first_gap_up_to_an_hour_and_stop_after_a_day(tenant, app_settings):
    app_settings(OUTBOUND_WEBHOOK_FIRST_RETRY=5)
    delivery = _delivery(tenant)
    now = delivery.created_at
    gaps = []
    for attempts in (1, 2, 3, 10, 20):
        delivery.attempts = attempts
        gaps.append((outbound._retry_at(delivery, now) - now).total_seconds())
    assert gaps == [5, 10, 20, 2560, 3600]
    assert outbound._retry_at(delivery, now + timedelta(hours=23, minutes=30)) is None, "given up after a day"


def test_due_deliveries_exclude_those_in_flight_done_or_given_up(tenant):
    now = timezone.now()
    due = _delivery(tenant, next_retry_at=now - timedelta(seconds=1))
    _delivery(tenant, next_retry_at=now - timedelta(seconds=1), claimed_until=now + timedelta(seconds=30))
    _delivery(tenant, next_retry_at=None, delivered_at=now)
    _delivery(tenant, next_retry_at=None)
    _delivery(tenant, next_retry_at=now + timedelta(minutes=5))
    assert outbound.deliveries_due() == [due.pk]


def test_a_delivery_in_flight_is_not_claimed_again(tenant):
    delivery = _delivery(tenant, next_retry_at=timezone.now() - timedelta(seconds=1))
    first = outbound._claim(delivery.pk)
    assert first is not None and first.claimed_until > timezone.now()
    assert outbound._claim(delivery.pk) is None
