from typing import Any

from django.apps import AppConfig
from django.conf import settings


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Asset library"
    default_auto_field = "django.db.models.BigAutoField"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Django reads a swappable model's setting without a default (as it does AUTH_USER_MODEL's, which
        # global_settings defines): the apps' tenant model gets its default here, before any model loads.
        if not hasattr(settings, "AIRWAVE_CLIENT_MODEL"):
            settings.AIRWAVE_CLIENT_MODEL = "tenancy.Client"
