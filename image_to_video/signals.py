"""Signals only dispatch: a job that has just completed queues its asset task on commit."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import Job, JobStatus


@receiver(post_save, sender=Job, dispatch_uid="image_to_video.job_completed_store_asset")
def job_completed_store_asset(sender, instance: Job, created: bool, update_fields=None, **kwargs) -> None:
    just_completed = instance.status == JobStatus.COMPLETED and (update_fields is None or "status" in update_fields)
    if just_completed:
        from . import dispatch, tasks

        job_id = str(instance.pk)
        transaction.on_commit(lambda: dispatch.enqueue(tasks.store_asset, job_id))
