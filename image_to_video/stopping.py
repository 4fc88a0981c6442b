"""A render worker told to stop (SIGTERM: an autoscaler scaling down, a spot instance going away).

Celery's warm shutdown stops taking messages and waits for running tasks with no
limit, while the platform's grace period runs out and SIGKILL leaves the job to
the lease sweep. Here the worker's main process marks the stop (``worker_shutting_down``)
and passes it to its pool processes (SIGUSR2, which Celery leaves alone in them);
a render then gets ``RENDER_GRACE_SECONDS`` to finish, after which it gives its
job back to the queue at once for another worker (:mod:`.services.runs`).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from typing import Any

STOP_SIGNAL = signal.SIGUSR2
_requested_at: float | None = None


def request_stop() -> None:
    """This process is stopping: renders running here have their grace from now."""
    global _requested_at
    if _requested_at is None:
        _requested_at = time.monotonic()


def overdue(grace: float) -> bool:
    """True once a stop was requested more than ``grace`` seconds ago."""
    return _requested_at is not None and time.monotonic() - _requested_at >= grace


def reset() -> None:
    """Forget a stop (tests; a pool process reused after a stop is not a thing Celery does)."""
    global _requested_at
    _requested_at = None


def listen_in_pool_process() -> None:
    """In a pool process: the stop arrives as STOP_SIGNAL from the main process."""
    signal.signal(STOP_SIGNAL, lambda *_: request_stop())


def pool_pids(worker: Any) -> list[int]:
    """The worker's pool processes (prefork); none for pools that run tasks in the main process."""
    try:
        return [int(pid) for pid in worker.pool.info.get("processes", [])]
    except Exception:
        return []


def tell_pool_processes(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, STOP_SIGNAL)
        except (ProcessLookupError, PermissionError):
            pass
