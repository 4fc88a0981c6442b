"""The one writer of job rows: every change in a job's life is one of these operations.

Zulip's ``do_*`` actions for one kind of row: a job is created, started (lease,
attempt), renews its lease, records progress, its provider's task and status,
its framing; claims and releases a provider's result; completes, fails, falls
back to the local engine, goes back to the queue, is canceled; has its video
and asset recorded and, long after, its source pruned. Each operation takes the
row lock where two writers may race, and says what else it does: outbound
webhook deliveries written in the same transaction (the outbox), channel events
and metrics after commit. Status moves go through :func:`transition`, which
refuses any move :data:`~image_to_video.models.ALLOWED_TRANSITIONS` does not
list, so nothing leaves a final state. The rest of ``services`` orchestrates:
it decides, and calls these.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta
from typing import Any

from django.db import models, transaction
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from .. import events, metrics
from ..conf import get_config
from ..models import ALLOWED_TRANSITIONS, FINAL_STATUSES, ClientLoad, Job, JobStatus
from ..providers import provider_names
from .outbound import deliveries_create


def job_insert(job: Job) -> None:
    """A new queued job (its source already stored), in the caller's transaction."""
    job.save(force_insert=True)
    _load_moved(job.client_id, queued=1)


# What a move does to its client's load: (running, queued).
LOAD_DELTAS = {
    (JobStatus.QUEUED, JobStatus.PROCESSING): (1, -1),
    (JobStatus.PROCESSING, JobStatus.QUEUED): (-1, 1),
    (JobStatus.QUEUED, JobStatus.FAILED): (0, -1),
    (JobStatus.QUEUED, JobStatus.CANCELED): (0, -1),
    (JobStatus.PROCESSING, JobStatus.COMPLETED): (-1, 0),
    (JobStatus.PROCESSING, JobStatus.FAILED): (-1, 0),
    (JobStatus.PROCESSING, JobStatus.CANCELED): (-1, 0),
}


def client_load_lock(client_id: Any) -> None:
    """Lock the client's load row (made if missing) for the rest of the transaction: the one place a
    client's concurrent submits queue behind each other, so its active jobs are counted one by one.

    Not the client's own row: a worker's transaction ends by taking this row too, and at commit checks
    the foreign keys of what it wrote, which locks the client's row (KEY SHARE); a submit holding the
    client's row FOR UPDATE while waiting for this one would deadlock with it.
    """
    ClientLoad.objects.bulk_create([ClientLoad(client_id=client_id)], ignore_conflicts=True)
    ClientLoad.objects.select_for_update().filter(client_id=client_id).first()


def _load_moved(client_id: Any, *, running: int = 0, queued: int = 0) -> None:
    """The client's load after one of its jobs moved, in the same transaction as the move: the counts by
    the deltas, and its oldest queued job looked up again (one probe of the queued-jobs index). A client
    without a row yet (its first job, or jobs made before the rows existed) is counted once instead."""
    oldest = (
        Job.objects.filter(client_id=client_id, status=JobStatus.QUEUED).order_by("created_at").values("created_at")[:1]
    )
    changes: dict[str, Any] = {"oldest_queued": models.Subquery(oldest)}
    if running:
        changes["running"] = models.F("running") + running
    if queued:
        changes["queued"] = models.F("queued") + queued
    if not ClientLoad.objects.filter(client_id=client_id).update(**changes):
        _load_counted(client_id)


def _counted(jobs: models.QuerySet[Job]) -> models.QuerySet:
    return (
        jobs.filter(status__in=(JobStatus.QUEUED, JobStatus.PROCESSING))
        .values("client_id")
        .annotate(
            running=models.Count("pk", filter=models.Q(status=JobStatus.PROCESSING)),
            queued=models.Count("pk", filter=models.Q(status=JobStatus.QUEUED)),
            oldest=models.Min("created_at", filter=models.Q(status=JobStatus.QUEUED)),
        )
    )


def _load_counted(client_id: Any) -> None:
    row = next(iter(_counted(Job.objects.filter(client_id=client_id))), None)
    values = {"running": row["running"], "queued": row["queued"], "oldest_queued": row["oldest"]} if row else {}
    ClientLoad.objects.update_or_create(client_id=client_id, defaults=values)


def loads_recount() -> int:
    """Count the clients' loads again from their jobs (the recovery sweep), so a count that drifted heals;
    returns how many rows were wrong.

    One aggregate over the active jobs (two partial indexes), without locks, finds the rows that look
    wrong; each of those is then locked and counted again for its own client, so a move that commits
    meanwhile is either in the count or adds its delta after it, and nothing waits on the aggregate.
    """
    truth = {row["client_id"]: (row["running"], row["queued"], row["oldest"]) for row in _counted(Job.objects.all())}
    loads = {load.client_id: (load.running, load.queued, load.oldest_queued) for load in ClientLoad.objects.all()}
    wrong = 0
    for client_id in set(loads) | set(truth):
        if loads.get(client_id, (0, 0, None)) == truth.get(client_id, (0, 0, None)):
            continue
        with transaction.atomic():
            client_load_lock(client_id)
            load = ClientLoad.objects.get(client_id=client_id)
            row = next(iter(_counted(Job.objects.filter(client_id=client_id))), None)
            counted = (row["running"], row["queued"], row["oldest"]) if row else (0, 0, None)
            if (load.running, load.queued, load.oldest_queued) != counted:
                wrong += 1
                ClientLoad.objects.filter(client_id=client_id).update(
                    running=counted[0], queued=counted[1], oldest_queued=counted[2]
                )
    return wrong


def transition(job_id: Any, to: str, **fields: Any) -> Job | None:
    """Move a job to ``to`` if that move is allowed; return it, or None if not.

    The row is locked, so a webhook, a poller and a cancel racing each other
    are applied one after the other and only legal moves survive.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        if to not in ALLOWED_TRANSITIONS.get(JobStatus(job.status), ()):
            return None
        came_from = JobStatus(job.status)
        job.status = to
        for name, value in fields.items():
            setattr(job, name, value)
        now = timezone.now()
        first_start = to == JobStatus.PROCESSING and job.started_at is None
        if first_start:
            job.started_at = now
        if to in FINAL_STATUSES:
            job.completed_at = now
        job.save(update_fields=["status", "updated_at", "started_at", "completed_at", *fields])
        event = "job.started" if first_start else OUTBOUND_EVENTS.get(to)
        if event:
            deliveries_create(job, event)  # in this transaction: the delivery row is the outbox
        running, queued = LOAD_DELTAS.get((came_from, JobStatus(to)), (0, 0))
        if running or queued:  # last: the client's load row is the lock this transaction takes last
            _load_moved(job.client_id, running=running, queued=queued)
        final = to in FINAL_STATUSES
        transaction.on_commit(lambda: events.publish_job(job.pk, final=final), robust=True)
        if final:
            transaction.on_commit(lambda: metrics.JOBS_FINISHED.labels(to, job.provider).inc(), robust=True)
    return job


OUTBOUND_EVENTS: dict[str, str] = {
    JobStatus.COMPLETED: "job.completed",
    JobStatus.FAILED: "job.failed",
    JobStatus.CANCELED: "job.canceled",
}


def lease_deadline() -> datetime:
    return timezone.now() + timedelta(seconds=get_config().JOB_LEASE_SECONDS)


def job_start(job_id: Any = None, *, remote: bool = False) -> Job | None:
    """Queued -> processing for this worker, holding the job's lease; None if there is nothing to take.

    ``job_id`` names the job (inline runs, old messages); without it the worker
    takes the fairest queued job of a remote provider (``remote``) or of one that
    renders here: that of the client with the fewest jobs running, oldest first,
    skipping rows another worker is claiming. A job that
    is already processing under a live lease belongs to another worker and is
    left alone, so a duplicate delivery never renders twice.
    """
    with transaction.atomic():
        if job_id is None:
            job_id = _fairest_queued_job_id(provider_names(remote=remote))
            if job_id is None:
                return None
        job = transition(job_id, JobStatus.PROCESSING, lease_expires_at=lease_deadline())
        if job is not None:
            Job.objects.filter(pk=job.pk).update(attempts=models.F("attempts") + 1)
            job.attempts += 1
    return job


PICK_CANDIDATES = 20  # clients tried, fairest first, before the full count is asked instead


def _fairest_queued_job_id(providers: tuple[str, ...]) -> Any:
    """The queued job of the client with the fewest jobs running, oldest first, that no other worker is
    claiming: the first clients of the load index (fewest running, then oldest queued job), each asked
    for its oldest queued job of these providers, locked with SKIP LOCKED. A handful of index probes
    however long the queue; only when none of those clients has a free job of these providers (another
    provider's turn, or every candidate being claimed at once) is the whole queue counted."""
    waiting = ClientLoad.objects.filter(queued__gt=0).order_by("running", "oldest_queued")
    for client_id in waiting.values_list("client_id", flat=True)[:PICK_CANDIDATES]:
        pick = (
            Job.objects.filter(client_id=client_id, status=JobStatus.QUEUED, provider__in=providers)
            .order_by("created_at")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)
            .first()
        )
        if pick is not None:
            return pick
    return _fairest_by_counting(providers)


def _fairest_by_counting(providers: tuple[str, ...]) -> Any:
    """The same choice by counting every queued job's client's running jobs: linear in the queue, kept
    for what the load rows cannot answer quickly."""
    running = (
        Job.objects.filter(client=models.OuterRef("client"), status=JobStatus.PROCESSING)
        .values("client")
        .annotate(n=models.Count("pk"))
        .values("n")
    )
    pick = (
        Job.objects.filter(status=JobStatus.QUEUED, provider__in=providers)
        .annotate(running=Coalesce(models.Subquery(running), 0))
        .order_by("running", "created_at")
        .select_for_update(skip_locked=True, of=("self",))
        .only("pk")
        .first()
    )
    return pick.pk if pick is not None else None


def job_save_progress(job_id: Any, progress: int) -> bool:
    """One write while a job renders: its progress (never backwards, at most 99) and its lease, together;
    False when the job is no longer this worker's (canceled, or taken back after a lost lease).

    Live progress goes to the page over the channel layer as often as it changes; the row only needs
    it every few seconds (``PROGRESS_WRITE_INTERVAL``), for readers of the API and for the lease.
    """
    progress = max(0, min(99, int(progress)))
    return bool(
        Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING).update(
            progress=Greatest(models.F("progress"), models.Value(progress)),
            lease_expires_at=lease_deadline(),
            updated_at=timezone.now(),
        )
    )


def job_is_mine(job_id: Any) -> bool:
    """Whether the job is still processing (a read, no write): what a render asks every second."""
    return Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING).exists()


def job_set_progress(job_id: Any, progress: int) -> None:
    """Save progress (never backwards, never past 99 before completion) and publish it."""
    progress = max(0, min(99, int(progress)))
    with transaction.atomic():
        updated = Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING, progress__lt=progress).update(
            progress=progress, updated_at=timezone.now()
        )
        if updated:
            transaction.on_commit(lambda: events.publish_job(job_id), robust=True)
            job = Job.objects.select_related("client").filter(pk=job_id).first()
            if job is not None:
                deliveries_create(job, "job.progress")


def job_complete(job_id: Any, *, video_name: str = "", output_path: str | os.PathLike[str] = "") -> Job | None:
    """Processing -> completed, with the video in the storage (``video_name``) or, while storage
    is down, in this worker's scratch space (``output_path``); filing takes it from either."""
    return transition(
        job_id,
        JobStatus.COMPLETED,
        progress=100,
        video_name=video_name,
        output_path=os.fspath(output_path),
        lease_expires_at=None,
        error_code="",
        error_message="",
    )


# An absolute filesystem path (not part of a URL): shown to users as its last part only.
SERVER_PATH = re.compile(r"(?<![\w:/.])/(?:[^\s/'\"]+/)+([^\s/'\"]*)")


def public_message(message: str) -> str:
    """A job error as users see it: no server paths (``/srv/…/uploads/x.png`` becomes ``x.png``)."""
    return SERVER_PATH.sub(lambda m: m.group(1) or "a file", message)[:2000]


def job_fail(job_id: Any, *, code: str, message: str) -> Job | None:
    return transition(
        job_id,
        JobStatus.FAILED,
        error_code=code[:50],
        error_message=public_message(message),
        lease_expires_at=None,
    )


def job_requeue(job_id: Any) -> Job | None:
    """Processing -> queued at once, the lease cleared (a stopping worker, an expired lease); the attempt made
    stays counted. The caller sends the turn."""
    return transition(job_id, JobStatus.QUEUED, lease_expires_at=None, progress=0)


def job_fall_back(job: Job, *, code: str, message: str) -> Job | None:
    """Queued again as a local job after its provider failed it for a reason not the user's, keeping the
    provider's error; None when the job moved meanwhile."""
    moved = transition(
        job.pk,
        JobStatus.QUEUED,
        provider="local",
        fallback_from=job.provider,
        fallback_error={"code": code[:50], "message": public_message(message), "taskId": job.provider_task_id},
        provider_task_id="",
        provider_status="",
        progress=0,
        lease_expires_at=None,
        result_claimed_at=None,
    )
    if moved is not None:
        transaction.on_commit(lambda: metrics.JOBS_FALLEN_BACK.labels(job.provider).inc(), robust=True)
    return moved


def job_cancel_row(job_id: Any) -> Job | None:
    """Canceled by the user, if it has not finished."""
    return transition(job_id, JobStatus.CANCELED, error_code="canceled", error_message="canceled by the user")


def job_extend_lease(job_id: Any, seconds: float) -> None:
    """The lease of a job waiting on its provider covers the next poll (a poll lost with a worker is sent
    again by the recovery sweep once it runs out)."""
    lease = timezone.now() + timedelta(seconds=seconds)
    Job.objects.filter(pk=job_id, status__in=(JobStatus.QUEUED, JobStatus.PROCESSING)).update(lease_expires_at=lease)


def job_record_provider_task(job_id: Any, *, task_id: str, request: dict | None) -> None:
    """The provider took the job: its task id (followed by polls and webhooks) and what was sent."""
    Job.objects.filter(pk=job_id).update(
        provider_task_id=task_id, provider_request=request or {}, updated_at=timezone.now()
    )


def job_record_provider_status(job_id: Any, provider_status: str) -> None:
    """The provider's own word for the task (THROTTLED shows as queued, with a note), published when new."""
    changed = Job.objects.filter(pk=job_id).exclude(provider_status=provider_status)
    if changed.update(provider_status=provider_status, updated_at=timezone.now()):
        events.publish_job(job_id)


def job_record_framing(job_id: Any, *, framing: dict, camera_path: list | None) -> None:
    """What the local engine found and did, and the resolved keyframes that render the same video."""
    Job.objects.filter(pk=job_id).update(framing=framing, camera_path=camera_path or [])


def job_claim_result(job_id: Any, *, stale_after: float) -> bool:
    """This worker's turn to fetch a provider's result (a claim older than ``stale_after`` s is a crashed
    worker's); False when another worker has it or the job is done."""
    stale = timezone.now() - timedelta(seconds=stale_after)
    claimable = Job.objects.filter(pk=job_id, status=JobStatus.PROCESSING).filter(
        models.Q(result_claimed_at__isnull=True) | models.Q(result_claimed_at__lt=stale)
    )
    return bool(claimable.update(result_claimed_at=timezone.now()))


def job_release_result(job_id: Any) -> None:
    """The fetch did not finish: another attempt may claim it."""
    Job.objects.filter(pk=job_id).update(result_claimed_at=None)


def job_record_video(job_id: Any, video_name: str) -> None:
    """The video is in the shared storage under ``video_name`` (no longer in a worker's scratch space)."""
    Job.objects.filter(pk=job_id).update(video_name=video_name, output_path="")


def job_link_asset(job_id: Any, asset: Any) -> bool:
    """The job's asset, recorded once; False when another filing got there first."""
    return bool(Job.objects.filter(pk=job_id, asset__isnull=True).update(asset=asset))


def job_forget_source(job_id: Any) -> None:
    """The source image was deleted (past its retention)."""
    Job.objects.filter(pk=job_id).update(source_image="")
