from django.apps import AppConfig


class AirwaveConfig(AppConfig):
    name = "airwave"
    verbose_name = "AIrWAVE platform"
