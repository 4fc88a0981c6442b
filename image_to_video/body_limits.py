"""Request bodies are bounded in size and in time before anything reads them: an ASGI middleware in front
of Django (``image_to_video.asgi.http_application``; the views also refuse a declared length over the limit).

Django reads a whole body (and DRF parses it) before a view authenticates the
caller, so without this an anonymous client could make every web process hold
and parse as much as it likes, or hold a spooled partial body open for ever.
The size limit is checked against ``Content-Length`` at once, and against the
bytes actually received for a streamed (chunked) body: over it, 413. A body
that stops arriving for ``BODY_IDLE_TIMEOUT`` seconds, or arrives slower on
average than ``BODY_MIN_RATE`` bytes a second (after a grace of that timeout),
is answered 408 and the connection closed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from django.urls import Resolver404, resolve

from .conf import get_config

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[..., Awaitable[None]]  # Django's handler types its arguments its own way


class _OverLimit(Exception):
    """Raised inside the ASGI middleware when a streamed body passes its limit."""


class _TooSlow(Exception):
    """Raised inside the ASGI middleware when a body stalls or trickles."""


GENERATE_ROUTES = frozenset({"job-generate", "job-variants", "job-plan"})


def route_limit(namespaces: list[str], url_name: str | None) -> int | None:
    """The one rule for the apps' routes, by namespace and URL name (the views and the ASGI middleware both
    ask it); None for a route that is not the apps'."""
    config = get_config()
    if "image_to_video" in namespaces:
        if url_name in GENERATE_ROUTES:
            return config.GENERATE_BODY_LIMIT
        if url_name == "webhook":
            return config.WEBHOOK_BODY_LIMIT
        return config.OTHER_BODY_LIMIT
    if set(namespaces) & {"assets", "image_to_video_page"}:
        return config.OTHER_BODY_LIMIT
    return None


def app_route_limit(path: str) -> int | None:
    """The limit of one of the apps' routes, wherever the host mounted them; None for any other path."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return route_limit(match.namespaces, match.url_name)


class BodySizeLimit:
    """``limit_for(path)``: the bytes a body on that path may have, or None for no limit of ours."""

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int | None] = app_route_limit) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(send, limit)
            return
        config = get_config()
        idle, rate = config.BODY_IDLE_TIMEOUT, config.BODY_MIN_RATE
        deadline = time.monotonic() + idle + (declared if declared is not None else limit) / rate
        received = 0
        started = False
        whole = False

        async def counted_receive() -> Message:
            nonlocal received, whole
            if whole:  # past the body the server only tells of a disconnect: no clock on that wait
                return await receive()
            wait = min(idle, deadline - time.monotonic())
            try:
                message = await asyncio.wait_for(receive(), timeout=max(wait, 0.001))
            except TimeoutError:
                raise _TooSlow from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _OverLimit
                whole = not message.get("more_body", False)
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _OverLimit:
            if not started:
                await _too_large(send, limit)
        except _TooSlow:
            if not started:
                await _refuse(send, 408, b"The request body did not arrive in time.")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _too_large(send: Send, limit: int) -> None:
    await _refuse(send, 413, b"The request body is larger than %d bytes." % limit)


async def _refuse(send: Send, status: int, detail: bytes) -> None:
    body = b'{"detail": "%s"}' % detail
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
