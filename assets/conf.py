"""The asset library's few settings, read from the apps' one dict ``settings.IMAGE_TO_VIDEO`` with defaults."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTING = "IMAGE_TO_VIDEO"


@dataclass(frozen=True)
class Config:
    # Presigned URLs of files on S3 expire after this many seconds, whatever the host's AWS_QUERYSTRING_AUTH.
    URL_EXPIRE_SECONDS: int = 600
    # Private local files (no STORAGES["image_to_video"]): kept here, never under MEDIA_ROOT.
    FILES_ROOT: Path | None = None  # None: <BASE_DIR or the working directory>/image_to_video_files
    # Where browsers reach the bucket when that differs from where the service does (compose: MinIO).
    PUBLIC_S3_ENDPOINT_URL: str | None = None
    PAGE_SIZE: int = 20  # job and asset lists
    TOKEN_MAX_AGE_DAYS: float = 90.0  # API tokens expire after this many days (0: never)
    SHARE_MAX_SECONDS: int = 30 * 24 * 3600  # the longest a share link may live
    SHARE_LINKS_PER_ASSET: int = 100  # live links one asset may have; more is a 400


@functools.cache
def get_config() -> Config:
    given = getattr(settings, SETTING, None) or {}
    names = Config.__dataclass_fields__.keys()
    values = {name: given[name] for name in names if name in given}
    if values.get("FILES_ROOT") is not None:
        values["FILES_ROOT"] = Path(values["FILES_ROOT"])
    return Config(**values)


@receiver(setting_changed)
def _rebuild(*, setting: str, **_: Any) -> None:
    if setting == SETTING:
        get_config.cache_clear()
