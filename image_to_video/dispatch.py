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
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

from django.conf import settings
from django.db import close_old_connections, connections

log = logging.getLogger(__name__)
IN_PROCESS_WORKERS = 2
RECONCILE_EVERY = 300.0

_local = threading.local()
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_reconciler: threading.Thread | None = None


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
        timer = threading.Timer(countdown, lambda: _pool().submit(_run_in_thread, task, args))
        timer.daemon = True
        timer.start()
    else:
        _pool().submit(_run_in_thread, task, args)


def _run_in_thread(task, args) -> None:
    close_old_connections()
    try:
        task(*args)
    except Exception:
        log.exception("in-process task %s%r failed", task.name, args)
    finally:
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


def _reconcile_forever() -> None:
    """The in-process stand-in for Celery beat's periodic reconcile_assets."""
    from . import tasks

    stop = threading.Event()
    while not stop.wait(RECONCILE_EVERY):
        _run_in_thread(tasks.reconcile_assets, ())


def wait_idle(timeout: float = 60.0) -> None:
    """Block until queued in-process work has run (tests and the demo use this)."""
    deadline = time.monotonic() + timeout
    while _executor is not None and _executor._work_queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.05)
