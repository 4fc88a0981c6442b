"""The AIrWAVE project: configuration only (settings, URLs, ASGI, WSGI, Celery, health checks)."""

from .celery import app as celery_app

__all__ = ["celery_app"]
