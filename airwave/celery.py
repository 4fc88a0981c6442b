"""The Celery app: ``celery -A airwave worker`` with the same environment as the web."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airwave.settings")

app = Celery("airwave")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
