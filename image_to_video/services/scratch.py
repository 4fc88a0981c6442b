"""This process's scratch space under UPLOAD_DIR: fresh renders wait here until they are filed."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from ..models import Job


def render_path(job: Job) -> Path:
    return Path(settings.UPLOAD_DIR) / "renders" / f"{job.pk}.{job.output_format}"
