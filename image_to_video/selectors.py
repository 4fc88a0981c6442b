"""Reads of jobs, always scoped to the clients the user belongs to."""

from __future__ import annotations

import uuid

from django.db.models import Count, Model, QuerySet

from assets.clients import clients_of, member_client_keys, parse_client_key

from .models import FINAL_STATUSES, Job, JobStatus, WebhookDelivery


def jobs_visible_to(user) -> QuerySet[Job]:
    """One query for a job and its asset, scoped by the membership subquery (no join through the clients)."""
    return Job.objects.filter(client_id__in=member_client_keys(user)).select_related("asset")


def jobs_for_client(*, user, client_id, status: str | None = None) -> QuerySet[Job] | None:
    """The client's jobs, newest first; None when the client is not the user's (or not a client)."""
    cid = parse_client_key(client_id)
    if cid is None or not clients_of(user).filter(pk=cid).exists():
        return None
    jobs = Job.objects.filter(client_id=cid).select_related("asset").order_by("-created_at")
    if status:
        jobs = jobs.filter(status=status)
    return jobs


def jobs_waiting_by_client() -> list[tuple[object, int]]:
    """(client id, queued jobs) for every client with jobs waiting: the metrics' queue gauges."""
    rows = Job.objects.filter(status=JobStatus.QUEUED).values("client_id").annotate(n=Count("pk"))
    return [(row["client_id"], row["n"]) for row in rows.order_by()]


def unfinished_jobs(client_id) -> QuerySet[Job]:
    return Job.objects.filter(client_id=client_id).exclude(status__in=FINAL_STATUSES).select_related("asset")


def batch_jobs(*, user, batch_id) -> list[Job] | None:
    """The jobs of a batch, in the order they were made; None when it is not one of the user's clients'."""
    try:
        bid = uuid.UUID(str(batch_id))
    except ValueError:
        return None
    jobs = list(jobs_visible_to(user).filter(batch_id=bid).order_by("created_at", "id"))
    return jobs or None


def client_of_member(user, client_id) -> Model | None:
    cid = parse_client_key(client_id)
    return None if cid is None else clients_of(user).filter(pk=cid).first()


def deliveries_of(job: Job) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(job=job).order_by("created_at")
