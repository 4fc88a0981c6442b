"""Where queued work runs: Celery when a broker is configured, else this process.

``enqueue(task, *args)`` is the one way work leaves a request. With a broker
(``REDIS_URL`` / ``CELERY_BROKER_URL``) it is a Celery message for any worker on
any host; without one, a small thread pool in this process runs the same task
function, so ``make demo`` and ``make serve`` need no server. ``inline()`` runs
queued work at once in the calling thread (the ``generate_video`` command).

Publishing gives up quickly when the broker is down (within about 4.5 seconds) and
raises; callers whose work is recorded in the database (every job is) leave it
to the recovery sweep. This module imports no app module: what the periodic
timer runs is handed to it (:func:`set_periodic`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from celery import current_app
from django.db import close_old_connections, connections

from .conf import get_config

log = logging.getLogger(__name__)
IN_PROCESS_WORKERS = 2
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}

_local = threading.local()
_lock = threading.Lock()
_waiting: Counter[str] = Counter()  # in-process: task name -> submitted, not yet started
_executor: ThreadPoolExecutor | None = None
_timer: threading.Thread | None = None
_periodic: Callable[[], None] | None = None


def uses_celery() -> bool:
    """Celery when the config says so, or (``WORKER = "auto"``) when the Celery app has a broker configured."""
    mode = get_config().WORKER
    if mode == "auto":
        return bool(current_app.conf.broker_url)
    return mode == "celery"


def queue_name() -> str:
    """The queue the apps' tasks go to: the config's, else the Celery app's default queue."""
    return get_config().QUEUE or str(current_app.conf.task_default_queue)


def _task_options() -> dict[str, Any]:
    config = get_config()
    options: dict[str, Any] = {"queue": queue_name()}
    if config.TASK_TIME_LIMIT:
        options["time_limit"] = config.TASK_TIME_LIMIT
    if config.TASK_SOFT_TIME_LIMIT:
        options["soft_time_limit"] = config.TASK_SOFT_TIME_LIMIT
    return options


def is_inline() -> bool:
    return bool(getattr(_local, "inline", False))


@contextmanager
def inline(progress: Callable[[float], None] | None = None) -> Iterator[None]:
    """Run queued work now, in this thread; ``progress`` hears the render's fraction done."""
    previous = getattr(_local, "inline", False), getattr(_local, "progress", None)
    _local.inline, _local.progress = True, progress
    try:
        yield
    finally:
        _local.inline, _local.progress = previous


def progress_hook() -> Callable[[float], None] | None:
    """The progress listener of the surrounding ``inline()`` block, if any."""
    return getattr(_local, "progress", None)


def _name(task: Any) -> str:
    return str(getattr(task, "name", getattr(task, "__name__", task)))


def enqueue(task: Any, *args: Any, countdown: float | None = None) -> None:
    """Run ``task(*args)`` on a worker, after ``countdown`` seconds if given."""
    if is_inline():
        if countdown:
            time.sleep(countdown)
        task(*args)
    elif uses_celery():
        task.apply_async(args=args, countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY, **_task_options())
    else:
        name = _name(task)
        with _lock:
            _waiting[name] += 1
        if countdown:
            timer = threading.Timer(countdown, lambda: _pool().submit(_run_in_thread, task, args, name))
            timer.daemon = True
            timer.start()
        else:
            _pool().submit(_run_in_thread, task, args, name)


def pending(task: Any) -> int:
    """How many runs of ``task`` wait to start (Celery: every message waiting in the queue)."""
    if uses_celery():
        try:
            with current_app.connection_for_read() as conn:
                _, count, _ = conn.default_channel.queue_declare(queue=queue_name(), passive=True)
                return int(count)
        except Exception:  # no such queue yet, or the broker is down: assume nothing waits
            return 0
    with _lock:
        return _waiting[_name(task)]


def _run_in_thread(task: Any, args: tuple[Any, ...], name: str) -> None:
    with _lock:
        _waiting[name] -= 1
    close_old_connections()
    try:
        task(*args)
    except Exception:
        log.exception("in-process task %s%r failed", name, args)
    finally:
        connections.close_all()


def _pool() -> ThreadPoolExecutor:
    global _executor, _timer
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(IN_PROCESS_WORKERS, thread_name_prefix="airwave-worker")
        if _timer is None:
            _timer = threading.Thread(target=_periodic_forever, name="airwave-periodic", daemon=True)
            _timer.start()
    return _executor


def start_in_process_worker() -> None:
    """Start the worker threads now (the ASGI app calls this when there is no broker)."""
    if not uses_celery():
        _pool()


def set_periodic(work: Callable[[], None]) -> None:
    """What the in-process worker runs soon after start and then every PERIODIC_SECONDS (the app's sweep)."""
    global _periodic
    _periodic = work


def _periodic_forever() -> None:
    """The in-process stand-in for Celery beat."""
    stop = threading.Event()
    while not stop.wait(get_config().RECOVER_EVERY):
        if _periodic is not None and not uses_celery():  # with a broker, beat does this
            with _lock:
                _waiting["periodic"] += 1
            _run_in_thread(_periodic, (), "periodic")


def wait_idle(timeout: float = 60.0) -> None:
    """Block until queued in-process work has run (tests and the demo use this)."""
    deadline = time.monotonic() + timeout
    while _executor is not None and _executor._work_queue.qsize() and time.monotonic() < deadline:
        time.sleep(0.05)
