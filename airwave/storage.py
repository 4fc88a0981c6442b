"""S3 storage (django-storages) that builds its boto3 resources from one session per process.

django-storages keeps a boto3 resource per thread, and under ASGI every request
runs in a new thread: from a fresh session that costs about 100 ms of CPU (the
service model is loaded again) under the GIL, which capped ``GET job`` (a
presigned URL) at a few requests a second. From one shared session it is about
4 ms. Sessions are not thread-safe, so resources are made under a lock; the
resources themselves stay per thread, as django-storages wants. Presigning, the
one thing a read request does, uses a single client per process (boto3 clients
are thread-safe), so it costs no set-up at all.
"""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from storages.backends.s3 import S3Storage as BaseS3Storage
from storages.utils import clean_name

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
                    # URLs for browsers are signed for the endpoint they can reach (AWS_S3_PUBLIC_ENDPOINT_URL)
                    endpoint_url=settings.AWS_S3_PUBLIC_ENDPOINT_URL or self.endpoint_url,
                    config=self.client_config,
                    verify=self.verify,
                )
                self._shared_signing_client = client
            return client
