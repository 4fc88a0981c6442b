"""WebSocket tickets: a signed, single-use pass to one client's socket, valid for 60 seconds.

A browser cannot set headers on a WebSocket, and an API token in the URL ends up
in access logs and proxies. A ticket is made by ``POST …/ws-ticket`` (with the
caller's token or session) and spent as the subprotocol ``ticket.<ticket>`` (or
on ``?ticket=``): it names the user and the client, expires quickly, and works
once (spent tickets are remembered in the shared cache for longer than they live).
Its parts are joined by "." rather than signing's ":", so a ticket is a valid
subprotocol token as it is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from django.core import signing
from django.core.cache import cache

SALT = "image_to_video.ws-ticket"
TICKET_SECONDS = 60


@dataclass(frozen=True)
class Ticket:
    user_id: str  # the user's key as a string: integer and UUID keys alike
    client_id: str


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT, sep=".")


def ticket_issue(*, user_id: Any, client_id: Any) -> str:
    return _signer().sign_object({"u": str(user_id), "c": str(client_id), "n": secrets.token_urlsafe(12)})


def ticket_redeem(value: str) -> Ticket | None:
    """The ticket's holder and client, once; None when forged, expired or already used."""
    try:
        data = _signer().unsign_object(value, max_age=TICKET_SECONDS)
    except (signing.BadSignature, ValueError):
        return None
    try:
        first_use = cache.add(f"ws-ticket-used:{data['n']}", 1, timeout=TICKET_SECONDS * 2)
    except Exception:  # the cache is down: refuse rather than allow a replay
        return None
    return Ticket(user_id=str(data["u"]), client_id=str(data["c"])) if first_use else None


PROTOCOL = "image-to-video"
TICKET_PROTOCOL_PREFIX = "ticket."


def offered_ticket(scope: Any) -> str | None:
    """The ticket of a ``ticket.<ticket>`` subprotocol, else of ``?ticket=``."""
    for protocol in scope.get("subprotocols") or ():
        if protocol.startswith(TICKET_PROTOCOL_PREFIX):
            return protocol[len(TICKET_PROTOCOL_PREFIX) :] or None
    return parse_qs(scope.get("query_string", b"").decode()).get("ticket", [None])[0]


def chosen_subprotocol(scope: Any) -> str | None:
    """What the server names in its handshake: ``image-to-video`` when offered (a browser that offered
    subprotocols fails a handshake naming none)."""
    return PROTOCOL if PROTOCOL in (scope.get("subprotocols") or ()) else None
