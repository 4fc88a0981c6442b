from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Asset library"
    default_auto_field = "django.db.models.BigAutoField"
