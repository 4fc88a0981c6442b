"""System checks: ``manage.py check`` names what a host is missing, with the fix, before anything fails."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks

from .conf import OTHER_APPS_NAMES, SETTING, Config

REQUIRED_APPS = {
    "django.contrib.auth": "users",
    "django.contrib.contenttypes": "the auth app",
    "django.contrib.sessions": "session log-in on the page and WebSockets",
    "channels": "the WebSocket consumers",
    "django_filters": "the list filters",
    "assets": "the asset library every video is filed in",
}
WORKERS = ("auto", "celery", "in-process")


@checks.register()
def check_installed_apps(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    return [
        checks.Error(
            f"{name!r} is not in INSTALLED_APPS; image_to_video needs it for {why}.",
            hint=f'Add "{name}" to INSTALLED_APPS (see docs/INSTALL.md).',
            id="image_to_video.E001",
        )
        for name, why in REQUIRED_APPS.items()
        if not apps.is_installed(name)
    ]


@checks.register()
def check_tenants(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    """The tenant model and the membership callable exist (the bundled tenancy app, or the host's own)."""
    from django.utils.module_loading import import_string

    from assets.clients import DEFAULT_ACCESS, client_model_label, get_client_model

    messages: list[checks.CheckMessage] = []
    label = client_model_label()
    try:
        get_client_model()
    except (LookupError, ValueError):
        fix = 'Add "tenancy" to INSTALLED_APPS' if label == "tenancy.Client" else f"Install the app of {label}"
        messages.append(
            checks.Error(
                f"AIRWAVE_CLIENT_MODEL is {label!r}, which is not an installed model.",
                hint=f"{fix}, or set AIRWAVE_CLIENT_MODEL to your tenant model (see docs/INSTALL.md).",
                id="image_to_video.E006",
            )
        )
    access = str(getattr(settings, "AIRWAVE_CLIENT_ACCESS", DEFAULT_ACCESS))
    try:
        import_string(access)
    except ImportError:
        messages.append(
            checks.Error(
                f"AIRWAVE_CLIENT_ACCESS is {access!r}, which cannot be imported.",
                hint="Point it at a callable (user) -> iterable of client keys (see docs/INSTALL.md).",
                id="image_to_video.E007",
            )
        )
    return messages


@checks.register()
def check_settings(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    given = getattr(settings, SETTING, None)
    if given is None:
        return []
    if not isinstance(given, dict):
        return [checks.Error(f"{SETTING} must be a dict.", hint=f"{SETTING} = {{...}}", id="image_to_video.E002")]
    messages: list[checks.CheckMessage] = []
    unknown = sorted(set(given) - Config.names() - OTHER_APPS_NAMES)
    if unknown:
        messages.append(
            checks.Error(
                f"{SETTING} has unknown names: {', '.join(unknown)}.",
                hint="See docs/INSTALL.md for every name and its default.",
                id="image_to_video.E003",
            )
        )
    if given.get("WORKER", "auto") not in WORKERS:
        messages.append(
            checks.Error(f"{SETTING}['WORKER'] must be one of {', '.join(WORKERS)}.", id="image_to_video.E004")
        )
    return messages


@checks.register()
def check_channel_layer(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "CHANNEL_LAYERS", None):
        return []
    return [
        checks.Warning(
            "CHANNEL_LAYERS is not set: live job status (WebSocket events, Prefer: wait) is off.",
            hint='Set CHANNEL_LAYERS (channels_redis in production; {"default": {"BACKEND": '
            '"channels.layers.InMemoryChannelLayer"}} for one process).',
            id="image_to_video.W001",
        )
    ]


@checks.register()
def check_files_outside_media(app_configs: Any = None, **_: Any) -> list[checks.CheckMessage]:
    from assets.storage import private_files_root  # the asset library keeps the apps' private files

    media_root = str(getattr(settings, "MEDIA_ROOT", "") or "")
    root = private_files_root()
    if root is None or not media_root:
        return []
    from pathlib import Path

    media = Path(media_root).resolve()
    if root == media or media in root.parents:
        return [
            checks.Error(
                f"The apps' private files ({root}) are under MEDIA_ROOT ({media}), which may be served publicly.",
                hint=f'Set {SETTING}["FILES_ROOT"] to a folder outside MEDIA_ROOT, '
                'or define STORAGES["image_to_video"].',
                id="image_to_video.E005",
            )
        ]
    return []
