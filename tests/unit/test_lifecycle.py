"""The lifecycle's operations called directly on factory rows: no worker, no queue, no sleeps.

Post-commit work (events, turns, webhook attempts) does not run here (each test is one transaction that
is rolled back); what an operation writes in its own transaction, the outbox row included, is checked.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from assets.models import Asset
from image_to_video.models import ClientWebhookSettings, Job, JobStatus, WebhookDelivery
from image_to_video.services import lifecycle
from tests.service.factories import make_job

pytestmark = pytest.mark.django_db


def test_start_takes_the_queued_job_of_the_client_with_fewest_running(make_tenant):
    busy, idle = make_tenant(), make_tenant()
    make_job(busy, status=JobStatus.PROCESSING, lease_expires_at=timezone.now())
    older = make_job(busy)
    newer = make_job(idle)
    assert lifecycle.job_start().pk == newer.pk, "the idle client's job goes first, though it is newer"
    assert lifecycle.job_start().pk == older.pk


def test_start_leases_and_counts_the_attempt_and_never_takes_a_running_job(tenant):
    job = make_job(tenant)
    started = lifecycle.job_start(job.pk)
    assert started.status == JobStatus.PROCESSING and started.attempts == 1
    assert started.lease_expires_at > timezone.now() and started.started_at is not None
    assert lifecycle.job_start(job.pk) is None, "a job under a lease is another worker's"
    assert Job.objects.get(pk=job.pk).attempts == 1


def test_start_keeps_local_and_remote_jobs_apart(tenant):
    remote = make_job(tenant, provider="runway")
    assert lifecycle.job_start(remote=False) is None
    assert lifecycle.job_start(remote=True).pk == remote.pk


@pytest.mark.parametrize("final", [JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELED])
def test_nothing_leaves_a_final_state(tenant, final):
    job = make_job(tenant, status=final)
    for target in JobStatus.values:
        assert lifecycle.transition(job.pk, target) is None
    assert Job.objects.get(pk=job.pk).status == final


def test_queued_cannot_jump_to_completed(tenant):
    job = make_job(tenant)
    assert lifecycle.transition(job.pk, JobStatus.COMPLETED) is None
    assert lifecycle.job_complete(job.pk, video_name="x.mp4") is None


def test_a_final_move_stamps_the_completion_time(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING)
    done = lifecycle.job_complete(job.pk, video_name="clients/x/videos/y.mp4")
    assert done.status == JobStatus.COMPLETED and done.progress == 100 and done.completed_at is not None
    assert done.lease_expires_at is None and done.video_name == "clients/x/videos/y.mp4"


def test_progress_never_goes_backwards_and_stops_short_of_100(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING)
    for value in (40, 20, 100, 150, -5):
        lifecycle.job_set_progress(job.pk, value)
    assert Job.objects.get(pk=job.pk).progress == 99


def test_progress_is_not_written_on_a_job_that_is_not_running(tenant):
    job = make_job(tenant)
    lifecycle.job_set_progress(job.pk, 50)
    assert Job.objects.get(pk=job.pk).progress == 0


def test_requeue_clears_the_lease_and_progress_and_keeps_the_attempt(tenant):
    job = make_job(tenant)
    lifecycle.job_start(job.pk)
    lifecycle.job_set_progress(job.pk, 60)
    back = lifecycle.job_requeue(job.pk)
    assert back.status == JobStatus.QUEUED and back.lease_expires_at is None and back.progress == 0
    assert Job.objects.get(pk=job.pk).attempts == 1
    assert lifecycle.job_requeue(job.pk) is None, "a queued job cannot be requeued"


def test_fall_back_makes_a_local_job_keeping_the_providers_error(tenant):
    job = make_job(tenant, provider="runway", status=JobStatus.PROCESSING, provider_task_id="task-1")
    moved = lifecycle.job_fall_back(job, code="provider_unavailable", message="Runway answered 503 at /srv/x/y")
    assert moved.status == JobStatus.QUEUED and moved.provider == "local" and moved.fallback_from == "runway"
    assert moved.provider_task_id == "" and moved.fallback_error["taskId"] == "task-1"
    assert "/srv/" not in moved.fallback_error["message"], "no server paths in what users see"


def test_failing_keeps_a_public_message(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING)
    failed = lifecycle.job_fail(job.pk, code="render_failed", message="cannot read /var/lib/app/uploads/a.png")
    assert failed.status == JobStatus.FAILED and failed.error_message == "cannot read a.png"


def test_cancel_only_while_unfinished(tenant):
    running = make_job(tenant, status=JobStatus.PROCESSING)
    assert lifecycle.job_cancel_row(running.pk).status == JobStatus.CANCELED
    done = make_job(tenant, status=JobStatus.COMPLETED)
    assert lifecycle.job_cancel_row(done.pk) is None


def test_one_worker_claims_a_providers_result_and_a_stale_claim_is_taken_again(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING, provider="runway")
    assert lifecycle.job_claim_result(job.pk, stale_after=900) is True
    assert lifecycle.job_claim_result(job.pk, stale_after=900) is False, "another worker has it"
    assert lifecycle.job_claim_result(job.pk, stale_after=0) is True, "a claim older than the limit is a dead one's"
    lifecycle.job_release_result(job.pk)
    assert Job.objects.get(pk=job.pk).result_claimed_at is None


def test_a_finished_job_cannot_be_claimed(tenant):
    job = make_job(tenant, status=JobStatus.COMPLETED)
    assert lifecycle.job_claim_result(job.pk, stale_after=0) is False


def test_the_lease_of_a_job_waiting_on_its_provider_covers_the_next_poll(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING, provider="runway")
    lifecycle.job_extend_lease(job.pk, 120)
    lease = Job.objects.get(pk=job.pk).lease_expires_at
    assert 110 < (lease - timezone.now()).total_seconds() <= 120
    done = make_job(tenant, status=JobStatus.COMPLETED)
    lifecycle.job_extend_lease(done.pk, 120)
    assert Job.objects.get(pk=done.pk).lease_expires_at is None


def test_provider_task_status_and_framing_are_recorded(tenant):
    job = make_job(tenant, status=JobStatus.PROCESSING, provider="runway")
    lifecycle.job_record_provider_task(job.pk, task_id="t-9", request={"model": "gen4.5"})
    lifecycle.job_record_provider_status(job.pk, "THROTTLED")
    lifecycle.job_record_framing(job.pk, framing={"method": "face"}, camera_path=None)
    row = Job.objects.get(pk=job.pk)
    assert (row.provider_task_id, row.provider_request, row.provider_status) == (
        "t-9",
        {"model": "gen4.5"},
        "THROTTLED",
    )
    assert row.framing == {"method": "face"} and row.camera_path == []


def test_the_asset_is_linked_once(tenant):
    job = make_job(tenant, status=JobStatus.COMPLETED)
    first, second = (
        Asset.objects.create(
            client=tenant.client,
            user=tenant.user,
            name=name,
            origin=f"test:{job.pk}:{name}",
            content_type="video/mp4",
            size=1,
            file=f"clients/{tenant.client.pk}/videos/{name}.mp4",
        )
        for name in ("a", "b")
    )
    assert lifecycle.job_link_asset(job.pk, first) is True
    assert lifecycle.job_link_asset(job.pk, second) is False
    assert Job.objects.get(pk=job.pk).asset_id == first.pk


def test_the_video_and_the_source_are_recorded(tenant):
    job = make_job(tenant, status=JobStatus.COMPLETED, output_path="/tmp/x.mp4")
    lifecycle.job_record_video(job.pk, "clients/c/videos/v.mp4")
    lifecycle.job_forget_source(job.pk)
    row = Job.objects.get(pk=job.pk)
    assert (row.video_name, row.output_path, row.source_image.name) == ("clients/c/videos/v.mp4", "", "")


def test_a_status_move_writes_its_webhook_delivery_in_the_same_transaction(tenant):
    """The delivery row is the outbox: written with the change it reports."""
    ClientWebhookSettings.objects.create(client=tenant.client, webhook_url="https://hooks.example.com/x")
    job = make_job(tenant)
    lifecycle.job_start(job.pk)
    lifecycle.job_complete(job.pk, video_name="v.mp4")
    events = list(WebhookDelivery.objects.filter(job=job).order_by("created_at").values_list("event", flat=True))
    assert events == ["job.started", "job.completed"]


def test_a_job_subscribed_to_progress_gets_a_progress_delivery(tenant):
    job = make_job(
        tenant,
        status=JobStatus.PROCESSING,
        webhook_url="https://hooks.example.com/p",
        webhook_event_types=["job.progress"],
    )
    lifecycle.job_set_progress(job.pk, 30)
    assert list(WebhookDelivery.objects.filter(job=job).values_list("event", flat=True)) == ["job.progress"]


def test_a_renders_one_write_carries_progress_and_lease_and_says_whether_it_is_still_ours(tenant):
    from datetime import timedelta

    from django.utils import timezone

    job = lifecycle.job_start(make_job(tenant).pk)
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert lifecycle.job_save_progress(job.pk, 40) is True
    row = Job.objects.get(pk=job.pk)
    assert row.progress == 40 and row.lease_expires_at > timezone.now() + timedelta(seconds=20)
    assert lifecycle.job_save_progress(job.pk, 30) is True and Job.objects.get(pk=job.pk).progress == 40
    assert lifecycle.job_save_progress(job.pk, 100) is True and Job.objects.get(pk=job.pk).progress == 99
    assert lifecycle.job_is_mine(job.pk) is True
    lifecycle.job_cancel_row(job.pk)
    assert lifecycle.job_save_progress(job.pk, 60) is False and lifecycle.job_is_mine(job.pk) is False


def _load(tenant):
    from image_to_video.models import ClientLoad

    load = ClientLoad.objects.filter(client_id=tenant.client.pk).first()
    return (load.running, load.queued, load.oldest_queued) if load else None


def test_every_move_keeps_the_clients_load_in_the_same_transaction(tenant):
    first, second = make_job(tenant), make_job(tenant)
    assert _load(tenant) == (0, 2, first.created_at)
    lifecycle.job_start(first.pk)
    assert _load(tenant) == (1, 1, second.created_at), "the oldest queued is the next one now"
    lifecycle.job_requeue(first.pk)
    assert _load(tenant) == (0, 2, first.created_at)
    lifecycle.job_start(first.pk)
    lifecycle.job_complete(first.pk)
    assert _load(tenant) == (0, 1, second.created_at)
    lifecycle.job_cancel_row(second.pk)
    assert _load(tenant) == (0, 0, None)


def test_a_new_job_counts_its_client_in(tenant):
    job = make_job(tenant)
    job.pk = None
    import uuid

    job.id = uuid.uuid4()
    from django.db import transaction

    with transaction.atomic():
        lifecycle.job_insert(job)
    assert _load(tenant)[:2] == (0, 2)


def test_the_pick_reads_the_load_and_keeps_fairness(make_tenant):
    busy, idle, later = make_tenant(), make_tenant(), make_tenant()
    make_job(busy, status=JobStatus.PROCESSING, lease_expires_at=timezone.now())
    make_job(busy, status=JobStatus.PROCESSING, lease_expires_at=timezone.now())
    old_busy = make_job(busy)
    idle_job = make_job(idle)
    later_job = make_job(later)
    assert lifecycle._fairest_queued_job_id(("local",)) == idle_job.pk, "fewest running, then oldest"
    order = [lifecycle.job_start().pk for _ in range(3)]
    assert order == [idle_job.pk, later_job.pk, old_busy.pk]


def test_a_drifted_load_is_counted_again_and_the_pick_never_depends_on_it(tenant, make_tenant):
    from image_to_video.models import ClientLoad

    job = make_job(tenant)
    ClientLoad.objects.filter(client_id=tenant.client.pk).update(queued=0, running=7, oldest_queued=None)
    assert lifecycle.job_start().pk == job.pk, "a client the load hides is still found, by counting"
    lifecycle.job_requeue(job.pk)
    ClientLoad.objects.all().delete()
    assert lifecycle.loads_recount() == 1
    assert _load(tenant) == (0, 1, job.created_at)
    assert lifecycle.loads_recount() == 0
