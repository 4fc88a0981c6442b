"""Job status over WebSockets: the consumer's rules, and live events end to end."""

import asyncio
import json

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
