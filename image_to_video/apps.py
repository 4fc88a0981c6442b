from typing import Any

from django.apps import AppConfig
from django.core.signals import request_started


class ImageToVideoConfig(AppConfig):
    name = "image_to_video"
    verbose_name = "Image to video"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assets.filters import register_origin_parameter

        from . import checks, dispatch, logs, signals, tasks  # noqa: F401  (checks, signals: register them)
        from .conf import get_config
        from .engine import DECODE_BUDGET
        from .models import asset_origin_of

        register_origin_parameter("jobId", asset_origin_of, "the job that made the asset")

        dispatch.set_schedule(tasks.SCHEDULE)
        DECODE_BUDGET.limit = get_config().DECODE_MEMORY_BUDGET
        logs.scrub_server_logs()
        # Without a broker the in-process worker starts with the first request the process serves (it also
        # picks up jobs a restart left behind); commands such as migrate never start it.
        request_started.connect(_start_worker, dispatch_uid="image_to_video.start_in_process_worker")


def _start_worker(**_: Any) -> None:
    from . import dispatch

    request_started.disconnect(dispatch_uid="image_to_video.start_in_process_worker")
    dispatch.start_in_process_worker()
