"""End to end in a host platform that installed the wheel (run by scripts/host-test.sh, in the host's venv).

Real processes: the host's migrations and checks, the host's own Celery worker and beat, uvicorn serving
the host's ASGI app; PostgreSQL and Redis of this machine. Each check prints a line; any failure exits 1.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import requests
import websockets
from PIL import Image

HERE = Path(__file__).resolve().parent
PY = sys.executable
LOGS = Path(os.environ.get("HOST_LOGS", tempfile.mkdtemp(prefix="host-logs-")))
results: list[tuple[str, bool, str]] = []
OWN_TENANTS = os.environ.get("DJANGO_SETTINGS_MODULE", "").endswith("settings_orgs")


def check(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    def run(fn: Callable[[], None]) -> Callable[[], None]:
        try:
            fn()
            results.append((name, True, ""))
            print(f"ok   {name}", flush=True)
        except Exception as exc:  # every failure is reported, then the run fails
            results.append((name, False, f"{type(exc).__name__}: {exc}"))
            print(f"FAIL {name}: {type(exc).__name__}: {exc}", flush=True)
        return fn

    return run


def manage(*args: str, env: dict | None = None) -> str:
    done = subprocess.run(
        [PY, "manage.py", *args], cwd=HERE, env=env or os.environ, capture_output=True, text=True, timeout=300
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)}: {done.stdout}\n{done.stderr}")
    return done.stdout


def start(name: str, *args: str) -> subprocess.Popen:
    log = open(LOGS / f"{name}.log", "w")
    return subprocess.Popen(args, cwd=HERE, stdout=log, stderr=subprocess.STDOUT)


def wait_for(what: str, condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def log_text(name: str) -> str:
    return (LOGS / f"{name}.log").read_text(errors="replace")


def photo() -> str:
    rng = np.random.default_rng(3)
    pixels = rng.integers(30, 220, (120, 160, 3), dtype=np.uint8).repeat(2, 0).repeat(2, 1)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def login(base: str, path: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + path, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        base + path,
        data={"csrfmiddlewaretoken": token, "username": email, "password": password},
        headers={"Referer": base + path},
        timeout=10,
        allow_redirects=False,
    )
    assert answer.status_code == 302 and "sessionid" in session.cookies, f"login failed: {answer.status_code}"
    return session


def main() -> int:
    processes: list[subprocess.Popen] = []
    state: dict = {}

    @check("manage.py check: no errors with only the adoption lines; no migrations to make under its settings")
    def _() -> None:
        out = manage("check")
        assert "no issues" in out, out
        # A platform's CI runs this: the apps' models must not drift under the host's settings.
        out = manage("makemigrations", "--check", "--dry-run")
        assert "No changes detected" in out, out

    @check("a host missing a piece is told which, with the system check id")
    def _() -> None:
        env = dict(os.environ, HOST_DROP_APP="django_filters")
        done = subprocess.run([PY, "manage.py", "check"], cwd=HERE, env=env, capture_output=True, text=True)
        assert done.returncode != 0 and "image_to_video.E001" in done.stderr and "django_filters" in done.stderr

    @check(
        "migrate; tenants and e-mail-only users "
        + ("(its own organisations, UUID user keys)" if OWN_TENANTS else "(tenancy, integer user keys)")
    )
    def _() -> None:
        manage("migrate", "--noinput", "-v0")
        make = "make_org" if OWN_TENANTS else "create_client"  # no tenancy app with its own tenants
        state["alice"] = json.loads(manage(make, "Acme", "--user", "alice@example.com", "--password", "pw-Alice-1"))
        state["bob"] = json.loads(manage(make, "Other", "--user", "bob@example.com", "--password", "pw-Bob-22"))
        if OWN_TENANTS:
            assert state["alice"]["clientId"].isdigit(), state["alice"]  # integer keys, strings on the wire
            assert len(state["alice"]["userId"]) == 36, state["alice"]  # its users have UUID keys
        else:
            assert isinstance(state["alice"]["userId"], int), state["alice"]
        rotated = json.loads(manage("rotate_token", "bob@example.com"))
        assert rotated["userId"] == state["bob"]["userId"] and rotated["token"] != state["bob"]["token"], rotated
        state["bob"]["token"] = rotated["token"]
        env = dict(os.environ, DJANGO_SUPERUSER_PASSWORD="pw-Admin-333")
        manage("createsuperuser", "--noinput", "--email", "admin@example.com", env=env)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    processes.append(
        start("worker", PY, "-m", "celery", "-A", "platform_site", "worker", "--pool", "solo", "-l", "info")
    )
    processes.append(
        start(
            "beat", PY, "-m", "celery", "-A", "platform_site", "beat", "-l", "info", "-s", str(LOGS / "beat-schedule")
        )
    )
    processes.append(start("web", PY, "-m", "uvicorn", "platform_site.asgi:application", "--port", str(port)))

    try:
        wait_for("the web server", lambda: _answers(base + "/accounts/login/"))
        wait_for("the host's worker", lambda: "ready." in log_text("worker"))
        _end_to_end(base, state)
    finally:
        for proc in processes:
            proc.terminate()
        for proc in processes:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()

    passed = sum(ok for _, ok, _ in results)
    failed = len(results) - passed
    if failed:
        for name in ("web", "worker", "beat"):
            print(f"--- {name} log (last lines)\n" + "\n".join(log_text(name).splitlines()[-30:]))
    print(f"host: {passed} passed, {failed} failed")
    return 1 if failed else 0


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=1).status_code == 200
    except requests.RequestException:
        return False


def _end_to_end(base: str, state: dict) -> None:
    alice, bob = state.get("alice", {}), state.get("bob", {})
    auth = {"Authorization": f"Token {alice.get('token')}"}
    other = {"Authorization": f"Token {bob.get('token')}"}

    @check("generate (async view under ATOMIC_REQUESTS), the job runs on the host's worker; socket events")
    def _() -> None:
        ticket = requests.post(f"{base}/video/api/ws-ticket", json={"clientId": alice["clientId"]}, headers=auth)
        assert ticket.status_code == 200, ticket.text
        url = f"ws://127.0.0.1:{base.rsplit(':', 1)[1]}/ws/image-to-video/clients/{alice['clientId']}/"
        body = {"sourceImage": photo(), "motionType": "zoom", "duration": 1, "width": 160, "height": 96}

        async def watch() -> list[dict]:
            seen: list[dict] = []
            async with websockets.connect(f"{url}?ticket={ticket.json()['ticket']}", origin=base) as ws:
                answer = await asyncio.to_thread(
                    requests.post, f"{base}/video/api/generate", json=body, headers=auth, timeout=30
                )
                assert answer.status_code == 202, answer.text
                state["job"] = answer.json()
                deadline = time.monotonic() + 120
                while time.monotonic() < deadline:
                    message = json.loads(await asyncio.wait_for(ws.recv(), deadline - time.monotonic()))
                    seen.append(message)
                    if message["type"] == "asset.created":
                        return seen
            raise AssertionError("no asset.created on the socket")

        seen = asyncio.run(watch())
        statuses = [m["job"]["status"] for m in seen if m["type"] == "job.updated"]
        assert "processing" in statuses and "completed" in statuses, statuses
        assert "image_to_video.tasks.run_next_job" in log_text("worker"), "the host's worker did not run the job"

    @check("the job and its asset over the API, at the host's prefixes, paginated whatever the host's defaults")
    def _() -> None:
        job = requests.get(f"{base}/video/api/jobs/{state['job']['jobId']}", headers=auth).json()
        assert job["status"] == "completed" and job["assetId"], job
        # The host's user key as it is: a number for integer keys, a string for UUID keys.
        assert job["userId"] == alice["userId"], (job["userId"], alice["userId"])
        page = requests.get(f"{base}/video/library/", headers=auth).json()
        assert page["count"] == 1 and page["results"][0]["assetId"] == job["assetId"], page
        assert page["results"][0]["userId"] == alice["userId"], page
        listing = requests.get(f"{base}/video/api/jobs/client/{alice['clientId']}", headers=auth).json()
        assert listing["count"] == 1, listing
        state["asset"] = page["results"][0]

    @check("video and poster served to members only; never under the host's MEDIA_ROOT")
    def _() -> None:
        asset = state["asset"]
        assert asset["url"] == f"/video/library/{asset['assetId']}/file", asset["url"]
        video = requests.get(base + asset["url"], headers=auth)
        assert video.status_code == 200 and video.headers["Content-Type"] == "video/mp4"
        with av.open(io.BytesIO(video.content)) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames == 30, frames
        poster = requests.get(base + asset["posterUrl"], headers=auth)
        assert poster.status_code == 200 and Image.open(io.BytesIO(poster.content)).format == "JPEG"
        for url in (asset["url"], asset["posterUrl"]):
            assert requests.get(base + url).status_code in (401, 403), "anonymous"
            assert requests.get(base + url, headers=other).status_code == 404, "another client's member"
        media_root = HERE / "public-media"
        assert not media_root.exists() or not any(p.is_file() for p in media_root.rglob("*")), "files in MEDIA_ROOT"
        name = asset["metadata"].get("jobId")
        assert requests.get(f"{base}/media/videos/{name}.mp4").status_code == 404

    @check("tenancy: another client's member sees nothing, submits nothing, subscribes to nothing")
    def _() -> None:
        job_id, client_id, asset_id = state["job"]["jobId"], alice["clientId"], state["asset"]["assetId"]
        every_route = [  # each of the apps' routes that names something of a client, at the host's prefixes
            ("get", f"/video/api/jobs/{job_id}"),
            ("get", f"/video/api/jobs/{job_id}/"),
            ("get", f"/video/api/jobs/client/{client_id}"),
            ("post", f"/video/api/jobs/{job_id}/cancel"),
            ("get", f"/video/api/jobs/{job_id}/deliveries"),
            ("post", f"/video/api/clients/{client_id}/webhook-secret"),
            ("get", f"/video/library/{asset_id}"),
            ("get", f"/video/library/{asset_id}/file"),
            ("get", f"/video/library/{asset_id}/poster"),
            ("post", f"/video/library/{asset_id}/share"),
            ("delete", f"/video/library/{asset_id}/share"),
        ]
        for method, path in every_route:
            answer = getattr(requests, method)(base + path, headers=other)
            assert answer.status_code == 404, f"{method} {path}: {answer.status_code}"
        assert requests.get(f"{base}/video/library/", headers=other).json()["count"] == 0
        # A share link made by a member plays at the host's prefix without an account, until revoked.
        shared = requests.post(f"{base}/video/library/{asset_id}/share", json={"expiresIn": 600}, headers=auth).json()
        assert shared["url"].startswith(f"{base}/video/library/shared/"), shared
        assert requests.get(shared["url"]).status_code == 200
        assert requests.delete(f"{base}/video/library/{asset_id}/share", headers=auth).status_code == 204
        assert requests.get(shared["url"]).status_code == 404
        plan = requests.post(
            f"{base}/video/api/plan", json={"sourceImage": photo(), "width": 160, "height": 96}, headers=auth
        )
        assert plan.status_code == 200 and plan.json()["cameraPath"], plan.text
        assert requests.get(f"{base}/video/library/?clientId={client_id}", headers=other).json()["count"] == 0
        assert requests.get(f"{base}/video/api/jobs/{job_id}", headers=auth).json()["status"] == "completed"
        body = {"sourceImage": photo(), "clientId": alice["clientId"], "width": 160, "height": 96, "duration": 1}
        submitted = requests.post(f"{base}/video/api/generate", json=body, headers=other)
        assert submitted.status_code in (400, 403, 404) and "clientId" in submitted.json(), submitted.text
        ticket = requests.post(f"{base}/video/api/ws-ticket", json={"clientId": alice["clientId"]}, headers=other)
        assert ticket.status_code in (400, 403, 404)
        socket_url = (
            f"ws://{base.split('//', 1)[1]}/ws/image-to-video/clients/{alice['clientId']}/?token={bob['token']}"
        )

        async def refused() -> int:
            async with websockets.connect(socket_url, origin=base) as ws:
                try:
                    await asyncio.wait_for(ws.recv(), 10)
                except websockets.ConnectionClosed as closed:
                    return closed.rcvd.code if closed.rcvd else 0
            return 0

        assert asyncio.run(refused()) == 4403
        listing = requests.get(f"{base}/video/api/jobs/client/{alice['clientId']}", headers=auth).json()
        assert listing["count"] == 1, "nothing was made in the other client"

    @check("the page at the host's prefix, with the host's routes; the host's login")
    def _() -> None:
        assert requests.get(f"{base}/studio/", allow_redirects=False).headers["Location"].startswith("/accounts/login/")
        session = login(base, "/accounts/login/", "alice@example.com", "pw-Alice-1")
        page = session.get(f"{base}/studio/")
        assert page.status_code == 200, page.status_code
        config = json.loads(
            re.search(r'<script id="config" type="application/json">(.*?)</script>', page.text).group(1)
        )
        assert config["urls"]["generate"] == "/video/api/generate" and config["urls"]["assets"] == "/video/library/"
        assert 'action="/accounts/logout/"' in page.text
        static = re.search(r'src="([^"]+app\.js)"', page.text).group(1)
        assert static.startswith("/assets-static/"), static

    @check("admin search by the e-mail user's key; the job's source image")
    def _() -> None:
        admin = login(base, "/control/login/", "admin@example.com", "pw-Admin-333")
        found = admin.get(f"{base}/control/image_to_video/job/", params={"q": "alice@example"})
        assert found.status_code == 200 and state["job"]["jobId"] in found.text
        assets = admin.get(f"{base}/control/assets/asset/", params={"q": "alice@example"})
        assert assets.status_code == 200 and state["asset"]["assetId"] in assets.text
        page = admin.get(f"{base}/control/image_to_video/job/{state['job']['jobId']}/change/")
        source = re.search(r'<img src="([^"]+/source/)"', page.text).group(1)
        assert admin.get(base + source).status_code == 200
        assert requests.get(base + source, allow_redirects=False).status_code == 302  # to the admin's login

    @check("the host's own API keeps its own defaults (admins only, no pagination)")
    def _() -> None:
        session = login(base, "/accounts/login/", "alice@example.com", "pw-Alice-1")
        assert session.get(f"{base}/host-api/things/").status_code == 403
        admin = login(base, "/control/login/", "admin@example.com", "pw-Admin-333")
        assert admin.get(f"{base}/host-api/things/").json() == [{"thing": 0}, {"thing": 1}, {"thing": 2}]

    @check("the apps' sweeps registered themselves with the host's beat (its own scheduler)")
    def _() -> None:
        print("     beat scheduler:", re.search(r"scheduler -> (\S+)", log_text("beat")).group(1))
        wait_for("a sweep sent by beat", lambda: "image_to_video.tasks.recover_jobs" in log_text("beat"), 30)
        wait_for("a sweep run by the worker", lambda: "image_to_video.tasks.recover_jobs" in log_text("worker"), 30)


if __name__ == "__main__":
    sys.exit(main())
