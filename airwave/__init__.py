"""The AIrWAVE project: settings, URLs, ASGI, Celery, and the platform's tenancy."""

from .celery import app as celery_app

__all__ = ["celery_app"]
