"""The Celery app: ``celery -A airwave worker`` with the same environment as the web."""

import os
from typing import Any

from celery import Celery
from celery.signals import worker_init
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "airwave.settings")

app = Celery("airwave")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_init.connect
def _plain_database_connections(**_: Any) -> None:
    """Workers connect without psycopg's pool.

    Celery closes a worker's connection around every task, so a pool would buy
    nothing there, and its threads do not survive the fork into pool children.
    The pool is for the web, where ASGI's per-request threads would otherwise
    pile up connections.
    """
    for database in settings.DATABASES.values():
        database.get("OPTIONS", {}).pop("pool", None)
