"""The apps' settings: one typed config with a default for every name, read from ``settings.IMAGE_TO_VIDEO``.

A host project sets nothing to run the apps, and overrides what it likes in one
dict (``IMAGE_TO_VIDEO = {"MAX_ACTIVE_JOBS_PER_CLIENT": 50}``), as django-anymail
and allauth do. Every app module reads its settings through :func:`get_config`;
none reads a bare ``settings.X`` of its own. The config is built once and built
again when a test changes ``IMAGE_TO_VIDEO`` (Django's ``setting_changed``).

The asset library and tenancy read their few names from the same dict through
their own ``conf`` modules (they import nothing of this app).
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING = "IMAGE_TO_VIDEO"
RUNWAY_OUTPUT_HOSTS = ("https://dnznrvs05pmza.cloudfront.net/",)


@dataclass(frozen=True)
class Config:
    # Providers
    PROVIDER: str = "local"  # the default provider of a job that names none: local | runway
    RUNWAY_API_KEY: str | None = None
    RUNWAY_API_URL: str = "https://api.dev.runwayml.com"
    RUNWAY_MODEL: str = "gen4.5"
    RUNWAY_FALLBACK: str = ""  # "local": a Runway job failing for a reason not the user's renders locally
    RUNWAY_WEBHOOK_SECRET: str | None = None  # whsec_…; unset: the inbound webhook answers 503
    RUNWAY_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # connect, read (seconds) on every call
    RUNWAY_MAX_RETRIES: int = 2  # as Runway's SDKs: connection errors, 408, 429, 5xx
    RUNWAY_BACKOFF: float = 0.5  # seconds, doubled each retry, with jitter
    # Polling a task: every 2 s for the first 5 polls, then 5 s up to 20 polls, then 10 s.
    RUNWAY_POLL_INTERVALS: tuple[float, float, float] = (2.0, 5.0, 10.0)
    RUNWAY_POLL_DEADLINE: float = 20 * 60.0
    RUNWAY_OUTPUT_URL_PREFIXES: tuple[str, ...] = RUNWAY_OUTPUT_HOSTS  # results are downloaded only from these
    RUNWAY_DOWNLOAD_DEADLINE: float = 300.0

    # Jobs
    MAX_ACTIVE_JOBS_PER_CLIENT: int = 20  # unfinished jobs a client may have; over it 429
    # Pixel-frames (width × height × frames) one request may ask for: four 10 s 1080p renders at 30 fps.
    REQUEST_RENDER_BUDGET: int = 4 * 1920 * 1080 * 300
    SYNC_INTERVAL: float = 1.0  # seconds between jobs.sync answers on one socket (more often: told to wait)
    GENERATE_RATE: str = "60/minute"  # generate and variants calls per user (DRF rate syntax)
    # metadata.quality flags a value past its limit (subjectInFrame: below it).
    QUALITY_LIMITS: dict = field(
        default_factory=lambda: {"jitterPx": 0.5, "borderPixels": 0, "subjectInFrame": 1.0, "flicker": 1.5}
    )
    PLAN_RATE: str = "120/minute"  # plan calls per user (each decodes the photo and looks for its subject)
    MAX_UPLOAD_BYTES: int = 10 * 1024 * 1024
    # Bodies of the apps' routes are refused with 413 past these (checked on Content-Length by the views,
    # and on the bytes received by image_to_video.asgi.http_application where a host mounts it).
    GENERATE_BODY_LIMIT: int = 16 * 1024 * 1024  # a 10 MB image as base64 JSON, or multipart
    WEBHOOK_BODY_LIMIT: int = 64 * 1024
    OTHER_BODY_LIMIT: int = 256 * 1024
    # A body that stops for this long, or averages under BODY_MIN_RATE bytes/s (after that grace), gets 408.
    BODY_IDLE_TIMEOUT: float = 15.0
    BODY_MIN_RATE: int = 32 * 1024
    # Validating an upload decodes it fully only up to this many pixels (JPEGs always, at 1/8 scale),
    # at most IMAGE_DECODES_AT_ONCE at a time per process; larger PNG/WebP are decoded by the worker.
    VALIDATE_DECODE_PIXELS: int = 12_000_000
    IMAGE_DECODES_AT_ONCE: int = 2
    # Bytes of image decoding one process holds at once, requests and render threads together (a 36 MP
    # progressive JPEG costs ~220 MB); a decode waits until its cost fits.
    DECODE_MEMORY_BUDGET: int = 320 * 1024 * 1024
    PREFER_WAIT_PER_USER: int = 4  # ``Prefer: wait`` requests a user may have waiting at once (per web process)
    SOURCE_RETENTION_DAYS: float = 7.0  # then the periodic sweep deletes job sources

    # Workers
    WORKER: str = "auto"  # auto (Celery when the Celery app has a broker) | celery | in-process
    # Celery queues: renders (CPU-bound, one worker process per core) and io (filing, Runway, webhooks, sweeps).
    # None: QUEUE, else the Celery app's default queue, so a host's existing worker runs everything.
    RENDER_QUEUE: str | None = None
    IO_QUEUE: str | None = None
    QUEUE: str | None = None  # both kinds' queue where RENDER_QUEUE / IO_QUEUE are unset
    RENDER_GRACE_SECONDS: float = 20.0  # on SIGTERM a render may finish within this; else its job is handed back
    TASK_SOFT_TIME_LIMIT: float | None = None  # seconds; None: the Celery app's own
    TASK_TIME_LIMIT: float | None = 3600.0  # seconds a task may run before its worker process is replaced
    PERIODIC_TASKS: bool = True  # register the sweeps with the Celery app's beat (any scheduler)
    RECOVER_EVERY: float = 15.0  # seconds between recovery sweeps
    JOB_LEASE_SECONDS: float = 30.0  # a silent worker's job is taken after this
    PROGRESS_SAVE_INTERVAL: float = 0.25  # seconds between live progress events of a render (channel layer)
    PROGRESS_WRITE_INTERVAL: float = 3.0  # seconds between writes of a render's progress and lease to its row
    CANCEL_CHECK_INTERVAL: float = 1.0  # seconds between a render's reads of whether it was canceled
    UPLOAD_DIR: Path = field(default_factory=lambda: Path(tempfile.gettempdir()) / "image_to_video")
    SCRATCH_STALE_PARTIAL_SECONDS: float = 60.0  # an older .partial render is a killed render's

    # Outbound webhooks
    OUTBOUND_WEBHOOK_ALLOW_PRIVATE: bool = False  # private/loopback targets (tests, closed networks only)
    OUTBOUND_WEBHOOK_FIRST_RETRY: float = 5.0  # seconds, doubling
    OUTBOUND_WEBHOOK_DEADLINE: float = 15.0  # seconds for a whole attempt: connect, send, read the reply
    OUTBOUND_WEBHOOK_REPLY_LIMIT: int = 64 * 1024  # bytes of a reply read; the rest is dropped unread
    OUTBOUND_WEBHOOKS_IN_FLIGHT_PER_CLIENT: int = 4  # a client's further deliveries wait without a worker

    # WebSockets and the page
    WS_ACCESS_RECHECK_SECONDS: float = 2.0
    # The page's log-out: a URL name or path to POST to; None: the host's "logout" or allauth's
    # "account_logout" URL name, whichever exists (no button when neither does).
    LOGOUT_URL: str | None = None

    @classmethod
    def names(cls) -> frozenset[str]:
        return frozenset(f.name for f in dataclasses.fields(cls))


# Names the asset library and tenancy read from the same dict (see their conf modules).
OTHER_APPS_NAMES = frozenset(
    {"URL_EXPIRE_SECONDS", "FILES_ROOT", "PUBLIC_S3_ENDPOINT_URL", "PAGE_SIZE", "TOKEN_MAX_AGE_DAYS"}
)


def _coerce(name: str, value: Any) -> Any:
    if name == "UPLOAD_DIR":
        return Path(value)
    if name in ("RUNWAY_TIMEOUT", "RUNWAY_POLL_INTERVALS", "RUNWAY_OUTPUT_URL_PREFIXES"):
        return tuple(value)
    return value


@functools.cache
def get_config() -> Config:
    """The apps' settings: ``settings.IMAGE_TO_VIDEO`` over the defaults (unknown names are left to the checks)."""
    given = getattr(settings, SETTING, None) or {}
    known = Config.names()
    return Config(**{name: _coerce(name, value) for name, value in given.items() if name in known})


@receiver(setting_changed)
def _rebuild(*, setting: str, **_: Any) -> None:
    if setting == SETTING:
        get_config.cache_clear()
