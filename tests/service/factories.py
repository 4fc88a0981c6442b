"""Jobs made directly in the database, for tests that do not need a render."""

import time
import uuid

from django.core.files.base import ContentFile

from image_to_video.models import Job, JobStatus
from image_to_video.services import lifecycle
from tests.conftest import photo_bytes


def make_job(tenant, *, status=JobStatus.QUEUED, provider="local", **fields) -> Job:
    values = {
        "motion_type": "zoom",
        "motion_direction": "in",
        "motion_strength": 50,
        "duration": 1.0,
        "output_format": "mp4",
        "width": 160,
        "height": 96,
        "source_content_type": "image/png",
        **fields,
    }
    job = Job(id=uuid.uuid4(), client=tenant.client, user=tenant.user, provider=provider, status=status, **values)
    job.source_image.save("source.png", ContentFile(photo_bytes(64, 64)), save=False)
    job.save(force_insert=True)
    lifecycle.loads_recount()  # made in any status at once: the clients' loads are counted, not moved
    time.sleep(0.002)  # distinct created_at for ordering
    return job
