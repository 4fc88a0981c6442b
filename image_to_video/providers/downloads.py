"""Fetching a provider's result without letting its answer point the server anywhere.

Only URLs under the configured prefixes are fetched; every redirect hop is checked
again; a host whose name resolves to a private, loopback, link-local or reserved
address is refused unless the prefix names that address itself; the whole
download has a deadline as well as a size cap.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import requests
import urllib3

from ..netcheck import is_ip, non_public_addresses

MAX_REDIRECTS = 3


class DownloadRefused(Exception):
    """The URL is not one this service may fetch."""


class DownloadFailed(Exception):
    """The fetch did not complete (status, size, deadline, network); ``transient`` says whether to retry."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def normalise_prefixes(prefixes: Sequence[str]) -> list[str]:
    """Each prefix ends at a path boundary, so ``https://good.example`` never admits ``good.example.evil``."""
    out = []
    for prefix in prefixes:
        parts = urlsplit(prefix.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            continue
        out.append(prefix.strip() if parts.path.endswith("/") else prefix.strip().rstrip("/") + "/")
    return out


def check_url(url: str, prefixes: Sequence[str]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DownloadRefused("not an http(s) URL")
    prefix = next((p for p in normalise_prefixes(prefixes) if url.startswith(p)), None)
    if prefix is None:
        raise DownloadRefused(f"{parts.scheme}://{parts.hostname} is not an allowed output location")
    if is_ip(urlsplit(prefix).hostname or ""):
        return  # the operator named this very address
    try:
        blocked = non_public_addresses(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except socket.gaierror as exc:
        raise DownloadFailed(f"{parts.hostname} does not resolve", transient=True) from exc
    if blocked:
        raise DownloadRefused(f"{parts.hostname} resolves to a non-public address")


def fetch(
    session: requests.Session,
    url: str,
    dest: Path,
    *,
    prefixes: Sequence[str],
    max_bytes: int,
    deadline_seconds: float,
    timeout: tuple[float, float],
) -> Path:
    """Stream ``url`` to ``dest`` under the rules above; raises DownloadRefused or DownloadFailed."""
    deadline = time.monotonic() + deadline_seconds
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, prefixes)
        try:
            response = session.get(url, stream=True, allow_redirects=False, timeout=timeout)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise DownloadFailed("the download did not connect", transient=True) from exc
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code >= 400:
                transient = response.status_code in (408, 429) or response.status_code >= 500
                raise DownloadFailed(f"the download answered {response.status_code}", transient=transient)
            size = 0
            try:
                with dest.open("wb") as out:
                    while chunk := response.raw.read1(256 * 1024):  # what has arrived: the deadline is checked often
                        size += len(chunk)
                        if size > max_bytes:
                            raise DownloadFailed("the video is too large", transient=False)
                        if time.monotonic() > deadline:
                            raise DownloadFailed(f"the download took over {deadline_seconds:g} s", transient=True)
                        out.write(chunk)
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                raise DownloadFailed("the download broke off", transient=True) from exc
            return dest
    raise DownloadRefused("too many redirects")
