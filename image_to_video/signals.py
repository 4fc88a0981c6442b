"""Signals only dispatch: a job that has just completed queues its filing task on commit."""

from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from . import dispatch, tasks
from .models import Job, JobStatus


@receiver(post_save, sender=Job, dispatch_uid="image_to_video.job_completed_store_asset")
def job_completed_store_asset(
    sender: type[Job], instance: Job, created: bool, update_fields: Any = None, **kwargs: Any
) -> None:
    just_completed = instance.status == JobStatus.COMPLETED and (update_fields is None or "status" in update_fields)
    if just_completed:
        job_id = str(instance.pk)
        transaction.on_commit(lambda: dispatch.send(tasks.store_asset, job_id))
