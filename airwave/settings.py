"""Settings, all from the environment (see the README's configuration table).

With nothing set the service runs embedded: SQLite and media under ``var/``,
the in-memory channel layer, and an in-process worker instead of Celery.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from botocore.config import Config as BotoConfig
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("AIRWAVE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in ("1", "true", "yes", "on")


def embedded_secret_key() -> str:
    """Embedded mode (nothing configured): a random key made once and kept under var/."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(50))
    return path.read_text().strip()


SERVERS_CONFIGURED = any(os.environ.get(name) for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"))
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if SERVERS_CONFIGURED:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With a database or broker configured the service needs its own "
            'secret key: set DJANGO_SECRET_KEY to a long random value (e.g. `python -c "import secrets; '
            'print(secrets.token_urlsafe(50))"`), the same on every host.'
        )
    SECRET_KEY = embedded_secret_key()
DEBUG = env_bool("DJANGO_DEBUG", False)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# DJANGO_SECURE=1 behind TLS: secure cookies, HSTS, redirect to https, and trust the proxy's
# X-Forwarded-Proto (set it only where a proxy you run sets that header). Probes stay on http.
SECURE = env_bool("DJANGO_SECURE", False)
if SECURE:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here, not a CDN
    "axes",
    "channels",
    "tenancy.apps.TenancyConfig",
    "assets.apps.AssetsConfig",
    "image_to_video.apps.ImageToVideoConfig",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]
# Logins: django-axes locks (username, address) pairs, and addresses, after AXES_FAILURE_LIMIT failures. Never a
# username alone: anyone could lock a victim out by failing against their name. The address is the socket's
# unless DJANGO_PROXY_COUNT names proxies in front (then the matching X-Forwarded-For entry): a forged header
# from a client changes nothing.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "10"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))  # hours
AXES_RESET_ON_SUCCESS = True
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("DJANGO_PROXY_COUNT", "0"))
if not AXES_IPWARE_PROXY_COUNT:
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)

ROOT_URLCONF = "airwave.urls"
WSGI_APPLICATION = "airwave.wsgi.application"
ASGI_APPLICATION = "airwave.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "airwave" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'airwave.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "0")),
        conn_health_checks=True,  # a connection PostgreSQL dropped is replaced, not used
    )
}
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "8"))
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The in-process worker writes from another thread: wait for the lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
elif DATABASE_POOL_MAX_SIZE > 0:
    # psycopg's pool: ASGI runs each request in its own thread, and persistent connections
    # would pile up one per thread; the pool bounds them, and (CONN_HEALTH_CHECKS) checks each it hands out.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_MAX_SIZE,
        "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
# The image collects static files into /app/static at build time (STATIC_ROOT), never into the volume.
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT") or VAR_DIR / "static")
try:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from here once collectstatic has run
except OSError:
    pass  # read-only or not ours: whatever was collected is served
MEDIA_URL = "/media/"  # this project serves no public media; the apps' files are private (FILES_ROOT)
MEDIA_ROOT = VAR_DIR / "public-media"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# --- storage: the apps' files (jobs' sources, videos, posters) in S3 through django-storages when a bucket
# is named, else in private local files under var/media (never served as public media)
AWS_STORAGE_BUCKET_NAME = os.environ.get("AWS_STORAGE_BUCKET_NAME") or None
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
if AWS_STORAGE_BUCKET_NAME:
    STORAGES["image_to_video"] = {
        "BACKEND": "assets.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": os.environ.get("AWS_S3_ENDPOINT_URL") or None,
            "access_key": os.environ.get("AWS_ACCESS_KEY_ID") or None,
            "secret_key": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
            "region_name": os.environ.get("AWS_S3_REGION_NAME") or None,
            "querystring_auth": True,
            "querystring_expire": int(os.environ.get("AWS_QUERYSTRING_EXPIRE", "600")),
            "file_overwrite": True,
            "default_acl": None,
            # Fail fast when S3 is down: the asset is created later by reconcile_assets.
            "client_config": BotoConfig(
                signature_version="s3v4",
                # "path" when a proxy routes the bucket's path to the store (compose's ingress)
                s3={"addressing_style": os.environ.get("AWS_S3_ADDRESSING_STYLE") or "auto"},
                connect_timeout=3,
                read_timeout=30,
                retries={"max_attempts": 2, "mode": "standard"},
            ),
        },
    }
# Serve collected (and compressed) files when collectstatic has run; straight from the apps otherwise.
WHITENOISE_USE_FINDERS = not (STATIC_ROOT.is_dir() and any(STATIC_ROOT.iterdir()))
WHITENOISE_AUTOREFRESH = DEBUG

# --- Redis: channel layer, Celery broker, and the cache (throttling) shared by every host
REDIS_URL = os.environ.get("REDIS_URL") or None
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CHANNEL_LAYER_PREFIX", "airwave"),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
        }
    }
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # Bounded waits: a Redis outage costs a lost notification, never a hung request.
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1, "socket_timeout": 2}],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "airwave"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep the LOGGING format: the job id on every line about a job
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_QUEUE", "airwave")
# Publishing gives up within a few seconds when the broker is down (the job row is the outbox).
CELERY_BROKER_CONNECTION_TIMEOUT = 1.5
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 2, "socket_timeout": 5}
# A worker started without -Q takes every queue: the apps' two and the default (docs/DEPLOY.md sizes each).
RENDER_QUEUE = os.environ.get("CELERY_RENDER_QUEUE", "image_to_video.render")
IO_QUEUE = os.environ.get("CELERY_IO_QUEUE", "image_to_video.io")
CELERY_TASK_QUEUES = [Queue(name) for name in (CELERY_TASK_DEFAULT_QUEUE, RENDER_QUEUE, IO_QUEUE)]
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")  # the apps add their sweeps to beat


# --- the apps: every name has a default (docs/INSTALL.md); the README's environment variables map here
def env_float(name: str) -> dict[str, float]:
    return {name: float(os.environ[name])} if os.environ.get(name) else {}


def env_int(name: str) -> dict[str, int]:
    return {name: int(os.environ[name])} if os.environ.get(name) else {}


IMAGE_TO_VIDEO: dict[str, Any] = {
    "PROVIDER": os.environ.get("IMAGE_TO_VIDEO_PROVIDER", "local"),
    "RUNWAY_API_KEY": os.environ.get("RUNWAY_API_KEY") or None,
    "RUNWAY_API_URL": os.environ.get("RUNWAY_API_URL") or "https://api.dev.runwayml.com",
    "RUNWAY_MODEL": os.environ.get("RUNWAY_MODEL", "gen4.5"),
    "RUNWAY_FALLBACK": os.environ.get("RUNWAY_FALLBACK", ""),
    "RUNWAY_WEBHOOK_SECRET": os.environ.get("RUNWAY_WEBHOOK_SECRET") or None,
    "MAX_ACTIVE_JOBS_PER_CLIENT": int(os.environ.get("MAX_ACTIVE_JOBS_PER_CLIENT", "20")),
    "GENERATE_RATE": os.environ.get("GENERATE_RATE", "60/minute"),
    "OUTBOUND_WEBHOOK_ALLOW_PRIVATE": env_bool("OUTBOUND_WEBHOOK_ALLOW_PRIVATE", False),
    "UPLOAD_DIR": Path(os.environ.get("UPLOAD_DIR") or VAR_DIR / "uploads"),
    "FILES_ROOT": VAR_DIR / "media",
    "RENDER_QUEUE": RENDER_QUEUE,
    "IO_QUEUE": IO_QUEUE,
    **env_float("RENDER_GRACE_SECONDS"),
    **env_float("OUTBOUND_WEBHOOK_DEADLINE"),
    **env_int("PREFER_WAIT_PER_USER"),
    "WORKER": "celery" if os.environ.get("CELERY_BROKER_URL") or os.environ.get("REDIS_URL") else "in-process",
    "PUBLIC_S3_ENDPOINT_URL": os.environ.get("AWS_S3_PUBLIC_ENDPOINT_URL") or None,
    "URL_EXPIRE_SECONDS": int(os.environ.get("AWS_QUERYSTRING_EXPIRE", "600")),
    **env_float("RECOVER_EVERY"),
    **env_float("JOB_LEASE_SECONDS"),
    **env_float("SCRATCH_STALE_PARTIAL_SECONDS"),
    **env_float("PROGRESS_SAVE_INTERVAL"),
    **env_float("PROGRESS_WRITE_INTERVAL"),
    **env_float("CANCEL_CHECK_INTERVAL"),
    **env_float("OUTBOUND_WEBHOOK_FIRST_RETRY"),
    **env_float("SOURCE_RETENTION_DAYS"),
    **env_float("WS_ACCESS_RECHECK_SECONDS"),
    **env_float("TOKEN_MAX_AGE_DAYS"),
    **env_float("RUNWAY_DOWNLOAD_DEADLINE"),
    **env_float("RUNWAY_POLL_DEADLINE"),
}
if os.environ.get("RUNWAY_POLL_INTERVALS"):
    IMAGE_TO_VIDEO["RUNWAY_POLL_INTERVALS"] = tuple(float(v) for v in os.environ["RUNWAY_POLL_INTERVALS"].split(","))
if os.environ.get("RUNWAY_OUTPUT_URL_PREFIXES"):
    IMAGE_TO_VIDEO["RUNWAY_OUTPUT_URL_PREFIXES"] = tuple(env_list("RUNWAY_OUTPUT_URL_PREFIXES"))
for _name in ("VALIDATE_DECODE_PIXELS", "IMAGE_DECODES_AT_ONCE", "DECODE_MEMORY_BUDGET", "BODY_MIN_RATE"):
    if os.environ.get(_name):
        IMAGE_TO_VIDEO[_name] = int(os.environ[_name])
if os.environ.get("BODY_IDLE_TIMEOUT"):
    IMAGE_TO_VIDEO["BODY_IDLE_TIMEOUT"] = float(os.environ["BODY_IDLE_TIMEOUT"])
# The project's own checks.
READYZ_CACHE_SECONDS = float(os.environ.get("READYZ_CACHE_SECONDS", "3"))
READYZ_WRITE_PROBE = env_bool("READYZ_WRITE_PROBE", False)  # else only staff get the storage write probe
# A 10 MB image is ~13.4 MB as base64 in JSON.
DATA_UPLOAD_MAX_MEMORY_SIZE = 15 * 1024 * 1024
# Bodies arriving (and uploaded files) past Django's default 2.5 MB are spooled to disk, not held in memory:
# a hundred slow uploads cost a web process disk, not RAM, until BODY_IDLE_TIMEOUT ends them.
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# The project's own API defaults (the health views); the apps declare their own policies.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "assets.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AIrWAVE Image-to-Video",
    "DESCRIPTION": "Turn a still image into a video with camera motion; every video is filed as an asset.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PREPROCESSING_HOOKS": ["image_to_video.schema.drop_optional_slash"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "job_id": {"()": "image_to_video.logs.JobIdFilter"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s job=%(job_id)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["job_id"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "botocore": {"level": "WARNING"},
        # uvicorn's access log (the apps take the query strings out: tokens and tickets never reach a log)
        "uvicorn.access": {"handlers": ["console"], "propagate": False, "level": "INFO"},
    },
}
