"""Prometheus metrics (``GET /metrics`` on the web, and on workers with WORKER_METRICS_PORT).

Counters and histograms live in the process that counts; with several
processes on one host set PROMETHEUS_MULTIPROC_DIR (``make serve`` does) and the
web's ``/metrics`` adds them up. Gauges that describe the whole service (queue
depth, jobs waiting per client) are read from the database at scrape time by
:class:`ServiceCollector`, so every host reports the same truth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

JOBS_CREATED = Counter("airwave_jobs_created_total", "Jobs accepted", ["provider"])
JOBS_FALLEN_BACK = Counter(
    "airwave_jobs_fallen_back_total", "Jobs a provider failed that the local engine rendered instead", ["provider"]
)
JOBS_FINISHED = Counter("airwave_jobs_finished_total", "Jobs that reached a final status", ["status", "provider"])
RENDER_SECONDS = Histogram(
    "airwave_render_seconds",
    "Time a worker spent rendering a job (local) or fetching and fitting its result",
    ["provider"],
    buckets=(0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300, 600),
)
FILING_FAILURES = Counter("airwave_asset_filing_failures_total", "Attempts to file a job's video that failed")
RUNWAY_ERRORS = Counter("airwave_runway_errors_total", "Runway API calls that failed", ["code"])
LEASE_EXPIRIES = Counter("airwave_lease_expiries_total", "Running jobs whose worker stopped renewing the lease")

WaitingQuery = Callable[[], list[tuple[object, int]]]
QueueStatsQuery = Callable[[], Mapping[str, Any]]  # queue name -> an object with depth and oldest_age


class ServiceCollector(Collector):
    """Jobs waiting (in all and per client) from the database, and each task queue's depth and the age of its
    oldest message from the broker: the same on every host, what an autoscaler scales on."""

    def __init__(self, waiting_by_client: WaitingQuery, queue_stats: QueueStatsQuery) -> None:
        self.waiting_by_client = waiting_by_client
        self.queue_stats = queue_stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        rows = self.waiting_by_client()
        depth = GaugeMetricFamily("airwave_queue_depth", "Queued jobs waiting for a worker")
        depth.add_metric([], sum(count for _, count in rows))
        yield depth
        per_client = GaugeMetricFamily("airwave_jobs_waiting", "Queued jobs per client", labels=["client"])
        for client_id, count in rows:
            per_client.add_metric([str(client_id)], count)
        yield per_client
        stats = self.queue_stats()
        depth_by_queue = GaugeMetricFamily(
            "airwave_task_queue_depth", "Messages waiting in a task queue (render, io)", labels=["queue"]
        )
        oldest = GaugeMetricFamily(
            "airwave_task_queue_oldest_age_seconds",
            "How long the oldest message of a task queue has waited (0 when empty)",
            labels=["queue"],
        )
        for name, queue in stats.items():
            depth_by_queue.add_metric([name], queue.depth)
            oldest.add_metric([name], queue.oldest_age or 0.0)
        yield depth_by_queue
        yield oldest
