"""Where the apps keep their files: the storage alias ``image_to_video`` when the host defines one, else
private local files outside MEDIA_ROOT. Files are reached only through presigned URLs (S3) or the apps'
own members-only views, never through the host's public media.

:class:`S3Storage` is django-storages' S3 backend with its boto3 resources built from one session per
process: under ASGI every request runs in a new thread, and a fresh session costs about 100 ms of CPU
(the service model is loaded again) under the GIL, which capped ``GET job`` (a presigned URL) at a few
requests a second; from one shared session it is about 4 ms. Presigning uses a single client per process.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty
from storages.backends.s3 import S3Storage as BaseS3Storage
from storages.utils import clean_name

from .conf import get_config

ALIAS = "image_to_video"


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


def presigned_url(name: str, storage: Storage | None = None) -> str | None:
    """A URL that reads ``name`` for URL_EXPIRE_SECONDS on S3 (signed whatever the storage's own
    ``querystring_auth``), or None where the storage cannot sign: such files are served by the apps' views."""
    storage = storage or files_storage
    if not isinstance(storage, BaseS3Storage):
        return None
    client = storage._signing_client() if isinstance(storage, S3Storage) else storage.connection.meta.client
    params = {"Bucket": storage.bucket_name, "Key": storage._normalize_name(clean_name(name))}
    return str(client.generate_presigned_url("get_object", Params=params, ExpiresIn=get_config().URL_EXPIRE_SECONDS))


_lock = threading.RLock()
_sessions: dict[tuple[Any, ...], Any] = {}


class S3Storage(BaseS3Storage):
    def _create_session(self) -> Any:
        key = (self.session_profile, self.access_key, self.secret_key, self.security_token)
        with _lock:
            if key not in _sessions:
                _sessions[key] = super()._create_session()
            return _sessions[key]

    @property
    def connection(self) -> Any:
        with _lock:
            return super().connection

    @property
    def unsigned_connection(self) -> Any:
        with _lock:
            return super().unsigned_connection

    def url(
        self,
        name: str,
        parameters: dict[str, Any] | None = None,
        expire: int | None = None,
        http_method: str | None = None,
    ) -> str:
        if self.custom_domain or not self.querystring_auth:
            return str(super().url(name, parameters, expire, http_method))
        params = dict(parameters or {}, Bucket=self.bucket_name, Key=self._normalize_name(clean_name(name)))
        return str(
            self._signing_client().generate_presigned_url(
                "get_object",
                Params=params,
                ExpiresIn=self.querystring_expire if expire is None else expire,
                HttpMethod=http_method,
            )
        )

    def _signing_client(self) -> Any:
        with _lock:
            client = getattr(self, "_shared_signing_client", None)
            if client is None:
                client = self._create_session().client(
                    "s3",
                    region_name=self.region_name,
                    use_ssl=self.use_ssl,
                    # URLs for browsers are signed for the endpoint they can reach (PUBLIC_S3_ENDPOINT_URL)
                    endpoint_url=get_config().PUBLIC_S3_ENDPOINT_URL or self.endpoint_url,
                    config=self.client_config,
                    verify=self.verify,
                )
                self._shared_signing_client = client
            return client
