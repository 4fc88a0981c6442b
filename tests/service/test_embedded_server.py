"""The embedded service over real HTTP: uvicorn, SQLite, local files, the in-process worker."""

import time

import pytest
import requests

from tests.conftest import ROOT, embedded_stack, eventually, generate_body, stop
from tests.videos import probe_video


@pytest.fixture
def embedded_server(tmp_path):
    proc, base, owners = embedded_stack(tmp_path, ("Acme", "Other"))
    yield base, owners
    stop(proc)


def test_post_poll_download_on_embedded_defaults(embedded_server):
    base, (acme, other) = embedded_server
    auth = {"Authorization": f"Token {acme['token']}"}
    body = generate_body(motionType="pan", motionDirection="down")
    response = requests.post(f"{base}/api/image-to-video/generate", json=body, headers=auth, timeout=30)
    assert response.status_code == 202, response.text
    job_id = response.json()["jobId"]

    def filed():
        job = requests.get(f"{base}/api/image-to-video/jobs/{job_id}", headers=auth, timeout=10).json()
        return job if job["status"] == "completed" and job["assetId"] else None

    job = eventually(filed, 60, "the job filed")
    assert job["videoUrl"] == f"/api/assets/{job['assetId']}/file"
    video = requests.get(base + job["videoUrl"], headers=auth, timeout=10)
    assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
    path = ROOT / "var" / "embedded-test.mp4"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(video.content)
    try:
        info = probe_video(path)
        assert (info.width, info.height, info.frames) == (160, 96, 30)
    finally:
        path.unlink()
    # The other client's member sees neither the job nor the file.
    other_auth = {"Authorization": f"Token {other['token']}"}
    assert requests.get(f"{base}/api/image-to-video/jobs/{job_id}", headers=other_auth, timeout=10).status_code == 404
    assert requests.get(base + job["videoUrl"], headers=other_auth, timeout=10).status_code == 404
    assert requests.get(base + job["videoUrl"], timeout=10).status_code in (401, 403)


def test_oversized_bodies_are_refused_before_anything_reads_them(embedded_server):
    base, (acme, _) = embedded_server
    auth = {"Authorization": f"Token {acme['token']}"}
    started = time.monotonic()
    declared = requests.post(f"{base}/api/image-to-video/webhook", data=b"{" * (20 * 1024 * 1024), timeout=30)
    assert declared.status_code == 413 and "larger than 65536 bytes" in declared.json()["detail"]

    def streamed():  # chunked: no Content-Length to go by, so the bytes are counted
        for _ in range(17):
            yield b"x" * (1024 * 1024)

    counted = requests.post(f"{base}/api/image-to-video/generate", data=streamed(), headers=auth, timeout=30)
    assert counted.status_code == 413
    small = requests.post(f"{base}/api/image-to-video/ws-ticket", data=b"x" * (300 * 1024), headers=auth, timeout=30)
    assert small.status_code == 413, "every other route has a small limit"
    assert time.monotonic() - started < 20
    assert requests.get(f"{base}/healthz", timeout=5).ok, "the server is fine afterwards"


def _peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_twenty_decompression_bombs_at_once_leave_the_server_small_and_answering(tmp_path):
    import base64
    import io
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (6000, 6000)).save(buf, "PNG")  # 36 megapixels in a few hundred KB
    bomb = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    assert len(buf.getvalue()) < 500_000
    proc, base, (bomber,) = embedded_stack(tmp_path, ("Bombs",))
    auth = {"Authorization": f"Token {bomber['token']}"}
    try:
        health: list[float] = []
        done = threading.Event()

        def probe():
            while not done.is_set():
                started = time.monotonic()
                assert requests.get(f"{base}/healthz", timeout=10).ok
                health.append(time.monotonic() - started)
                time.sleep(0.1)

        prober = threading.Thread(target=probe)
        prober.start()
        body = {"sourceImage": bomb, "width": 64, "height": 64, "duration": 1}
        with ThreadPoolExecutor(20) as pool:
            answers = list(
                pool.map(
                    lambda _: requests.post(f"{base}/api/image-to-video/generate", json=body, headers=auth, timeout=60),
                    range(20),
                )
            )
        done.set()
        prober.join()
        assert all(a.status_code in (202, 429) for a in answers), [a.status_code for a in answers]
        assert health and max(health) < 5, "other requests are answered meanwhile"
        assert _peak_rss_mb(proc.pid) < 1024
    finally:
        stop(proc)


def test_no_token_or_ticket_reaches_the_servers_log(embedded_server, tmp_path):
    """Sockets opened with ``?token=`` and ``?ticket=`` (accepted, and refused for another client) leave the
    path in uvicorn's log, never the credential."""
    import asyncio

    import websockets

    base, (acme, other) = embedded_server
    auth = {"Authorization": f"Token {acme['token']}"}
    ticket = requests.post(
        f"{base}/api/image-to-video/ws-ticket", json={"clientId": acme["clientId"]}, headers=auth, timeout=10
    ).json()["ticket"]
    ws = base.replace("http://", "ws://")

    async def connect(client_id: str, query: str) -> None:
        try:
            async with websockets.connect(f"{ws}/ws/image-to-video/clients/{client_id}/?{query}", open_timeout=10):
                pass
        except Exception:  # refused (4403 or 403): what is logged is the point
            pass

    async def scenario() -> None:
        await connect(acme["clientId"], f"token={acme['token']}")
        await connect(acme["clientId"], f"ticket={ticket}")
        await connect(other["clientId"], f"token={acme['token']}")

    asyncio.run(scenario())
    log = (tmp_path / "server.log").read_text()
    assert "WebSocket /ws/image-to-video/clients/" in log, "the socket lines are there"
    assert acme["token"] not in log and ticket not in log
