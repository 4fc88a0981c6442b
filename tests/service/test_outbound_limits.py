"""Outbound webhooks cannot hold a worker: a deadline per attempt, a capped reply, one attempt in flight per
delivery, a few per client. Receivers are real sockets on loopback that misbehave on purpose."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from django.utils import timezone

from image_to_video import bounded_http
from image_to_video.models import WebhookDelivery
from image_to_video.services.outbound import delivery_attempt
from tests.conftest import eventually


class RawReceiver:
    """A socket server whose every connection is answered by ``behaviour(conn)`` in its own thread."""

    def __init__(self, behaviour) -> None:
        self.behaviour = behaviour
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.requests = 0
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with self.lock:
            self.requests += 1
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            _read_request(conn)
            self.behaviour(conn)
        except OSError:
            pass
        finally:
            with self.lock:
                self.in_flight -= 1
            conn.close()

    def close(self) -> None:
        self.sock.close()


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")
    )
    while len(body) < length:
        body += conn.recv(65536)


def attempt(delivery_id):
    """``delivery_attempt`` on a thread of a test's own: its database connection goes back to the pool."""
    try:
        return delivery_attempt(delivery_id)
    finally:
        connections.close_all()


def ok(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def outbound(app_settings):
    app_settings(OUTBOUND_WEBHOOK_ALLOW_PRIVATE=True, OUTBOUND_WEBHOOK_DEADLINE=1.5, WORKER="in-process")


def _delivery(tenant, url: str) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        webhook_id=f"msg_{uuid.uuid4().hex}",
        client=tenant.client,
        event="job.completed",
        url=url,
        payload={"type": "job.completed"},
        next_retry_at=timezone.now(),
    )


@pytest.mark.django_db(transaction=True)
def test_a_trickling_receiver_is_cut_off_at_the_deadline(outbound, tenant):
    """One byte every 0.3 s would take a minute to answer; the attempt ends at its 1.5 s deadline."""

    def trickle(conn):
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n" * 10:
            conn.sendall(bytes([byte]))
            time.sleep(0.3)

    receiver = RawReceiver(trickle)
    delivery = _delivery(tenant, receiver.url)
    started = time.monotonic()
    done = delivery_attempt(delivery.pk)
    took = time.monotonic() - started
    receiver.close()
    assert done is not None and done.last_error == "timed out" and done.delivered_at is None
    assert done.next_retry_at is not None, "a timeout is retried later"
    assert took < 1.5 + 1.0, f"the attempt took {took:.1f} s against a 1.5 s deadline"
    assert WebhookDelivery.objects.get(pk=delivery.pk).claimed_until is None


@pytest.mark.django_db(transaction=True)
def test_a_huge_reply_is_not_read_past_the_cap(outbound, tenant, app_settings):
    """A receiver offering 300 MB gets to send only what the sockets buffer before the call hangs up."""
    app_settings(OUTBOUND_WEBHOOK_REPLY_LIMIT=64 * 1024)
    sent = {"bytes": 0}

    def huge(conn):
        conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 314572800\r\n\r\n")
        chunk = b"x" * 65536
        for _ in range(300 * 16):
            conn.sendall(chunk)
            sent["bytes"] += len(chunk)

    receiver = RawReceiver(huge)
    done = delivery_attempt(_delivery(tenant, receiver.url).pk)
    eventually(lambda: receiver.in_flight == 0, 5, "the receiver sees the connection closed")
    receiver.close()
    assert done.last_status == 500 and done.last_error.startswith("HTTP 500: xxx")
    assert len(done.last_error) <= len("HTTP 500: ") + 200
    assert sent["bytes"] < 32 * 1024 * 1024, f"{sent['bytes']} bytes of the reply were taken"


@pytest.mark.django_db(transaction=True)
def test_a_delivery_is_never_in_flight_twice(outbound, tenant):
    """Four workers handed the same delivery at once (a repeat message, the sweep): one call is made."""

    def slow(conn):
        time.sleep(0.5)
        ok(conn)

    receiver = RawReceiver(slow)
    delivery = _delivery(tenant, receiver.url)
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: attempt(delivery.pk), range(4)))
    receiver.close()
    assert receiver.requests == 1
    assert sum(o is not None for o in outcomes) == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).delivered_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_client_has_a_few_attempts_in_flight_and_others_are_not_held(outbound, tenant, outsider, app_settings):
    """Client A's receiver hangs; at most two of its six deliveries are in flight, the others wait holding no
    worker, and client B's delivery goes through at once. When A's receiver answers, every delivery lands."""
    from image_to_video import dispatch

    app_settings(OUTBOUND_WEBHOOKS_IN_FLIGHT_PER_CLIENT=2, OUTBOUND_WEBHOOK_DEADLINE=10)
    release = threading.Event()

    def hang(conn):
        release.wait(10)
        ok(conn)

    stuck, fine = RawReceiver(hang), RawReceiver(ok)
    a = [_delivery(tenant, stuck.url) for _ in range(6)]
    with ThreadPoolExecutor(6) as pool:
        attempts = [pool.submit(attempt, d.pk) for d in a]
        eventually(lambda: stuck.in_flight >= 2 and sum(f.done() for f in attempts) >= 4, 5, "two in flight")
        b = delivery_attempt(_delivery(outsider, fine.url).pk)
        assert b is not None and b.delivered_at is not None, "another client's delivery is not held up"
        waiting = sum(f.result() is None for f in attempts if f.done())
        assert waiting == 4, "four of A's deliveries wait their turn without a worker"
        release.set()
    dispatch.wait_idle()
    eventually(
        lambda: not WebhookDelivery.objects.filter(client=tenant.client, delivered_at__isnull=True).exists(),
        10,
        "A's waiting deliveries sent as places freed",
    )
    stuck.close()
    fine.close()
    assert stuck.most_in_flight == 2 and stuck.requests == 6


def test_urls_that_may_not_be_called_are_refused_before_connecting():
    with pytest.raises(bounded_http.Refused, match="private"):
        bounded_http.post("https://localhost/x", b"{}", {}, deadline=1, reply_limit=10)
    with pytest.raises(bounded_http.Refused, match="https"):
        bounded_http.post("http://example.com/x", b"{}", {}, deadline=1, reply_limit=10)
