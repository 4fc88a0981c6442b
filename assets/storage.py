"""Where the apps keep their files: the storage alias ``image_to_video`` when the host defines one, else
private local files outside MEDIA_ROOT. Files are reached only through presigned URLs (S3) or the apps'
own members-only views, never through the host's public media. S3 needs the ``s3`` extra
(django-storages with boto3); :mod:`assets.s3` has a faster backend for it.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

from .conf import get_config

ALIAS = "image_to_video"
_clock = time.time  # the presigned-URL cache's clock (tests freeze it)


def private_files_root() -> Path | None:
    """The folder of the private local files, or None when the host names a storage of its own."""
    if ALIAS in getattr(settings, "STORAGES", {}):
        return None
    root = get_config().FILES_ROOT or Path(getattr(settings, "BASE_DIR", None) or Path.cwd()) / "image_to_video_files"
    return Path(root).resolve()


class _FilesStorage(LazyObject):
    def _setup(self) -> None:
        root = private_files_root()
        self._wrapped = storages[ALIAS] if root is None else FileSystemStorage(location=str(root), base_url=None)


files_storage: Storage = _FilesStorage()  # type: ignore[assignment]  # a lazy stand-in for the real one


def get_files_storage() -> Storage:
    """The apps' storage (FileField's ``storage=``: a callable keeps migrations free of settings)."""
    return files_storage


@receiver(setting_changed)
def _settings_changed(*, setting: str, **_: Any) -> None:
    if setting in ("STORAGES", "IMAGE_TO_VIDEO", "BASE_DIR"):
        files_storage._wrapped = empty  # type: ignore[attr-defined]
        _signed.cache_clear()


def presigned_url(name: str, storage: Storage | None = None, *, at_most: int | None = None) -> str | None:
    """A URL that reads ``name`` for URL_EXPIRE_SECONDS on S3 (signed whatever the storage's own
    ``querystring_auth``), or None where the storage cannot sign: such files are served by the apps' views.

    ``at_most`` caps the URL's lifetime (a share link's remaining seconds). Otherwise a URL is signed once
    per half of its lifetime and reused meanwhile, so a read request (a job's video and
    poster, a page of assets) does no signing work, and every URL handed out has at least half its time left.
    """
    try:
        from storages.backends.s3 import S3Storage  # optional: the s3 extra
        from storages.utils import clean_name
    except ImportError:
        return None
    storage = storage or files_storage
    if not isinstance(storage, S3Storage):
        return None
    expire = get_config().URL_EXPIRE_SECONDS
    key = storage._normalize_name(clean_name(name))
    if at_most is not None:  # a share link's last minutes: signed for what is left of it, not reused
        return _signed.__wrapped__(storage, key, max(1, min(expire, at_most)), 0)
    window = int(_clock() // max(1, expire // 2))
    return _signed(storage, key, expire, window)


@functools.lru_cache(maxsize=4096)
def _signed(storage: Any, key: str, expire: int, window: int) -> str:
    """``window`` only makes the cache forget a URL once half its lifetime is gone."""
    signer = getattr(storage, "_signing_client", None)
    client = signer() if signer else storage.connection.meta.client
    params = {"Bucket": storage.bucket_name, "Key": key}
    return str(client.generate_presigned_url("get_object", Params=params, ExpiresIn=expire))
