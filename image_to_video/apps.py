from django.apps import AppConfig


class ImageToVideoConfig(AppConfig):
    name = "image_to_video"
    verbose_name = "Image to video"

    def ready(self) -> None:
        from . import signals  # noqa: F401
