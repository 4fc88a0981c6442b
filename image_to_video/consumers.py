"""One consumer per socket; it joins the group of one client the user belongs to."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore

from assets.authentication import user_for_token
from assets.clients import get_client_model, is_member, parse_client_key

from . import events
from .conf import get_config
from .outputs import JobOut
from .selectors import unfinished_jobs
from .tickets import chosen_subprotocol

CLOSE_UNAUTHENTICATED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND = 4401, 4403, 4404


@database_sync_to_async
def _client_exists(client_id) -> bool:
    return get_client_model()._default_manager.filter(pk=client_id).exists()


@database_sync_to_async
def _unfinished_jobs(client_id: UUID) -> list[dict[str, Any]]:
    return list(JobOut(unfinished_jobs(client_id), many=True).data)


class ClientJobsConsumer(AsyncJsonWebsocketConsumer):
    """Server messages: ``job.updated``, ``asset.created``; ``jobs.sync`` on request.

    Access is checked again every WS_ACCESS_RECHECK_SECONDS: a member removed from
    the client, a deactivated user, a logged-out session or a rotated token gets
    the socket closed (4403) within seconds.
    """

    group = None
    watcher: asyncio.Task[None] | None = None
    last_sync = float("-inf")

    async def connect(self):
        events.remember_server_loop()
        user = self.scope.get("user")
        client_id = parse_client_key(self.scope["url_route"]["kwargs"]["client_id"])
        await self.accept(chosen_subprotocol(self.scope))  # accept first so the close code reaches the browser
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if client_id is None or not await _client_exists(client_id):
            await self.close(code=CLOSE_NOT_FOUND)
            return
        if self.scope.get("ticket_client") not in (None, str(client_id)):  # a ticket is for one client's socket
            await self.close(code=CLOSE_FORBIDDEN)
            return
        if not await database_sync_to_async(is_member)(user, client_id):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.client_id = client_id
        self.group = events.group_name(client_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        self.watcher = asyncio.create_task(self._watch_access())

    async def _watch_access(self) -> None:
        while True:
            await asyncio.sleep(get_config().WS_ACCESS_RECHECK_SECONDS)
            if not await database_sync_to_async(self._still_allowed)():
                await self.close(code=CLOSE_FORBIDDEN)
                return

    def _still_allowed(self) -> bool:
        user = self.scope["user"]
        if not get_user_model().objects.filter(pk=user.pk, is_active=True).exists():
            return False
        if not is_member(user, self.client_id):
            return False
        via = self.scope.get("auth_via", "session")
        if via == "token":
            return user_for_token(self.scope["token_key"]) is not None
        if via == "session":
            session = self.scope.get("session")
            return bool(session and session.session_key and SessionStore().exists(session.session_key))
        return True  # a ticket was checked when it was spent; membership above still counts

    async def disconnect(self, code):
        if self.watcher is not None:
            self.watcher.cancel()
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if not self.group:
            return
        if isinstance(content, dict) and content.get("type") == "jobs.sync":
            now = asyncio.get_running_loop().time()
            wait = self.last_sync + get_config().SYNC_INTERVAL - now
            if wait > 0:  # each answer reads the database: one a second per socket is what a page needs
                await self.send_json({"type": "error", "message": f"jobs.sync: wait {wait:.1f} s", "retryAfter": wait})
                return
            self.last_sync = now
            await self.send_json({"type": "jobs.sync", "jobs": await _unfinished_jobs(self.client_id)})
        else:
            await self.send_json({"type": "error", "message": 'unknown message; send {"type": "jobs.sync"}'})

    async def job_updated(self, event):
        await self.send_json({"type": "job.updated", "job": event["job"]})

    async def asset_created(self, event):
        await self.send_json({"type": "asset.created", "asset": event["asset"]})
