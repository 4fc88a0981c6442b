"""Shared fixtures. Real PostgreSQL, Redis and S3 (moto_server), started by scripts/test.sh."""

from __future__ import annotations

import base64
import io
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
ASTRONAUT = ROOT / "image_to_video" / "sample" / "astronaut.png"


def photo_bytes(width: int = 320, height: int = 240, fmt: str = "PNG", seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    import cv2

    coarse = rng.uniform(40, 220, (max(2, height // 16), max(2, width // 16), 3)).astype(np.float32)
    pixels = np.clip(cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt)
    return buf.getvalue()


def data_uri(data: bytes, content_type: str = "image/png") -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


def generate_body(**overrides) -> dict:
    body = {
        "sourceImage": data_uri(photo_bytes()),
        "motionType": "zoom",
        "motionDirection": "in",
        "motionStrength": 50,
        "duration": 1,
        "outputFormat": "mp4",
        "width": 160,
        "height": 96,
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


@dataclass
class Tenant:
    client: object
    user: object
    token: str
    api: object


@pytest.fixture
def make_tenant(db):
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    from assets.models import ApiToken
    from tenancy.models import Client, Membership

    made = {"n": 0}

    def make(name: str | None = None, *, user=None, client=None) -> Tenant:
        made["n"] += 1
        client = client or Client.objects.create(name=name or f"Client {made['n']} {time.monotonic_ns()}")
        user = user or get_user_model().objects.create_user(f"user{made['n']}-{time.monotonic_ns()}", password="pw")
        Membership.objects.get_or_create(client=client, user=user)
        token = ApiToken.objects.filter(user=user).first() or ApiToken.issue(user)
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return Tenant(client=client, user=user, token=token.key, api=api)

    return make


@pytest.fixture
def tenant(make_tenant) -> Tenant:
    return make_tenant("Acme")


@pytest.fixture
def outsider(make_tenant) -> Tenant:
    return make_tenant("Other Co")


@pytest.fixture(scope="session", autouse=True)
def _s3_bucket():
    """Sources live in the shared storage: with an S3 endpoint, every test needs the bucket."""
    if os.environ.get("AWS_STORAGE_BUCKET_NAME") and os.environ.get("AWS_S3_ENDPOINT_URL"):
        import boto3

        ensure_bucket(
            boto3.client(
                "s3",
                endpoint_url=os.environ["AWS_S3_ENDPOINT_URL"],
                region_name=os.environ.get("AWS_S3_REGION_NAME", "us-east-1"),
            )
        )


@pytest.fixture(scope="session")
def s3():
    """The S3 endpoint's client, with the test bucket present."""
    import boto3
    from django.conf import settings

    if not settings.AWS_STORAGE_BUCKET_NAME:
        pytest.skip("no S3 endpoint configured (run through make test)")
    client = boto3.client(
        "s3",
        endpoint_url=os.environ.get("AWS_S3_ENDPOINT_URL"),
        region_name=os.environ.get("AWS_S3_REGION_NAME", "us-east-1"),
    )
    ensure_bucket(client)
    return client


def ensure_bucket(client) -> None:
    from django.conf import settings

    try:
        client.head_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)
    except Exception:
        client.create_bucket(Bucket=settings.AWS_STORAGE_BUCKET_NAME)


def bucket_keys(s3, prefix: str = "") -> list[str]:
    from django.conf import settings

    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=settings.AWS_STORAGE_BUCKET_NAME, Prefix=prefix)
    return [obj["Key"] for page in pages for obj in page.get("Contents", [])]


@pytest.fixture
def app_settings(settings):
    """Overrides the apps' config (``settings.IMAGE_TO_VIDEO``) for one test: ``app_settings(NAME=value)``."""

    def override(**names):
        settings.IMAGE_TO_VIDEO = {**settings.IMAGE_TO_VIDEO, **names}

    return override


@pytest.fixture
def in_process(app_settings, transactional_db):
    """Jobs run on the in-process worker threads (no broker), against committed data."""
    app_settings(WORKER="in-process")
    yield
    from image_to_video import dispatch

    dispatch.wait_idle()


def eventually(check, timeout: float = 30.0, message: str = "the condition", give_up=None):
    """``check()`` until it returns something truthy, which is returned; AssertionError after ``timeout`` s, or
    at once when ``give_up()`` says waiting is pointless (the process that should answer died). The one
    polling loop of the tests."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if give_up is not None and give_up():
            raise AssertionError(f"{message}: gave up")
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout:g} s")
        time.sleep(0.02)


def answers(check):
    """``check`` made safe to poll: an exception (a server not up yet) counts as "not yet"."""

    def safe():
        try:
            return check()
        except Exception:
            return None

    return safe


def drain() -> None:
    """Run the in-process worker until nothing is left to run: "nothing else happened" is then a fact."""
    from image_to_video import dispatch

    dispatch.wait_idle()


def wait_for_job(job_id, *, statuses=("completed", "failed", "canceled"), timeout: float = 90.0, asset: bool = False):
    from image_to_video.models import Job

    def settled():
        job = Job.objects.select_related("asset").get(pk=job_id)
        done = job.status in statuses and (not asset or _has_asset(job) or job.status != "completed")
        return job if done else None

    return eventually(settled, timeout, f"job {job_id} in {statuses}{' with its asset' if asset else ''}")


def _has_asset(job) -> bool:
    try:
        return job.asset is not None
    except Exception:
        return False


def upload_files() -> list[Path]:
    """Every file under UPLOAD_DIR (sources and renders)."""
    from image_to_video.conf import get_config

    root = get_config().UPLOAD_DIR
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, tmp_path_factory):
    """A real `celery -A airwave worker` process on the test database and Redis broker."""
    from django.conf import settings
    from django.db import connection

    from image_to_video.dispatch import queue_name

    if not settings.CELERY_BROKER_URL:
        pytest.skip("no broker configured (run through make test)")
    db = connection.settings_dict
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    log = tmp_path_factory.mktemp("celery") / "worker.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "airwave",
                "worker",
                "-Q",
                ",".join(dict.fromkeys(queue_name(kind) for kind in ("render", "io"))),
                "--pool",
                "solo",
                "-l",
                "info",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}@%h",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        eventually(lambda: "ready." in log.read_text(), 60, "the worker ready", give_up=lambda: proc.poll() is not None)
    except AssertionError:
        proc.kill()
        raise RuntimeError(f"celery worker did not start:\n{log.read_text()}") from None
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
    # End any session the worker or a live server left behind, so the test database can be dropped.
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def embedded_env(tmp_path: Path) -> dict:
    """This environment minus every server setting: SQLite, local files, in-process worker."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DATABASE_URL", "REDIS_URL", "CELERY_", "UPLOAD_DIR"))
    }
    env["AIRWAVE_VAR_DIR"] = str(tmp_path / "var")
    return env


def embedded_stack(tmp_path: Path, clients: tuple[str, ...], **env_overrides: str):
    """A migrated embedded service under uvicorn with ``clients`` (one user each):
    returns ``(process, base URL, [{"clientId", "userId", "token"}, …])``."""
    env = {**embedded_env(tmp_path), **env_overrides}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT, timeout=120)
    owners = []
    for name in clients:
        out = subprocess.run(
            [*manage, "create_client", name, "--user", name.lower()],
            env=env,
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        owners.append(json.loads(out.strip().splitlines()[-1]))
    proc, base = start_uvicorn(env, tmp_path / "server.log")
    return proc, base, owners


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_uvicorn(env: dict, log_path: Path) -> tuple[subprocess.Popen, str]:
    """uvicorn serving airwave.asgi with ``env``; returns once /healthz answers."""
    port = free_port()
    log = open(log_path, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "airwave.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    try:
        eventually(
            answers(lambda: requests.get(f"{base}/healthz", timeout=1).ok),
            30,
            "the server up",
            give_up=lambda: proc.poll() is not None,
        )
    except AssertionError:
        proc.kill()
        raise RuntimeError(log_path.read_text()) from None
    return proc, base


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def live_server_asgi(celery_worker, transactional_db, tmp_path):
    """uvicorn serving airwave.asgi on the test database, Redis channel layer and S3."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(os.environ, DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}")
    proc, base = start_uvicorn(env, tmp_path / "uvicorn.log")
    yield base
    stop(proc)
