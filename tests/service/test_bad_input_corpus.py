"""Bad input on every route but generate's fields (those are in test_validation.py): each is a 4xx
that names the problem, and nothing is created."""

from __future__ import annotations

import json

import pytest

from assets.models import Asset
from image_to_video.models import Job, WebhookEvent
from tests.service.runway_fixtures import signed_headers

from .factories import make_job

NIL = "00000000-0000-0000-0000-000000000000"


def _state():
    return Job.objects.count(), Asset.objects.count(), WebhookEvent.objects.count()


# (name, method, path, body or None, content type, status, a word the answer must contain)
CASES = [
    ("ticket without client", "post", "/api/image-to-video/ws-ticket", {}, "json", 400, "clientId"),
    ("ticket malformed client", "post", "/api/image-to-video/ws-ticket", {"clientId": "x"}, "json", 400, "clientId"),
    ("ticket unknown client", "post", "/api/image-to-video/ws-ticket", {"clientId": NIL}, "json", 400, "clientId"),
    (
        "ticket foreign client",
        "post",
        "/api/image-to-video/ws-ticket",
        {"clientId": "{other}"},
        "json",
        400,
        "clientId",
    ),
    ("ticket as a list", "post", "/api/image-to-video/ws-ticket", [1, 2], "json", 400, "non_field_errors"),
    ("ticket not json", "post", "/api/image-to-video/ws-ticket", "{nope", "raw", 400, "JSON"),
    ("ticket by GET", "get", "/api/image-to-video/ws-ticket", None, "json", 405, "not allowed"),
    ("generate as a list", "post", "/api/image-to-video/generate", [1], "json", 400, "dictionary"),
    ("generate not json", "post", "/api/image-to-video/generate", "{nope", "raw", 400, "JSON"),
    ("generate empty", "post", "/api/image-to-video/generate", {}, "json", 400, "sourceImage"),
    ("generate by GET", "get", "/api/image-to-video/generate", None, "json", 405, "not allowed"),
    ("generate xml", "post", "/api/image-to-video/generate", "<a/>", "xml", 415, "media type"),
    (
        "multipart without file",
        "post",
        "/api/image-to-video/generate",
        {"motionType": "zoom"},
        "multipart",
        400,
        "sourceImage",
    ),
    ("job malformed id", "get", "/api/image-to-video/jobs/not-a-uuid", None, "json", 404, "Not found"),
    ("job unknown id", "get", f"/api/image-to-video/jobs/{NIL}", None, "json", 404, "matches"),
    ("job foreign", "get", "/api/image-to-video/jobs/{foreign_job}", None, "json", 404, "matches"),
    ("cancel foreign", "post", "/api/image-to-video/jobs/{foreign_job}/cancel", None, "json", 404, "matches"),
    ("cancel malformed", "post", "/api/image-to-video/jobs/zzz/cancel", None, "json", 404, "Not found"),
    ("cancel finished", "post", "/api/image-to-video/jobs/{done_job}/cancel", None, "json", 409, "finished"),
    (
        "client jobs bad status",
        "get",
        "/api/image-to-video/jobs/client/{own}?status=bogus",
        None,
        "json",
        400,
        "status",
    ),
    ("client jobs foreign", "get", "/api/image-to-video/jobs/client/{other}", None, "json", 404, "Not found"),
    ("client jobs malformed", "get", "/api/image-to-video/jobs/client/xyz", None, "json", 404, "Not found"),
    ("client jobs bad page", "get", "/api/image-to-video/jobs/client/{own}?page=999", None, "json", 404, "page"),
    ("assets bad jobId", "get", "/api/assets/?jobId=nope", None, "json", 400, "jobId"),
    ("assets bad clientId", "get", "/api/assets/?clientId=nope", None, "json", 400, "clientId"),
    ("assets bad ordering", "get", "/api/assets/?ordering=password", None, "json", 400, "ordering"),
    (
        "assets too many tags",
        "get",
        "/api/assets/?tag=" + ",".join(f"t{i}" for i in range(11)),
        None,
        "json",
        400,
        "tag",
    ),
    (
        "assets too many categories",
        "get",
        "/api/assets/?category=" + ",".join(f"c{i}" for i in range(11)),
        None,
        "json",
        400,
        "category",
    ),
    ("asset malformed id", "get", "/api/assets/nope", None, "json", 404, "Not found"),
    ("asset unknown id", "get", f"/api/assets/{NIL}", None, "json", 404, "matches"),
    ("assets by POST", "post", "/api/assets/", {}, "json", 405, "not allowed"),
]


@pytest.mark.parametrize("name,method,path,body,kind,status,word", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_a_named_4xx_and_creates_nothing(tenant, outsider, name, method, path, body, kind, status, word):
    foreign_job = make_job(outsider)
    done_job = make_job(tenant, status="completed")
    fill = {
        "other": outsider.client.pk,
        "own": tenant.client.pk,
        "foreign_job": foreign_job.pk,
        "done_job": done_job.pk,
    }
    path = path.format(**fill)
    if isinstance(body, dict):
        body = {k: (v.format(**fill) if isinstance(v, str) else v) for k, v in body.items()}
    before = _state()
    call = getattr(tenant.api, method)
    if body is None:
        response = call(path)
    elif kind == "json":
        response = call(path, json.dumps(body), content_type="application/json")
    elif kind == "multipart":
        response = call(path, body, format="multipart")
    elif kind == "xml":
        response = call(path, body, content_type="application/xml")
    else:
        response = call(path, body, content_type="application/json")
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert word.lower() in response.content.decode().lower()
    assert _state() == before


WEBHOOK_CASES = [
    ("not json", "{nope", 400),
    ("a list", "[1, 2]", 400),
    ("no id", json.dumps({"status": "RUNNING"}), 400),
    ("unknown status", json.dumps({"id": "t1", "status": "EXPLODED"}), 400),
    ("status as number", json.dumps({"id": "t1", "status": 3}), 400),
]


@pytest.mark.parametrize("name,body,status", WEBHOOK_CASES, ids=[c[0] for c in WEBHOOK_CASES])
def test_signed_but_malformed_webhook_bodies_are_400_and_stored_nowhere(db, client, webhook_secret, name, body, status):
    response = client.post(
        "/api/image-to-video/webhook", body, content_type="application/json", **signed_headers(webhook_secret, body)
    )
    assert response.status_code == status and "task" in response.json()["detail"].lower()
    assert WebhookEvent.objects.count() == 0


SOCKET_CASES = [
    ("forged ticket", "?ticket=abc.def.ghi", 4401),
    ("empty ticket", "?ticket=", 4401),
    ("unknown token", "?token=0123456789abcdef", 4401),
    ("no credentials", "", 4401),
]


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("name,query,code", SOCKET_CASES, ids=[c[0] for c in SOCKET_CASES])
async def test_bad_socket_credentials_are_turned_away(make_tenant, name, query, code):
    from asgiref.sync import sync_to_async
    from channels.testing.websocket import WebsocketCommunicator

    from airwave.asgi import application

    owner = await sync_to_async(make_tenant)("Owner")
    communicator = WebsocketCommunicator(
        application,
        f"/ws/image-to-video/clients/{owner.client.pk}/{query}",
        headers=[(b"origin", b"http://127.0.0.1:8000")],
    )
    await communicator.connect()
    message = await communicator.receive_output(timeout=3)
    assert message["type"] == "websocket.close" and message["code"] == code
    await communicator.disconnect()
