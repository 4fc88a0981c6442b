"""Faults with real processes: each case ends with every job final and exactly one asset per completed job.

Hosts (web, worker1, worker2, beat) share only PostgreSQL, Redis and S3; each has
its own UPLOAD_DIR. Leases are 4 s and beat sweeps every 2 s here (30 s and 15 s
by default), so recovery is quick enough to watch.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from statistics import median

import pytest
import requests
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from assets.models import Asset
from assets.storage import files_storage as default_storage
from image_to_video.models import Job
from tests.conftest import generate_body
from tests.faults.cluster import Cluster, Host, wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]
GENERATE = "/api/image-to-video/generate"
LONG = {"width": 1280, "height": 720, "duration": 8}  # a few seconds of rendering: time to strike
SMALL = {"width": 128, "height": 128, "duration": 1}


def submit(cluster: Cluster, token: str, key: str | None = None, timeout: float = 30, **fields) -> requests.Response:
    headers = {"Authorization": f"Token {token}"}
    if key:
        headers["Idempotency-Key"] = key
    web = next(h for h in cluster.hosts if h.name == "web")
    return requests.post(web.base_url + GENERATE, json=generate_body(**fields), headers=headers, timeout=timeout)


def settle(job_ids, timeout: float = 120) -> list[Job]:
    """Wait until every job is final and every completed one has its asset."""

    def done():
        jobs = list(Job.objects.filter(pk__in=job_ids).select_related("asset"))
        final = len(jobs) == len(job_ids) and all(j.is_final for j in jobs)
        filed = all(j.asset_id for j in jobs if j.status == "completed")
        return jobs if final and filed else None

    return wait_until(done, timeout, f"{len(job_ids)} jobs settled")


def assert_one_asset_each(jobs: list[Job]) -> None:
    for job in jobs:
        assert job.status == "completed", (job.pk, job.status, job.error_code, job.error_message)
        assert Asset.objects.filter(origin=f"image_to_video.job:{job.pk}").count() == 1
        assert default_storage.exists(job.asset.file.name)


def running_on(cluster: Cluster, job_id) -> Host:
    """The worker host whose log says it is rendering the job."""
    return wait_until(
        lambda: next((h for h in workers(cluster) if f"job={job_id} rendering" in h.text()), None),
        30,
        f"a worker rendering {job_id}",
    )


def workers(cluster: Cluster) -> list[Host]:
    return [h for h in cluster.hosts if h.name.startswith("worker") and h.alive()]


def partials(host: Host) -> list:
    return list((host.upload_dir / "renders").glob(".partial-*"))


def replace(cluster: Cluster, host: Host) -> Host:
    """The host comes back (a new worker process on the same UPLOAD_DIR)."""
    for child in host.children():
        try:
            os.kill(child, signal.SIGKILL)
        except ProcessLookupError:
            pass
    host.proc.wait(timeout=30)
    cluster.hosts.remove(host)
    return cluster.worker(host.name, **host.worker_options)


def test_three_hosts_share_nothing_but_database_broker_and_storage(cluster, make_tenant):
    tenants = [make_tenant() for _ in range(4)]  # 5 jobs each: under the active-job limit (6 here)
    ids = []
    for i in range(20):
        tenant = tenants[i % 4]
        provider = "runway" if i % 4 == 0 else "local"
        response = submit(cluster, tenant.token, provider=provider, motionType="pan", motionDirection="left", **SMALL)
        assert response.status_code == 202, response.text
        ids.append(response.json()["jobId"])
    jobs = settle(ids)
    call_command("reconcile_assets")
    assert_one_asset_each(settle(ids))
    assert {j.provider for j in jobs} == {"local", "runway"}
    for host in workers(cluster):
        assert "job=" in host.text(), f"{host.name} took part"
        assert not list((host.upload_dir / "sources").glob("*")), "sources are scratch, removed after use"
    assert not any("no such file" in (j.error_message or "") for j in jobs)


@pytest.mark.parametrize("victim", ["main", "child"])
def test_a_worker_killed_mid_render_is_replaced_within_two_minutes(cluster, make_tenant, victim):
    tenant = make_tenant()
    job_id = submit(cluster, tenant.token, **LONG).json()["jobId"]
    host = running_on(cluster, job_id)
    wait_until(lambda: Job.objects.get(pk=job_id).progress >= 5, 30, "the render under way")
    killed_at = time.monotonic()
    if victim == "main":
        host.kill(signal.SIGKILL)
        for child in host.children():  # the whole machine gone: its render dies with it
            os.kill(child, signal.SIGKILL)
    else:
        for child in host.children():
            os.kill(child, signal.SIGKILL)
    [job] = settle([job_id], timeout=120)
    assert time.monotonic() - killed_at < 120
    assert_one_asset_each([job])
    assert job.attempts == 2, "rendered again after the kill"
    survivor_log = "".join(h.text() for h in workers(cluster))
    assert f"job={job_id} rendering with local (attempt 2)" in survivor_log
    if victim == "main":
        host = replace(cluster, host)
    wait_until(lambda: not partials(host), 30, "the killed render's partial file removed")


def test_sigterm_mid_render_hands_the_job_back_to_another_worker(cluster, make_tenant):
    """What an autoscaler scaling down sends: the render gets its grace (1 s here), then the job is queued
    again at once, not when its lease runs out, and another worker renders it to one asset."""
    tenant = make_tenant()
    job_id = submit(cluster, tenant.token, **LONG).json()["jobId"]
    host = running_on(cluster, job_id)
    wait_until(lambda: Job.objects.get(pk=job_id).progress >= 5, 30, "the render under way")
    host.kill(signal.SIGTERM)
    signalled = time.monotonic()
    wait_until(lambda: Job.objects.get(pk=job_id).attempts == 2, 30, "the job taken by another worker")
    assert time.monotonic() - signalled < 10, "handed back at once, not after the lease"
    host.proc.wait(timeout=60)  # the stopping worker exits once its render is handed back
    assert "the job goes back to the queue" in host.text()
    assert not partials(host), "the partial render is removed"
    [job] = settle([job_id], timeout=120)
    assert_one_asset_each([job])
    replace(cluster, host)


def test_slow_and_huge_webhook_receivers_hold_up_no_one(cluster, make_tenant):
    """Client A's receivers trickle one byte a second or answer 300 MB; client B's jobs are not held up, and
    the io worker stays within 100 MB of its size."""
    import socket

    from image_to_video.models import ClientWebhookSettings, WebhookDelivery

    def serve(behaviour):
        listener = socket.create_server(("127.0.0.1", 0))

        def accept():
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                threading.Thread(target=lambda c=conn: _answer(c, behaviour), daemon=True).start()

        threading.Thread(target=accept, daemon=True).start()
        return listener, f"http://127.0.0.1:{listener.getsockname()[1]}/hook"

    def _answer(conn, behaviour):
        try:
            conn.recv(65536)
            behaviour(conn)
        except OSError:
            pass
        finally:
            conn.close()

    def trickle(conn):
        for byte in b"HTTP/1.1 200 OK\r\n" * 20:
            conn.sendall(bytes([byte]))
            time.sleep(1)

    def huge(conn):
        conn.sendall(b"HTTP/1.1 500 Oops\r\nContent-Length: 314572800\r\n\r\n")
        for _ in range(4800):
            conn.sendall(b"x" * 65536)

    io = next(h for h in cluster.hosts if h.name == "io")
    b = make_tenant()
    baseline = _time_to_asset(cluster, b, SMALL)
    rss_before = _rss_mb(io.proc.pid)
    slow_listener, slow_url = serve(trickle)
    huge_listener, huge_url = serve(huge)
    a = a2 = None
    try:
        a, a2 = make_tenant(), make_tenant()
        ClientWebhookSettings.objects.update_or_create(client=a.client, defaults={"webhook_url": slow_url})
        ClientWebhookSettings.objects.update_or_create(client=a2.client, defaults={"webhook_url": huge_url})
        flood = [submit(cluster, t.token, **SMALL).json()["jobId"] for t in (a, a, a, a2, a2, a2)]
        wait_until(lambda: WebhookDelivery.objects.filter(job__in=flood).count() >= 3, 60, "the first calls")
        during = _time_to_asset(cluster, b, SMALL)  # while A's calls are under way
        rss_after = _rss_mb(io.proc.pid)
        settle(flood)

        def attempted(tenant) -> bool:
            return WebhookDelivery.objects.filter(client=tenant.client, attempts__gt=0).count() >= 3

        wait_until(lambda: attempted(a) and attempted(a2), 60, "three attempts each")
        slow = WebhookDelivery.objects.filter(client=a.client).exclude(attempts=0)
        assert slow and all(d.last_error == "timed out" for d in slow)
        big = WebhookDelivery.objects.filter(client=a2.client).exclude(attempts=0)
        assert big and all(d.last_status == 500 and len(d.last_error) < 300 for d in big)
    finally:
        # Give the flood's deliveries up and let the attempts in flight end (within their 3 s deadline): the
        # io worker must not be retrying them while the test database is flushed (a TRUNCATE deadlocks with
        # a claim touching two tables).
        flooded = WebhookDelivery.objects.filter(client__in=[t.client for t in (a, a2) if t is not None])
        flooded.update(next_retry_at=None)
        wait_until(lambda: not flooded.filter(claimed_until__gt=timezone.now()).exists(), 30, "attempts ended")
        slow_listener.close()
        huge_listener.close()
    assert during <= baseline + 5, (
        f"B's job took {during:.1f} s while A's receivers misbehaved ({baseline:.1f} s before)"
    )
    assert rss_after - rss_before < 100, f"the io worker grew by {rss_after - rss_before:.0f} MB"


def _time_to_asset(cluster: Cluster, tenant, fields) -> float:
    started = time.monotonic()
    job_id = submit(cluster, tenant.token, **fields).json()["jobId"]
    assert_one_asset_each(settle([job_id], timeout=120))
    return time.monotonic() - started


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (a threaded worker has none), in MB."""
    line = next(x for x in open(f"/proc/{pid}/status") if x.startswith("VmRSS:"))
    return int(line.split()[1]) / 1024


def test_broker_outage_loses_no_job(cluster, make_tenant):
    tenant, other = make_tenant(), make_tenant()
    # Two long jobs keep both workers busy, so three more wait in Redis...
    busy = [submit(cluster, other.token, **LONG).json()["jobId"] for _ in range(2)]
    waiting = [submit(cluster, other.token, **SMALL).json()["jobId"] for _ in range(3)]
    wait_until(lambda: Job.objects.filter(pk__in=busy, status="processing").count() == 2, 30, "both workers busy")
    # ...and Redis dies without persistence: the queued turns are gone.
    cluster.redis.stop()
    during = []
    for _ in range(3):
        started = time.monotonic()
        response = submit(cluster, tenant.token, timeout=10, **SMALL)
        assert time.monotonic() - started < 5, "answered within 5 s while Redis is down"
        assert response.status_code in (202, 503), response.text
        if response.status_code == 202:
            during.append(response.json()["jobId"])
        else:
            assert int(response.headers["Retry-After"]) > 0
    time.sleep(2)
    cluster.redis.start()
    jobs = settle(busy + waiting + during, timeout=120)
    assert_one_asset_each(jobs)
    assert len(during) == 3, "the job row is the outbox: submits are accepted while the broker is down"


def test_storage_outage_while_jobs_finish_and_while_submitting(cluster, make_tenant):
    tenant = make_tenant()
    count = Job.objects.count()
    cluster.s3.stop()
    try:
        refused = submit(cluster, tenant.token, **SMALL)
    finally:
        cluster.s3.start()
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert Job.objects.count() == count, "no job, no row"

    ids = [submit(cluster, tenant.token, **{**LONG, "duration": 4}).json()["jobId"] for _ in range(2)]
    hosts = [running_on(cluster, job_id) for job_id in ids]
    # Progress means the source was fetched and frames are being made ("rendering" is logged before the fetch).
    wait_until(lambda: Job.objects.filter(pk__in=ids, progress__gte=3).count() == 2, 30, "both renders under way")
    cluster.s3.stop()  # the sources are fetched; the videos cannot be stored
    try:
        wait_until(lambda: Job.objects.filter(pk__in=ids, status="completed").count() == 2, 60, "both rendered")
        assert not Asset.objects.filter(job__pk__in=ids).exists()
        gone = hosts[0]  # the worker with one of the only copies dies before storage returns
        gone.kill(signal.SIGKILL)
        for child in gone.children():
            os.kill(child, signal.SIGKILL)
    finally:
        cluster.s3.start()
    assert_one_asset_each(settle(ids, timeout=120))
    replace(cluster, gone)


def test_postgres_backends_terminated_during_a_burst(cluster, make_tenant):
    tenants = [make_tenant() for _ in range(6)]  # 5 jobs each, under the active-job limit
    statuses: list[int] = []
    terminated: list[int] = []

    def one(i: int) -> str:
        key = f"burst-{uuid.uuid4()}"
        for _ in range(20):
            response = submit(cluster, tenants[i % 6].token, key=key, **SMALL)
            statuses.append(response.status_code)
            if response.status_code == 202:
                return response.json()["jobId"]
            assert response.status_code == 503, response.text
            time.sleep(0.2)
        raise AssertionError("never accepted")

    def terminator():
        for _ in range(4):
            time.sleep(0.3)
            with connection.cursor() as cursor:
                cursor.execute(  # every connection of the web and worker hosts
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND application_name = 'airwave-cluster'"
                )
                terminated.append(cursor.rowcount)

    killer = threading.Thread(target=terminator)
    killer.start()
    with ThreadPoolExecutor(6) as pool:
        ids = list(pool.map(one, range(30)))
    killer.join()
    assert len(terminated) == 4 and sum(terminated) > 0
    assert 500 not in statuses
    assert Job.objects.filter(pk__in=ids).count() == 30 == len(set(ids))
    assert_one_asset_each(settle(ids, timeout=150))


def test_limits_and_fairness(cluster, make_tenant):
    a, b = make_tenant(), make_tenant()
    a_ids = []
    for _ in range(6):  # MAX_ACTIVE_JOBS_PER_CLIENT is 6 here
        response = submit(cluster, a.token, **{**LONG, "duration": 3})
        assert response.status_code == 202, response.text
        a_ids.append(response.json()["jobId"])
    over = submit(cluster, a.token, **SMALL)
    assert over.status_code == 429 and int(over.headers["Retry-After"]) > 0
    assert "unfinished jobs" in over.json()["detail"]
    b_id = submit(cluster, b.token, **{**LONG, "duration": 3}).json()["jobId"]
    jobs = {j.pk: j for j in settle([*a_ids, b_id], timeout=150)}
    assert_one_asset_each(list(jobs.values()))
    a_render = median((jobs[uuid.UUID(i)].completed_at - jobs[uuid.UUID(i)].started_at).total_seconds() for i in a_ids)
    b_job = jobs[uuid.UUID(b_id)]
    b_wait = (b_job.started_at - b_job.created_at).total_seconds()
    a_done_after_b = sum(1 for i in a_ids if jobs[uuid.UUID(i)].started_at > b_job.started_at)
    assert b_wait <= 1.5 * a_render + 1, f"B waited {b_wait:.1f}s; an A render takes {a_render:.1f}s"
    assert a_done_after_b >= 3, "B's job went ahead of A's backlog"


def test_outbound_webhooks_survive_a_broker_outage_and_a_killed_worker(cluster, make_tenant):
    """Every event of every job reaches the receiver exactly once per webhook-id, signed, whatever dies."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from standardwebhooks.webhooks import Webhook

    from image_to_video.models import WebhookDelivery
    from image_to_video.services.outbound import client_secret_rotate

    received: list[tuple[str, dict, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            received.append((self.headers["webhook-id"], dict(self.headers), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        tenant = make_tenant()
        secret = client_secret_rotate(tenant.client)
        long_id = submit(cluster, tenant.token, webhook=url, **LONG).json()["jobId"]
        small = [submit(cluster, tenant.token, webhook=url, **SMALL).json()["jobId"] for _ in range(3)]
        host = running_on(cluster, long_id)
        wait_until(lambda: Job.objects.get(pk=long_id).progress >= 5, 30, "the long render under way")
        cluster.redis.stop()  # queued turns and webhook messages are lost with it
        host.kill(signal.SIGKILL)
        for child in host.children():
            os.kill(child, signal.SIGKILL)
        time.sleep(2)
        cluster.redis.start()
        jobs = settle([long_id, *small], timeout=150)
        assert_one_asset_each(jobs)
        expected = {(str(j.pk), e) for j in jobs for e in ("job.completed", "asset.created")}
        wait_until(
            lambda: expected <= {_job_event(body) for _, _, body in received}, 60, "every job's events delivered"
        )
        ids = [webhook_id for webhook_id, _, _ in received]
        assert len(ids) == len(set(ids)), "no delivery arrived twice"
        for _, headers, body in received:
            Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})
        deliveries = WebhookDelivery.objects.filter(job__in=jobs)
        assert all(d.state == "delivered" for d in deliveries if d.event != "job.progress")
        replace(cluster, host)
    finally:
        server.shutdown()


def _job_event(body: str) -> tuple[str, str]:
    import json

    payload = json.loads(body)
    job_id = (
        payload["job"]["jobId"] if "job" in payload else str(Job.objects.get(asset_id=payload["asset"]["assetId"]).pk)
    )
    return job_id, payload["type"]


def test_thirty_waiting_requests_hold_no_database_connections(cluster, make_tenant):
    """30 ``Prefer: wait`` requests at once on a web with a pool of 4 connections: while they wait, the web
    holds no more than its pool, and another user's GET job still answers within a second."""
    db = connection.settings_dict
    web = cluster.web(
        "web-waits",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}?application_name=airwave-waits",
        DATABASE_POOL_MAX_SIZE="4",
        PREFER_WAIT_PER_USER="40",
        MAX_ACTIVE_JOBS_PER_CLIENT="40",
    )
    tenant, other = make_tenant(), make_tenant()
    [theirs] = settle([submit(cluster, other.token, **SMALL).json()["jobId"]])

    def wait_for_one(_: int) -> requests.Response:
        headers = {"Authorization": f"Token {tenant.token}", "Prefer": "wait=8"}
        return requests.post(web.base_url + GENERATE, json=generate_body(**LONG), headers=headers, timeout=60)

    def held() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'airwave-waits'")
            return cursor.fetchone()[0]

    with ThreadPoolExecutor(30) as pool:
        answers = [pool.submit(wait_for_one, i) for i in range(30)]
        wait_until(lambda: Job.objects.filter(user=tenant.user).count() == 30, 30, "30 jobs made")
        most = max(held() for _ in range(10))
        started = time.monotonic()
        mine = requests.get(
            f"{web.base_url}/api/image-to-video/jobs/{theirs.pk}",
            headers={"Authorization": f"Token {other.token}"},
            timeout=10,
        )
        answered_in = time.monotonic() - started
        statuses = [a.result().status_code for a in answers]
    for job in Job.objects.filter(user=tenant.user):
        requests.post(
            f"{web.base_url}/api/image-to-video/jobs/{job.pk}/cancel",
            headers={"Authorization": f"Token {tenant.token}"},
            timeout=10,
        )
    web.proc.terminate()
    assert most <= 4, f"{most} connections held by the web while 30 requests waited"
    assert mine.status_code == 200 and answered_in < 1.0, f"another user's GET took {answered_in:.2f} s"
    assert set(statuses) <= {200, 202} and statuses.count(202) >= 25
