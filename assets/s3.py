"""django-storages' S3 backend with its boto3 resources built from one session per process (the s3 extra).

Under ASGI every request runs in a new thread, and django-storages keeps a boto3 resource per thread: from
a fresh session that costs about 100 ms of CPU (the service model is loaded again) under the GIL, which
capped ``GET job`` (a presigned URL) at a few requests a second; from one shared session it is about 4 ms.
Sessions are not thread-safe, so resources are made under a lock; presigning, the one thing a read request
does, uses a single client per process (boto3 clients are thread-safe). Name it as the backend of
``STORAGES["image_to_video"]``: ``"BACKEND": "assets.s3.S3Storage"``.
"""

from __future__ import annotations

import threading
from typing import Any

from storages.backends.s3 import S3Storage as BaseS3Storage
from storages.utils import clean_name

from .conf import get_config

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
