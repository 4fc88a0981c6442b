"""A guard against one kombu failure that stops a threaded Celery worker (the io worker) for good.

With ``--pool threads`` on Redis, when the broker connection drops, Celery closes the old connection
while a channel of it still holds unacknowledged messages (tasks sent for later: webhook retries,
provider polls); kombu's Redis channel then rebuilds its connection parameters from a transport whose
client is already gone and raises ``AttributeError`` (not a connection error), which Celery treats
as unrecoverable: the worker exits instead of reconnecting (kombu 5.7, Celery 5.7; seen in
``tests/faults``). Here that case raises the connection error it is, which Celery's close ignores;
the worker reconnects. The messages it could not put back were on a broker that went away; the apps'
sweeps redo their work from the database.
"""

from __future__ import annotations

from typing import Any


def guard_redis_channel_close() -> None:
    try:
        from kombu.transport import redis as kombu_redis
    except ImportError:  # no Redis transport installed: nothing to guard
        return
    channel = kombu_redis.Channel
    if getattr(channel, "_image_to_video_guarded", False):
        return
    original = channel._connparams

    def _connparams(self: Any, asynchronous: bool = False) -> Any:
        if getattr(self.connection, "client", None) is None:
            raise kombu_redis.redis.exceptions.ConnectionError("the broker connection is already closed")
        return original(self, asynchronous=asynchronous)

    setattr(channel, "_connparams", _connparams)  # noqa: B010  (a method replaced on purpose)
    setattr(channel, "_image_to_video_guarded", True)  # noqa: B010
