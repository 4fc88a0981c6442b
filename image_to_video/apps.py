from django.apps import AppConfig


class ImageToVideoConfig(AppConfig):
    name = "image_to_video"
    verbose_name = "Image to video"

    def ready(self) -> None:
        from . import dispatch, signals, tasks  # noqa: F401  (signals: connect the receivers)

        dispatch.set_periodic(tasks.in_process_sweep)
