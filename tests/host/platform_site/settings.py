"""A platform unlike the standalone project: an e-mail-only user, ATOMIC_REQUESTS, DRF defaults of its
own (no pagination, admins only, session only), its own Celery app and queue, its own ASGI router, the
apps under prefixes of its own, and public media of its own. The lines marked ADOPT are all it adds
for the apps (CONTRACT.md, "Adopting the apps")."""

import importlib.util
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = os.environ.get("HOST_SECRET_KEY", "host-project-test-key-not-secret-0123456789abcdefghij")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "accounts",
    "things",
]
INSTALLED_APPS += ["channels", "django_filters", "tenancy", "assets", "image_to_video"]  # ADOPT
# The check script drops one app to see the system checks name it.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != os.environ.get("HOST_DROP_APP")]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "platform_site.urls"
ASGI_APPLICATION = "platform_site.asgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ["HOST_DB_NAME"],
        "USER": os.environ.get("HOST_DB_USER", "postgres"),
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "ATOMIC_REQUESTS": True,
    }
}
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
USE_TZ = True
TIME_ZONE = "Europe/Berlin"
STATIC_URL = "/assets-static/"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "public-media"  # served to anyone by the platform's urls
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
AWS_QUERYSTRING_AUTH = False  # the platform's own public bucket policy: never the apps'
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

REDIS_URL = os.environ["HOST_REDIS_URL"]
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("HOST_QUEUE", "platform")
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
CHANNEL_LAYERS = {  # ADOPT (the platform's own layer)
    "default": {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {"hosts": [REDIS_URL], "prefix": os.environ.get("HOST_QUEUE", "platform")},
    }
}

# The platform's API policy: admins only, sessions only, no pagination, no filters, its own rates.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_PAGINATION_CLASS": None,
    "DEFAULT_FILTER_BACKENDS": [],
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"anon": "1000/day"},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}

# cookiecutter-django's beat: the database scheduler of django-celery-beat, where installed.
if importlib.util.find_spec("django_celery_beat"):
    INSTALLED_APPS.append("django_celery_beat")
    CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# Optional: the apps' settings, in one dict (only to make the sweeps quick enough to watch here).
IMAGE_TO_VIDEO = {"RECOVER_EVERY": 1.0, "UPLOAD_DIR": os.environ.get("HOST_SCRATCH", "/tmp/host-scratch")}

# The platform's own logging: a request's error goes to the web log with its traceback (DEBUG is off).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django.request": {"handlers": ["console"], "level": "ERROR"}},
}
