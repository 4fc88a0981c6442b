"""Load against the production path: ``make serve`` (uvicorn + 2 Celery workers) on PostgreSQL, Redis and S3.

Run by hand: ``.venv/bin/python bench/load.py [--jobs 200] [--in-flight 8]``. It starts
its own stack on loopback (a moto S3 server, the ``airwave_bench`` database on the
local PostgreSQL, Redis database 9, ``scripts/serve.sh`` with WORKER_CONCURRENCY=2),
makes three clients, and measures:

1. N jobs (128×128, 1 s) from the three clients: all completed, one asset each, no
   duplicates; jobs per minute; submit→asset p50/p95; POST generate and GET job
   latency (p50/p95) during the load.
2. GET job at 16 concurrent for a few seconds, beside /healthz the same way: rates
   and p99 (the goal: GET job at least 70 % of /healthz's rate, p99 < 300 ms).
3. One 1080×1080 3 s job: submit→asset time over the engine's own render time of the
   same job in this process (the goal: at most 1.15×).

During (1) it also measures what a render backlog does to everything else: each job's
completed→asset time (the job's ``completedAt`` to its asset's ``createdAt``; the goal:
p95 within 2 s with 200 renders queued), and, scraped from ``/metrics`` every half
second, the age of the oldest message in each task queue (render, io).

``--root DIR`` serves another checkout (a ``git worktree`` of an older commit) with this
script, for before/after figures from one run of the machine.

Results and method: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
SERVED = ROOT  # the checkout whose scripts/serve.sh is measured (--root)
PY = sys.executable
PHOTO = ROOT / "image_to_video" / "sample" / "astronaut.png"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def start_stack(tmp: Path, pool: int) -> tuple[dict[str, str], list[subprocess.Popen], str]:
    s3_port, web_port = free_port(), free_port()
    moto = subprocess.Popen(
        [str(ROOT / ".venv/bin/moto_server"), "-H", "127.0.0.1", "-p", str(s3_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "DROP DATABASE IF EXISTS airwave_bench"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", "CREATE DATABASE airwave_bench"],
        check=True,
        capture_output=True,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "DATABASE_", "REDIS_", "CELERY_"))},
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/airwave_bench",
        "REDIS_URL": "redis://127.0.0.1:6379/9",
        "CELERY_QUEUE": f"bench-{os.getpid()}",
        "CHANNEL_LAYER_PREFIX": f"bench-{os.getpid()}",
        "AWS_STORAGE_BUCKET_NAME": "bench",
        "AWS_S3_ENDPOINT_URL": f"http://127.0.0.1:{s3_port}",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_S3_REGION_NAME": "us-east-1",
        "AIRWAVE_VAR_DIR": str(tmp / "var"),
        "UPLOAD_DIR": str(tmp / "uploads"),
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 40,
        "MAX_ACTIVE_JOBS_PER_CLIENT": "1000",
        "GENERATE_RATE": "100000/minute",
        "WORKER_CONCURRENCY": "2",
        "PORT": str(web_port),
        "LOG_LEVEL": "WARNING",
        "DATABASE_POOL_MAX_SIZE": str(pool),
    }
    for _ in range(50):
        try:
            requests.get(env["AWS_S3_ENDPOINT_URL"], timeout=1)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    requests.put(f"{env['AWS_S3_ENDPOINT_URL']}/bench", timeout=5)
    import redis  # the queues keep their names from run to run: start from an empty broker database

    redis.Redis.from_url(env["REDIS_URL"]).flushdb()
    if SERVED != ROOT and not (SERVED / ".venv").exists():
        (SERVED / ".venv").symlink_to(ROOT / ".venv")
    serve = subprocess.Popen(
        ["bash", "scripts/serve.sh"],
        cwd=SERVED,
        env=env,
        start_new_session=True,
        stdout=open(tmp / "serve.log", "w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{web_port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/healthz", timeout=1).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.2)
    time.sleep(3)  # the workers' start-up
    return env, [moto, serve], base


def small_photo() -> bytes:
    """A 320×240 JPEG (the load is about the service, not decoding big photos)."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.open(PHOTO).convert("RGB").resize((320, 240)).save(buf, "JPEG", quality=85)
    return buf.getvalue()


def make_clients(env: dict[str, str], n: int = 3) -> list[str]:
    tokens = []
    for i in range(n):
        out = subprocess.run(
            [PY, "manage.py", "create_client", f"Bench {i}", "--user", f"bench{i}"],
            cwd=SERVED,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        tokens.append(json.loads(out.strip().splitlines()[-1])["token"])
    return tokens


def load(base: str, tokens: list[str], jobs: int, in_flight: int, image: str) -> dict[str, float]:
    """Submit ``jobs`` small jobs, ``in_flight`` at a time, while one poller follows them to their assets."""
    post_ms: list[float] = []
    get_ms: list[float] = []
    submitted: dict[str, tuple[float, str]] = {}  # job id -> (submit time, token)
    done: dict[str, tuple[float, str, str | None]] = {}  # job id -> (time, status, asset id)
    lock = threading.Lock()
    submitting = threading.Event()
    submitting.set()

    def one(i: int) -> None:
        token = tokens[i % len(tokens)]
        body = {"sourceImage": image, "width": 128, "height": 128, "duration": 1, "motionType": "zoom"}
        started = time.perf_counter()
        response = requests.post(
            f"{base}/api/image-to-video/generate", json=body, headers={"Authorization": f"Token {token}"}, timeout=60
        )
        post_ms.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        with lock:
            submitted[response.json()["jobId"]] = (time.time(), token)

    def poll() -> None:
        session = requests.Session()
        while submitting.is_set() or len(done) < len(submitted):
            with lock:
                pending = [(j, t) for j, (_, t) in submitted.items() if j not in done]
            for job_id, token in pending:
                started = time.perf_counter()
                body = session.get(
                    f"{base}/api/image-to-video/jobs/{job_id}", headers={"Authorization": f"Token {token}"}, timeout=30
                ).json()
                get_ms.append((time.perf_counter() - started) * 1000)
                final = body["status"] in ("completed", "failed", "canceled")
                if final and (body["assetId"] or body["status"] != "completed"):
                    done[job_id] = (time.time(), body["status"], body["assetId"])
            time.sleep(0.1)

    oldest: dict[str, float] = {}

    def scrape() -> None:
        """The oldest message's age per task queue, as /metrics says (absent before the queues existed)."""
        while submitting.is_set() or len(done) < len(submitted):
            try:
                text = requests.get(f"{base}/metrics", timeout=5).text
            except requests.RequestException:
                continue
            for line in text.splitlines():
                if line.startswith("airwave_task_queue_oldest_age_seconds{"):
                    queue = line.split('queue="', 1)[1].split('"', 1)[0]
                    oldest[queue] = max(oldest.get(queue, 0.0), float(line.rsplit(" ", 1)[1]))
            time.sleep(0.5)

    began = time.time()
    poller = threading.Thread(target=poll)
    poller.start()
    scraper = threading.Thread(target=scrape)
    scraper.start()
    with ThreadPoolExecutor(in_flight) as pool:
        list(pool.map(one, range(jobs)))
    submitting.clear()
    poller.join()
    scraper.join()
    filing = completed_to_asset(base, submitted, done)
    elapsed = max(t for t, _, _ in done.values()) - began
    waits = [done[j][0] - submitted[j][0] for j in submitted]
    assets = [a for _, _, a in done.values() if a]
    return {
        "jobs": len(submitted),
        "completed": sum(1 for _, s, _ in done.values() if s == "completed"),
        "distinct_assets": len(set(assets)),
        "jobs_per_min": len(submitted) / elapsed * 60,
        "asset_p50_s": statistics.median(waits),
        "asset_p95_s": pct(waits, 95),
        "post_p50_ms": statistics.median(post_ms),
        "post_p95_ms": pct(post_ms, 95),
        "get_p50_ms": statistics.median(get_ms),
        "get_p95_ms": pct(get_ms, 95),
        "completed_to_asset_p50_s": statistics.median(filing),
        "completed_to_asset_p95_s": pct(filing, 95),
        "completed_to_asset_max_s": max(filing),
        "oldest_message_age_max_s": oldest,
    }


def completed_to_asset(base: str, submitted: dict, done: dict) -> list[float]:
    """Seconds from each completed job's ``completedAt`` to its asset's ``createdAt`` (both stamped by the
    service's clock): how long filing waited."""
    from datetime import datetime

    def at(value: str) -> float:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()

    session = requests.Session()
    gaps = []
    for job_id, (_, status, asset_id) in done.items():
        if status != "completed" or not asset_id:
            continue
        headers = {"Authorization": f"Token {submitted[job_id][1]}"}
        job = session.get(f"{base}/api/image-to-video/jobs/{job_id}", headers=headers, timeout=30).json()
        asset = session.get(f"{base}/api/assets/{asset_id}", headers=headers, timeout=30).json()
        gaps.append(at(asset["createdAt"]) - at(job["completedAt"]))
    return gaps


def hammer(url: str, headers: dict[str, str], concurrency: int = 16, seconds: float = 8) -> dict[str, float]:
    """``concurrency`` clients GET ``url`` in a loop for ``seconds``: rate, p50, p99, errors."""
    latencies: list[float] = []
    errors = [0]
    deadline = time.perf_counter() + seconds

    def client() -> None:
        session = requests.Session()
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            response = session.get(url, headers=headers, timeout=30)
            latencies.append((time.perf_counter() - started) * 1000)
            if response.status_code >= 500:
                errors[0] += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for _ in range(concurrency):
            pool.submit(client)
    elapsed = time.perf_counter() - began
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies),
        "p99_ms": pct(latencies, 99),
        "errors": errors[0],
    }


def big_job(base: str, token: str, image: str) -> dict[str, float]:
    """One 1080×1080 3 s job: submit→asset against the engine's own time for the same render here."""
    from image_to_video.engine import MotionParams, render_video  # the engine needs no Django

    headers = {"Authorization": f"Token {token}"}
    body = {"sourceImage": image, "width": 1080, "height": 1080, "duration": 3, "motionType": "zoom"}
    started = time.perf_counter()
    job_id = requests.post(f"{base}/api/image-to-video/generate", json=body, headers=headers, timeout=60).json()[
        "jobId"
    ]
    while not requests.get(f"{base}/api/image-to-video/jobs/{job_id}", headers=headers, timeout=30).json()["assetId"]:
        time.sleep(0.05)
    service = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        render_video(
            PHOTO, Path(tmp) / "out.mp4", MotionParams(motion_type="zoom", width=1080, height=1080, duration=3)
        )
        engine = time.perf_counter() - started
    return {"submit_to_asset_s": service, "engine_s": engine, "ratio": service / engine}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--in-flight", type=int, default=8)
    parser.add_argument("--pool", type=int, default=8, help="the web's DATABASE_POOL_MAX_SIZE (0: no pool)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to serve (default: this one)")
    parser.add_argument("--skip-big", action="store_true", help="skip the 1080×1080 job")
    args = parser.parse_args()
    global SERVED
    SERVED = args.root.resolve()
    sys.path.insert(0, str(ROOT))
    image = "data:image/jpeg;base64," + base64.b64encode(small_photo()).decode()
    with tempfile.TemporaryDirectory() as tmp:
        env, procs, base = start_stack(Path(tmp), args.pool)
        try:
            tokens = make_clients(env)
            result = {"load": load(base, tokens, args.jobs, args.in_flight, image)}
            some_job = requests.get(
                f"{base}/api/assets/?page_size=1", headers={"Authorization": f"Token {tokens[0]}"}, timeout=10
            ).json()["results"][0]["metadata"]["jobId"]
            auth = {"Authorization": f"Token {tokens[0]}"}
            result["healthz_16"] = hammer(f"{base}/healthz", {})
            result["get_job_16"] = hammer(f"{base}/api/image-to-video/jobs/{some_job}", auth)
            result["get_job_vs_healthz"] = result["get_job_16"]["rps"] / result["healthz_16"]["rps"]
            if not args.skip_big:
                photo = "data:image/png;base64," + base64.b64encode(PHOTO.read_bytes()).decode()
                result["big_job"] = big_job(base, tokens[1], photo)
            print(json.dumps(result, indent=2))
        finally:
            for proc in reversed(procs):
                try:
                    os.killpg(proc.pid, signal.SIGTERM) if proc.args[0] == "bash" else proc.terminate()
                except ProcessLookupError:
                    pass
            for proc in procs:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()


if __name__ == "__main__":
    main()
