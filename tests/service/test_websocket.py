"""Job status over WebSockets: the consumer's rules, and live events end to end."""

import asyncio
import json
import uuid

import pytest
import requests
from asgiref.sync import sync_to_async
from channels.testing.websocket import WebsocketCommunicator

from image_to_video.models import JobStatus
from tests.conftest import generate_body

from .factories import make_job


def _app():
    from airwave.asgi import application

    return application


async def _connect(path: str, headers=None):
    communicator = WebsocketCommunicator(_app(), path, headers=headers or [(b"origin", b"http://127.0.0.1:8000")])
    connected, _ = await communicator.connect()
    return communicator, connected


async def _close_code(communicator) -> int | None:
    message = await communicator.receive_output(timeout=3)
    return message.get("code") if message["type"] == "websocket.close" else None


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who,code", [("anonymous", 4401), ("outsider", 4403), ("unknown", 4404), ("malformed", 4404)])
async def test_the_consumer_turns_away_who_may_not_listen(make_tenant, who, code):
    owner = await sync_to_async(make_tenant)("Owner")
    other = await sync_to_async(make_tenant)("Other")
    path = f"/ws/image-to-video/clients/{owner.client.pk}/"
    if who == "outsider":
        path += f"?token={other.token}"
    elif who == "unknown":
        path = f"/ws/image-to-video/clients/00000000-0000-0000-0000-000000000000/?token={owner.token}"
    elif who == "malformed":
        path = f"/ws/image-to-video/clients/not-a-uuid/?token={owner.token}"
    communicator, _ = await _connect(path)
    assert await _close_code(communicator) == code
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_member_joins_gets_events_and_can_sync(make_tenant):
    from image_to_video import events

    owner = await sync_to_async(make_tenant)("Owner")
    running = await sync_to_async(make_job)(owner, status=JobStatus.PROCESSING)
    await sync_to_async(make_job)(owner, status=JobStatus.COMPLETED)
    communicator, connected = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?token={owner.token}")
    assert connected
    await communicator.send_json_to({"type": "jobs.sync"})
    sync = await communicator.receive_json_from(timeout=3)
    assert sync["type"] == "jobs.sync" and [j["jobId"] for j in sync["jobs"]] == [str(running.pk)]
    await sync_to_async(events.publish_job)(running.pk)
    update = await communicator.receive_json_from(timeout=3)
    while update.get("job", {}).get("jobId") != str(running.pk):  # the completed job's filing may report first
        update = await communicator.receive_json_from(timeout=3)
    assert update["type"] == "job.updated" and update["job"]["jobId"] == str(running.pk)
    assert update["job"]["status"] == "processing" and "params" in update["job"]
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_foreign_origin_is_refused(make_tenant):
    owner = await sync_to_async(make_tenant)("Owner")
    communicator = WebsocketCommunicator(
        _app(),
        f"/ws/image-to-video/clients/{owner.client.pk}/?token={owner.token}",
        headers=[(b"origin", b"https://evil.example")],
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


@pytest.mark.celery
def test_live_progress_completion_and_asset_reach_only_the_clients_members(live_server_asgi, make_tenant, s3):
    import websockets

    owner, other = make_tenant("Owner"), make_tenant("Other")
    base = live_server_asgi
    ws_base = base.replace("http://", "ws://")

    async def listen(tenant, received: list, stop: asyncio.Event):
        url = f"{ws_base}/ws/image-to-video/clients/{tenant.client.pk}/?token={tenant.token}"
        async with websockets.connect(url, origin=base) as socket_:
            await socket_.send(json.dumps({"type": "jobs.sync"}))
            received.append(json.loads(await asyncio.wait_for(socket_.recv(), 5)))
            while not stop.is_set():
                try:
                    received.append(json.loads(await asyncio.wait_for(socket_.recv(), 0.2)))
                except TimeoutError:
                    continue
                if received[-1]["type"] == "asset.created":
                    stop.set()

    async def scenario():
        mine, theirs, stop = [], [], asyncio.Event()
        listeners = [asyncio.create_task(listen(owner, mine, stop)), asyncio.create_task(listen(other, theirs, stop))]
        await asyncio.sleep(0.5)  # both sockets joined their groups
        response = await asyncio.to_thread(
            requests.post,
            f"{base}/api/image-to-video/generate",
            json=generate_body(duration=4, width=1280, height=720),
            headers={"Authorization": f"Token {owner.token}"},
            timeout=30,
        )
        assert response.status_code == 202, response.text
        try:
            await asyncio.wait_for(stop.wait(), 90)
        finally:
            stop.set()
            await asyncio.gather(*listeners, return_exceptions=True)
        return response.json()["jobId"], mine, theirs

    job_id, mine, theirs = asyncio.run(scenario())
    assert mine[0]["type"] == "jobs.sync" and theirs[0] == {"type": "jobs.sync", "jobs": []}
    updates = [m["job"] for m in mine if m["type"] == "job.updated" and m["job"]["jobId"] == job_id]
    statuses = [u["status"] for u in updates]
    progress = [u["progress"] for u in updates if u["status"] == "processing"]
    assert statuses[0] == "queued" and "processing" in statuses
    assert len(set(progress)) >= 3 and progress == sorted(progress), f"rising progress: {progress}"
    completed = [u for u in updates if u["status"] == "completed"]
    assert completed, statuses
    assets = [m["asset"] for m in mine if m["type"] == "asset.created"]
    assert len(assets) == 1 and assets[0]["metadata"]["jobId"] == job_id
    assert "image-to-video" in assets[0]["tags"]
    assert mine.index(next(m for m in mine if m["type"] == "asset.created")) > mine.index(
        next(m for m in mine if m["type"] == "job.updated" and m["job"]["status"] == "completed")
    )
    assert theirs == [{"type": "jobs.sync", "jobs": []}], "the other client's member received nothing"


def _ticket(tenant, client_id) -> str:
    response = tenant.api.post("/api/image-to-video/ws-ticket", {"clientId": str(client_id)}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["ticket"]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_ticket_works_once_for_its_own_client(make_tenant):
    owner = await sync_to_async(make_tenant)("Owner")
    other = await sync_to_async(make_tenant)("Other")
    ticket = await sync_to_async(_ticket)(owner, owner.client.pk)
    communicator, connected = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?ticket={ticket}")
    await communicator.send_json_to({"type": "jobs.sync"})
    assert (await communicator.receive_json_from(timeout=3))["type"] == "jobs.sync", "the ticket let the member in"
    await communicator.disconnect()
    again, _ = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?ticket={ticket}")
    assert await _close_code(again) == 4401, "a ticket works once"
    await again.disconnect()
    foreign = await sync_to_async(
        lambda: other.api.post("/api/image-to-video/ws-ticket", {"clientId": str(owner.client.pk)}, format="json")
    )()
    assert foreign.status_code == 400 and "clientId" in foreign.json(), "no ticket for another client's socket"
    own = await sync_to_async(make_tenant)(user=owner.user)  # the owner in a second client
    ticket = await sync_to_async(_ticket)(owner, own.client.pk)
    mismatch, _ = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?ticket={ticket}")
    assert await _close_code(mismatch) == 4403, "a ticket opens only the socket it was made for"
    await mismatch.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_ticket_expires_after_a_minute(make_tenant, monkeypatch):
    import time as clock

    from django.core import signing

    owner = await sync_to_async(make_tenant)("Owner")
    ticket = await sync_to_async(_ticket)(owner, owner.client.pk)
    real = clock.time
    monkeypatch.setattr(signing.time, "time", lambda: real() + 61)
    late, _ = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?ticket={ticket}")
    assert await _close_code(late) == 4401
    await late.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_removed_member_and_a_rotated_token_are_cut_off_within_seconds(make_tenant, settings, app_settings):
    from django.core.management import call_command

    from tenancy.models import Membership

    app_settings(WS_ACCESS_RECHECK_SECONDS=0.3)
    owner = await sync_to_async(make_tenant)("Owner")
    second = await sync_to_async(make_tenant)(client=owner.client)
    removed, _ = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?token={owner.token}")
    rotated, _ = await _connect(f"/ws/image-to-video/clients/{owner.client.pk}/?token={second.token}")
    await sync_to_async(Membership.objects.filter(client=owner.client, user=owner.user).delete)()
    await sync_to_async(call_command)("rotate_token", second.user.username, stdout=open("/dev/null", "w"))
    assert await _close_code(removed) == 4403
    assert await _close_code(rotated) == 4403
    await removed.disconnect()
    await rotated.disconnect()


def test_expired_tokens_are_refused_and_rotation_gives_a_working_one(tenant, settings):
    import io

    from django.core.management import call_command
    from django.utils import timezone
    from rest_framework.test import APIClient

    from assets.models import ApiToken as Token

    url = f"/api/image-to-video/jobs/client/{tenant.client.pk}"
    assert tenant.api.get(url).status_code == 200
    Token.objects.filter(key=tenant.token).update(created=timezone.now() - timezone.timedelta(days=91))
    expired = tenant.api.get(url)
    assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    asset = uuid.uuid4()
    for media in ("/api/assets/", f"/api/assets/{asset}", f"/api/assets/{asset}/file", f"/api/assets/{asset}/poster"):
        assert tenant.api.get(media).status_code == 401, f"{media}: an expired token reads no media"
    out = io.StringIO()
    call_command("rotate_token", tenant.user.username, stdout=out)
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Token {json.loads(out.getvalue())['token']}")
    assert fresh.get(url).status_code == 200


def test_access_log_lines_carry_no_query_string():
    import logging

    from image_to_video.logs import ScrubQueryString

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/ws/image-to-video/clients/x/?token=secret123", "1.1", 101),
        None,
    )
    ScrubQueryString().filter(record)
    assert "secret123" not in record.getMessage() and "/ws/image-to-video/clients/x/" in record.getMessage()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_jobs_sync_is_answered_once_a_second_per_socket(make_tenant, app_settings):
    """Each answer reads the database: a socket asking in a loop is told to wait, not served."""
    app_settings(SYNC_INTERVAL=60)
    tenant = await sync_to_async(make_tenant)("Syncer")
    socket, connected = await _connect(f"/ws/image-to-video/clients/{tenant.client.pk}/?token={tenant.token}")
    assert connected
    await socket.send_json_to({"type": "jobs.sync"})
    assert (await socket.receive_json_from(timeout=5))["type"] == "jobs.sync"
    for _ in range(5):
        await socket.send_json_to({"type": "jobs.sync"})
        answer = await socket.receive_json_from(timeout=5)
        assert answer["type"] == "error" and answer["retryAfter"] > 0
    await socket.disconnect()
