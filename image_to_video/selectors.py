"""Reads of jobs, always scoped to the clients the user belongs to."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from tenancy.selectors import clients_of, parse_client_id

from .models import FINAL_STATUSES, Job, JobStatus


def jobs_visible_to(user) -> QuerySet[Job]:
    return Job.objects.filter(client__in=clients_of(user)).select_related("asset")


def jobs_for_client(*, user, client_id, status: str | None = None) -> QuerySet[Job] | None:
    """The client's jobs, newest first; None when the client is not the user's (or not a client)."""
    cid = parse_client_id(client_id)
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
