"""WebSocket authentication: a ticket (single use, 60 s), ``?token=`` (an API token), or the session.

A ticket is best sent as a subprotocol, ``new WebSocket(url, ["image-to-video", "ticket." + ticket])``:
headers are in no server's access log, URLs are in most. The server answers with the subprotocol
``image-to-video`` (never the one carrying the ticket). ``?ticket=`` works as well.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from django.contrib.auth import get_user_model

from assets.authentication import user_for_token

from .tickets import offered_ticket, ticket_redeem


@database_sync_to_async
def _user_for_ticket(value: str) -> tuple[Any, str | None]:
    ticket = ticket_redeem(value)
    if ticket is None:
        return None, None
    user = get_user_model().objects.filter(pk=ticket.user_id, is_active=True).first()
    return user, ticket.client_id


class TokenAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from a ticket or token; ``scope["ticket_client"]`` is the client a ticket is for."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        ticket = offered_ticket(scope)
        key = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
        if ticket:
            user, client_id = await _user_for_ticket(ticket)
            scope = dict(scope, ticket_client=client_id or "-", auth_via="ticket")
            if user is not None:
                scope["user"] = user
        elif key:
            user = await database_sync_to_async(user_for_token)(key)
            if user is not None:
                scope = dict(scope, user=user, auth_via="token", token_key=key)
        return await super().__call__(scope, receive, send)
