"""Where queued work runs: two queues, one interface, Celery or this process behind it.

Work is of two kinds. **Render** turns are CPU-bound, one per core
(``RENDER_QUEUE``, ``image_to_video.render`` in the standalone project); **io**
is everything else, short and mostly waiting on the network (``IO_QUEUE``:
filing with probe and poster, Runway's create/poll/download, outbound webhooks,
the periodic sweeps). Kept apart, a backlog of renders never holds up filing a
finished video, a poll or a webhook. A task says its kind (``queue_kind``, set
in :mod:`.tasks`); io is the default.

The interface is :func:`send`, :func:`send_later` and :func:`pending` (plus
:func:`queue_stats` for ``/metrics``). With a broker (``WORKER = "celery"``, or
``"auto"`` with the Celery app's broker set) each is a Celery message for any
worker on any host; without one, two thread pools in this process run the same
task functions (:class:`InProcessQueues`), so ``make demo`` and ``make serve``
need no server. ``inline()`` runs queued work at once in the calling thread
(the ``generate_video`` command).

Publishing gives up quickly when the broker is down (within about 4.5 seconds)
and raises; callers whose work is recorded in the database (every job is) leave
it to the recovery sweep. This module imports no app module: the periodic
schedule is handed to it (:func:`set_schedule`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from celery import current_app
from django.db import close_old_connections, connections

from .conf import get_config

log = logging.getLogger(__name__)
Kind = Literal["render", "io"]
KINDS: tuple[Kind, ...] = ("render", "io")
IN_PROCESS_THREADS: dict[Kind, int] = {"render": 2, "io": 4}
PUBLISH_RETRY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 0.5}
SENT_AT_HEADER = "image_to_video_sent_at"  # epoch seconds, read back by queue_stats for the oldest message's age

_local = threading.local()


@dataclass(frozen=True)
class QueueStats:
    depth: int
    oldest_age: float | None  # seconds; None when empty or unknown (a broker that cannot tell)


@dataclass(frozen=True)
class Periodic:
    """One entry of the periodic schedule: what runs, and every how many seconds."""

    name: str
    task: Any
    every: Callable[[], float]


# --- which queue ---------------------------------------------------------------------------------


def kind_of(task: Any) -> Kind:
    return "render" if getattr(task, "queue_kind", "io") == "render" else "io"


def queue_name(kind: Kind = "io") -> str:
    """The queue of a kind of work: the config's name for it, else ``QUEUE``, else the Celery app's default."""
    config = get_config()
    named = config.RENDER_QUEUE if kind == "render" else config.IO_QUEUE
    return named or config.QUEUE or str(current_app.conf.task_default_queue)


def uses_celery() -> bool:
    """Celery when the config says so, or (``WORKER = "auto"``) when the Celery app has a broker configured."""
    mode = get_config().WORKER
    if mode == "auto":
        return bool(current_app.conf.broker_url)
    return mode == "celery"


# --- running now, in this thread ------------------------------------------------------------------


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


# --- the interface --------------------------------------------------------------------------------


def send(task: Any, *args: Any) -> None:
    """Run ``task(*args)`` on a worker of the task's kind."""
    _send(task, args, None)


def send_later(task: Any, delay: float, *args: Any) -> None:
    """Run ``task(*args)`` on a worker of the task's kind, ``delay`` seconds from now."""
    _send(task, args, max(0.0, delay))


def pending(task: Any) -> int:
    """How many messages wait in ``task``'s queue (in-process: runs of ``task`` not yet started)."""
    if uses_celery():
        return CeleryQueues.pending(task)
    return _in_process().pending(task)


def queue_stats() -> dict[str, QueueStats]:
    """Per queue name: how many messages wait and how old the oldest is (``/metrics``, autoscalers)."""
    if uses_celery():
        return CeleryQueues.stats()
    return _in_process().stats()


def _send(task: Any, args: tuple[Any, ...], delay: float | None) -> None:
    if is_inline():
        if delay:
            time.sleep(delay)
        task(*args)
    elif uses_celery():
        CeleryQueues.send(task, args, delay)
    else:
        _in_process().send(task, args, delay)


def _name(task: Any) -> str:
    return str(getattr(task, "name", getattr(task, "__name__", task)))


class CeleryQueues:
    """The apps' two queues on the Celery app's broker."""

    @staticmethod
    def send(task: Any, args: tuple[Any, ...], delay: float | None) -> None:
        config = get_config()
        options: dict[str, Any] = {"queue": queue_name(kind_of(task))}
        if config.TASK_TIME_LIMIT:
            options["time_limit"] = config.TASK_TIME_LIMIT
        if config.TASK_SOFT_TIME_LIMIT:
            options["soft_time_limit"] = config.TASK_SOFT_TIME_LIMIT
        task.apply_async(
            args=args,
            countdown=delay,
            retry=True,
            retry_policy=PUBLISH_RETRY,
            headers={SENT_AT_HEADER: time.time() + (delay or 0.0)},
            **options,
        )

    @staticmethod
    def pending(task: Any) -> int:
        try:
            with current_app.connection_for_read() as conn:
                _, count, _ = conn.default_channel.queue_declare(queue=queue_name(kind_of(task)), passive=True)
                return int(count)
        except Exception:  # no such queue yet, or the broker is down: assume nothing waits
            return 0

    @staticmethod
    def stats() -> dict[str, QueueStats]:
        """Depth from the broker (any transport); the oldest message's age where the broker keeps a list (Redis)."""
        found: dict[str, QueueStats] = {}
        try:
            with current_app.connection_for_read() as conn:
                channel = conn.default_channel
                for name in dict.fromkeys(queue_name(kind) for kind in KINDS):
                    try:
                        _, depth, _ = channel.queue_declare(queue=name, passive=True)
                    except Exception:  # not declared yet: nothing was ever sent to it
                        found[name] = QueueStats(0, None)
                        continue
                    found[name] = QueueStats(int(depth), _oldest_age_on_redis(channel, name) if depth else None)
        except Exception:
            log.warning("queue stats unavailable: the broker did not answer", exc_info=True)
        return found


def _oldest_age_on_redis(channel: Any, queue: str) -> float | None:
    """Kombu's Redis transport pushes on the left and pops on the right: the oldest message is at index -1."""
    client = getattr(channel, "client", None)
    if client is None or not hasattr(client, "lindex"):
        return None
    try:
        raw = client.lindex(queue, -1)
        sent_at = json.loads(raw)["headers"].get(SENT_AT_HEADER) if raw else None
    except Exception:  # another producer's message, or not JSON: age unknown
        return None
    return max(0.0, time.time() - float(sent_at)) if sent_at else None


class InProcessQueues:
    """Two thread pools in this process (renders, io) and a timer running the periodic schedule."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools = {
            kind: ThreadPoolExecutor(IN_PROCESS_THREADS[kind], thread_name_prefix=f"airwave-{kind}") for kind in KINDS
        }
        self._waiting: dict[Kind, dict[int, tuple[str, float]]] = {kind: {} for kind in KINDS}
        self._running = 0
        self._tickets = iter(range(1 << 62))
        self._timer = threading.Thread(target=self._run_schedule, name="airwave-periodic", daemon=True)
        self._timer.start()

    def send(self, task: Any, args: tuple[Any, ...], delay: float | None) -> None:
        kind, name = kind_of(task), _name(task)
        with self._lock:
            ticket = next(self._tickets)
            self._waiting[kind][ticket] = (name, time.monotonic() + (delay or 0.0))
        if delay:
            timer = threading.Timer(delay, self._submit, (kind, ticket, task, args, name))
            timer.daemon = True
            timer.start()
        else:
            self._submit(kind, ticket, task, args, name)

    def _submit(self, kind: Kind, ticket: int, task: Any, args: tuple[Any, ...], name: str) -> None:
        self._pools[kind].submit(self._run, kind, ticket, task, args, name)

    def _run(self, kind: Kind, ticket: int | None, task: Any, args: tuple[Any, ...], name: str) -> None:
        with self._lock:
            if ticket is not None:
                self._waiting[kind].pop(ticket, None)
            self._running += 1
        close_old_connections()
        try:
            task(*args)
        except Exception:
            log.exception("in-process task %s%r failed", name, args)
        finally:
            connections.close_all()
            with self._lock:
                self._running -= 1

    def pending(self, task: Any) -> int:
        name = _name(task)
        with self._lock:
            return sum(1 for waiting, _ in self._waiting[kind_of(task)].values() if waiting == name)

    def stats(self) -> dict[str, QueueStats]:
        now = time.monotonic()
        with self._lock:
            due = {kind: [at for _, at in self._waiting[kind].values() if at <= now] for kind in KINDS}
        return {
            f"in-process.{kind}": QueueStats(len(times), now - min(times) if times else None)
            for kind, times in due.items()
        }

    def idle(self) -> bool:
        """Nothing runs and nothing due is waiting (work sent for later is not due yet)."""
        now = time.monotonic()
        with self._lock:
            due = any(at <= now for waiting in self._waiting.values() for _, at in waiting.values())
            return not due and self._running == 0

    def _run_schedule(self) -> None:
        """The in-process stand-in for Celery beat: the same schedule, each entry on the io pool when due."""
        last: dict[str, float] = {}
        while True:
            time.sleep(0.5)
            if uses_celery():  # with a broker, beat does this
                continue
            now = time.monotonic()
            for entry in _schedule:
                if now - last.setdefault(entry.name, now) >= entry.every():
                    last[entry.name] = now
                    self._pools["io"].submit(self._run, "io", None, entry.task, (), entry.name)


_queues: InProcessQueues | None = None
_queues_lock = threading.Lock()
_schedule: tuple[Periodic, ...] = ()


def _in_process() -> InProcessQueues:
    global _queues
    with _queues_lock:
        if _queues is None:
            _queues = InProcessQueues()
        return _queues


def start_in_process_worker() -> None:
    """Start the worker threads now (the ASGI app calls this when there is no broker)."""
    if not uses_celery():
        _in_process()


def set_schedule(entries: tuple[Periodic, ...]) -> None:
    """The periodic schedule (declared once, in :mod:`.tasks`): beat and the in-process timer both run it."""
    global _schedule
    _schedule = entries


def wait_idle(timeout: float = 60.0) -> None:
    """Block until the in-process worker is idle: everything due has run, including what it sent meanwhile
    (tests drain the queue with it instead of waiting a fixed time "to show nothing happened")."""
    deadline = time.monotonic() + timeout
    while _queues is not None and not _queues.idle() and time.monotonic() < deadline:
        time.sleep(0.05)
