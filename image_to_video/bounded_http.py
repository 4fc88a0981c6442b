"""One outbound POST that cannot hold anything: a deadline for the whole call, a capped reply, a pinned address.

``requests`` bounds each socket operation, not the call: a receiver answering one
byte every few seconds held a worker for minutes, and a 300 MB error reply was
read whole. Here the host is resolved once, every address it resolves to is
checked (:mod:`.netcheck`) and the connection goes to a checked address (no
second lookup for DNS rebinding to change); every socket operation gets what
is left of the deadline and a watchdog shuts the socket when it passes; the
reply is read up to ``reply_limit`` bytes and the rest is never read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import certifi

from .netcheck import is_public, resolve


class Refused(ValueError):
    """The URL may not be called (scheme, credentials, a non-public address)."""


class Unresolved(ConnectionError):
    """The host does not resolve now (DNS may be down): worth another try later."""


class CallFailed(ConnectionError):
    """The call did not complete: ``reason`` is ``"timed out"`` or ``"connection failed (…)"``."""


@dataclass(frozen=True)
class Reply:
    status: int
    head: bytes  # the first reply_limit bytes of the body at most


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context(cafile=certifi.where())


def resolve_public(url: str, *, allow_private: bool = False) -> tuple[str, int, str]:
    """``(host, port, address)`` to connect to for ``url``; raises Refused or Unresolved."""
    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise Refused("must be an https:// URL")
    if not parts.hostname or parts.username or parts.password:
        raise Refused("must be an https:// URL with a host name and no credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise Refused("has an invalid port") from exc
    try:
        addresses = resolve(parts.hostname, port)
    except socket.gaierror as exc:
        raise Unresolved(f"the host {parts.hostname!r} does not resolve") from exc
    except (UnicodeError, ValueError) as exc:
        raise Refused(f"the host {parts.hostname!r} is not a valid host name") from exc
    if not allow_private and any(not is_public(a) for a in addresses):
        raise Refused("resolves to a private, loopback or link-local address")
    return parts.hostname, port, addresses[0]


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    deadline: float,
    reply_limit: int,
    allow_private: bool = False,
    connect_timeout: float = 5.0,
) -> Reply:
    """POST ``body`` to ``url`` and return its status and the head of its reply, all within ``deadline`` s."""
    host, port, address = resolve_public(url, allow_private=allow_private)
    parts = urlsplit(url)
    ends = time.monotonic() + deadline

    def left() -> float:
        remaining = ends - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    sock: socket.socket | None = None
    watchdog: threading.Timer | None = None
    try:
        sock = socket.create_connection((address, port), timeout=min(connect_timeout, left()))
        if parts.scheme == "https":
            sock.settimeout(left())
            sock = _tls().wrap_socket(sock, server_hostname=host)
        watchdog = threading.Timer(left(), _shut, (sock,))
        watchdog.daemon = True
        watchdog.start()
        connection = http.client.HTTPConnection(host, port, timeout=left())
        connection.sock = _DeadlineSocket(sock, left)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body=body, headers={**headers, "connection": "close"})
        response = connection.getresponse()
        head = response.read(reply_limit) if reply_limit > 0 else b""
        status = response.status
        if time.monotonic() > ends:
            raise TimeoutError
        return Reply(status, head)
    except TimeoutError as exc:
        raise CallFailed("timed out") from exc
    except (OSError, http.client.HTTPException) as exc:
        if time.monotonic() >= ends:
            raise CallFailed("timed out") from exc
        raise CallFailed(f"connection failed ({type(exc).__name__})") from exc
    finally:
        if watchdog is not None:
            watchdog.cancel()
        if sock is not None:
            sock.close()


def _shut(sock: socket.socket) -> None:
    """The deadline passed: whatever the call is blocked on returns at once (the plain socket's shutdown:
    ``SSLSocket.shutdown`` would drop the TLS state under a reader in another thread)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class _DeadlineSocket:
    """A socket whose every operation may take only what is left of the call's deadline."""

    def __init__(self, sock: socket.socket, left: Callable[[], float]) -> None:
        self._sock = sock
        self._left = left

    def _arm(self) -> None:
        self._sock.settimeout(self._left())

    def sendall(self, data: bytes) -> None:
        self._arm()
        self._sock.sendall(data)

    def makefile(self, mode: str = "rb", buffering: int | None = None) -> object:
        return _DeadlineReader(self._sock.makefile("rb"), self._arm)  # http.client reads replies only

    def close(self) -> None:
        self._sock.close()

    def __getattr__(self, name: str) -> object:
        return getattr(self._sock, name)


class _DeadlineReader:
    """``http.client`` reads the reply through a file: each read is armed with what is left of the deadline."""

    def __init__(self, raw: object, arm: Callable[[], None]) -> None:
        self._raw = raw
        self._arm = arm

    def __getattr__(self, name: str) -> object:
        attribute = getattr(self._raw, name)
        if name in ("read", "read1", "readline", "readinto", "peek"):

            def armed(*args: object, **kwargs: object) -> object:
                self._arm()
                return attribute(*args, **kwargs)

            return armed
        return attribute
