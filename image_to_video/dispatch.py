"""Where queued work runs: Celery when a broker is configured, else this process.

``enqueue(task, *args)`` is the one way work leaves a request. With a broker
(``REDIS_URL`` / ``CELERY_BROKER_URL``) it is a Celery message for any worker;
without one, a small thread pool in this process runs the same task function,
so ``make demo`` and ``make serve`` need no server. ``inline()`` runs queued
work at once in the calling thread (the ``generate_video`` command).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)
IN_PROCESS_WORKERS = 2
RECONCILE_EVERY = 300.0

_local = threading.local()
_lock = threading.Lock()
_inflight: dict[str, int] = {}  # job id -> queued or running in-process tasks for it
_executor: ThreadPoolExecutor | None = None
_reconciler: threading.Thread | None = None
_periodic: Callable[[], None] | None = None


def uses_celery() -> bool:
    return bool(settings.CELERY_BROKER_URL)


@contextmanager
def inline(progress=None):
    """Run queued work now, in this thread; ``progress`` hears the render's fraction done."""
    previous = getattr(_local, "inline", False), getattr(_local, "progress", None)
    _local.inline, _local.progress = True, progress
    try:
        yield
    finally:
        _local.inline, _local.progress = previous


def progress_hook():
    """The progress listener of the surrounding ``inline()`` block, if any."""
    return getattr(_local, "progress", None)


def enqueue(task, *args, countdown: float | None = None) -> None:
    """Run ``task(*args)`` on a worker, after ``countdown`` seconds if given."""
    if getattr(_local, "inline", False):
        if countdown:
            time.sleep(countdown)
        task(*args)
    elif uses_celery():
        task.apply_async(args=args, countdown=countdown)
    elif countdown:
        _hold(args)
        timer = threading.Timer(countdown, lambda: _pool().submit(_run_in_thread, task, args, True))
        timer.daemon = True
        timer.start()
    else:
        _hold(args)
        _pool().submit(_run_in_thread, task, args, True)


def _hold(args) -> None:
    if args:
        with _lock:
            _inflight[str(args[0])] = _inflight.get(str(args[0]), 0) + 1


def _release(args) -> None:
    if args:
        with _lock:
            key = str(args[0])
            _inflight[key] = _inflight.get(key, 1) - 1
            if _inflight[key] <= 0:
                del _inflight[key]


def held_job_ids() -> set[str]:
    """Ids this process's in-process worker has queued, scheduled or running."""
    with _lock:
        return set(_inflight)


def _run_in_thread(task, args, held: bool = False) -> None:
    close_old_connections()
    try:
        task(*args)
    except Exception:
        log.exception("in-process task %s%r failed", getattr(task, "name", getattr(task, "__name__", task)), args)
    finally:
        if held:
            _release(args)
        connections.close_all()


def _pool() -> ThreadPoolExecutor:
    global _executor, _reconciler
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(IN_PROCESS_WORKERS, thread_name_prefix="airwave-worker")
        if _reconciler is None:
            _reconciler = threading.Thread(target=_reconcile_forever, name="airwave-reconcile", daemon=True)
            _reconciler.start()
    return _executor


def start_in_process_worker() -> None:
    """Start the worker threads now (the ASGI app calls this when there is no broker)."""
    if not uses_celery():
        _pool()


def set_periodic(work: Callable[[], None]) -> None:
    """What the in-process worker runs soon after start and then every few minutes (the app's sweep)."""
    global _periodic
    _periodic = work


def _reconcile_forever() -> None:
    """The in-process stand-in for Celery beat: soon after start, then every RECONCILE_EVERY seconds."""
    stop = threading.Event()
    delay = 5.0
    while not stop.wait(delay):
        delay = RECONCILE_EVERY
        if _periodic is not None:
            _run_in_thread(_periodic, ())


def wait_idle(timeout: float = 60.0) -> None:
    """Block until queued in-process work has run (tests and the demo use this)."""
    deadline = time.monotonic() + timeout
    while _executor is not None and _executor._work_queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.05)
