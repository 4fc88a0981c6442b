#!/usr/bin/env bash
# `make image-test`: build the image and run it as an operator would, against this machine's
# PostgreSQL and Redis and an S3 endpoint (moto): a web and a worker container (the compose
# file's worker command), one job through the API ending as an asset, /readyz 200, static files
# served compressed, no token in the logs, no "Permission denied" in the worker's log, and
# nothing of .git, .venv, var or .env in /app. Docker where it runs, podman otherwise; where no
# container engine can run, it says so and skips. No registry is reachable here, so when the
# base image cannot be pulled it is built from Debian's packages (debootstrap) and cached.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
CACHE="${AIRWAVE_IMAGE_CACHE:-/var/cache/airwave-image}"
IMAGE=airwave-image-to-video:test
BASE=docker.io/library/python:3.11-slim
started=$(date +%s)
say() { echo "image-test: $*"; }
mkdir -p var  # its logs (make image-test may run before anything else made it)

engine=""
if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  engine=docker
else
  if ! command -v podman >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing podman"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap) \
      > var/apt-podman.log 2>&1 || true
  fi
  if command -v podman >/dev/null; then
    if [ "$(id -u)" = 0 ] && [ ! -f /etc/containers/containers.conf ]; then
      nofile=$(ulimit -Hn)
      cat > /etc/containers/containers.conf <<CONF
[containers]
default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=32768:32768"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
    fi
    podman info >/dev/null 2>&1 && engine=podman
  fi
fi
if [ -z "$engine" ]; then
  say "skipped: no container engine can run here (docker or podman)"
  exit 0
fi
say "engine: $engine"

# --- the compose file parses, and refuses to start without the secrets of its env file
if [ "$engine" = docker ]; then COMPOSE="docker compose"; else COMPOSE="$PWD/.venv/bin/podman-compose"; fi
compose_dir=$(mktemp -d)
cp docker-compose.yml "$compose_dir/"
(cd "$compose_dir" && ! $COMPOSE config >/dev/null 2>&1) \
  || { say "FAIL: compose starts without its .env"; exit 1; }
printf 'DJANGO_SECRET_KEY=%s\nPOSTGRES_PASSWORD=x\nMINIO_ROOT_USER=x\nMINIO_ROOT_PASSWORD=x\nAWS_S3_PUBLIC_ENDPOINT_URL=http://localhost:9000\n' \
  "$(head -c 40 /dev/urandom | base64 | tr -dc A-Za-z0-9)" > "$compose_dir/.env"
(cd "$compose_dir" && $COMPOSE config >/dev/null) || { say "FAIL: compose config"; exit 1; }
rm -rf "$compose_dir"
say "compose file parses ($COMPOSE config)"


# --- the base image
if ! $engine image exists "$BASE" 2>/dev/null && ! $engine image inspect "$BASE" >/dev/null 2>&1; then
  if ! timeout 60 $engine pull -q "$BASE" >/dev/null 2>&1; then
    mkdir -p "$CACHE"
    if [ ! -f "$CACHE/bookworm-python311.tar" ]; then
      say "no registry: building $BASE from Debian's packages (cached in $CACHE)"
      root=$(mktemp -d)
      trap 'rm -rf "$root"' EXIT
      debootstrap --variant=minbase --include=python3.11,python3.11-venv,python3-distutils,python3-pip-whl,python3-setuptools-whl,ca-certificates \
        bookworm "$root" http://deb.debian.org/debian > var/debootstrap.log 2>&1
      tar -C "$root" -cf "$CACHE/bookworm-python311.tar" .
      rm -rf "$root"
    fi
    $engine import -q "$CACHE/bookworm-python311.tar" airwave-bookworm:python311 >/dev/null
    printf 'FROM airwave-bookworm:python311\nRUN python3.11 -m venv /usr/local && ln -sf /usr/local/bin/python /usr/bin/python\n' \
      | $engine build -q -t "$BASE" -f - . >/dev/null
  fi
fi
base_ready=$(date +%s)

# --- build
say "building $IMAGE"
$engine build -q -v /etc/ssl/certs:/etc/ssl/certs:ro -t "$IMAGE" . > var/image-build.log 2>&1 \
  || { tail -30 var/image-build.log; exit 1; }
built=$(date +%s)

# --- the image holds only what it runs
leftovers=$($engine run --rm --entrypoint sh "$IMAGE" -c 'ls -A /app' | grep -E '^(\.git|\.venv|var|\.env)$' || true)
[ -z "$leftovers" ] || { say "FAIL: /app holds $leftovers"; exit 1; }
[ "$($engine run --rm --entrypoint id "$IMAGE" -u)" != 0 ] || { say "FAIL: runs as root"; exit 1; }

# --- services on this machine
free_port() { "$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"; }
S3_PORT=$(free_port); WEB_PORT=$(free_port)
.venv/bin/moto_server -H 127.0.0.1 -p "$S3_PORT" > var/image-moto.log 2>&1 &
MOTO=$!
work=$(mktemp -d); chmod 777 "$work"; mkdir -p "$work/web" "$work/worker"; chmod 777 "$work/web" "$work/worker"
cleanup() {
  $engine rm -f airwave-test-web airwave-test-worker airwave-test-io-worker >/dev/null 2>&1 || true
  kill $MOTO 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
pg_isready -q -h 127.0.0.1 -p 5432
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS airwave_image" -c "CREATE DATABASE airwave_image" >/dev/null
for _ in $(seq 50); do "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$S3_PORT/')" 2>/dev/null && break; sleep 0.2; done
"$PY" -c "import urllib.request; urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:$S3_PORT/airwave-image', method='PUT'))"
secret=$("$PY" -c "import secrets; print(secrets.token_urlsafe(50))")
envs=(-e DATABASE_URL=postgres://postgres@127.0.0.1:5432/airwave_image -e REDIS_URL=redis://127.0.0.1:6379/8
      -e CELERY_QUEUE="image-test-$$" -e CHANNEL_LAYER_PREFIX="image-test-$$"
      -e AWS_STORAGE_BUCKET_NAME=airwave-image -e AWS_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
      -e AWS_ACCESS_KEY_ID=test -e AWS_SECRET_ACCESS_KEY=test -e AWS_S3_REGION_NAME=us-east-1
      -e DJANGO_SECRET_KEY="$secret" -e PORT="$WEB_PORT")
$engine run -d --name airwave-test-web --network host -v "$work/web:/data" "${envs[@]}" "$IMAGE" >/dev/null
for _ in $(seq 120); do curl -fs "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null 2>&1 && break; sleep 0.5; done
curl -fs "http://127.0.0.1:$WEB_PORT/healthz" >/dev/null || { $engine logs airwave-test-web | tail -30; exit 1; }
# The compose file's two workers, as written there (the io worker with beat); the queues' names are the
# standalone defaults, so this run starts from an empty broker database.
"$PY" -c "import redis; redis.Redis.from_url('redis://127.0.0.1:6379/8').flushdb()"
render_cmd=$(sed -n 's/^    command: \(celery -A airwave worker -Q image_to_video.render.*\)$/\1/p' docker-compose.yml)
io_cmd=$(sed -n 's/^    command: \(celery -A airwave worker -Q image_to_video.io.*\)$/\1/p' docker-compose.yml)
[ -n "$render_cmd" ] && [ -n "$io_cmd" ] || { say "FAIL: the compose file's worker commands were not found"; exit 1; }
# shellcheck disable=SC2086
$engine run -d --name airwave-test-worker --network host -v "$work/worker:/data" "${envs[@]}" "$IMAGE" $render_cmd >/dev/null
mkdir -p "$work/io-worker"; chmod 777 "$work/io-worker"
# shellcheck disable=SC2086
$engine run -d --name airwave-test-io-worker --network host -v "$work/io-worker:/data" "${envs[@]}" "$IMAGE" $io_cmd -B >/dev/null
up=$(date +%s)

# --- one job, through the API, to its asset
owner=$($engine exec airwave-test-web python manage.py create_client "Image test" --user imagetest | tail -1)
token=$("$PY" -c "import json,sys; print(json.loads(sys.argv[1])['token'])" "$owner")
"$PY" - "$WEB_PORT" "$token" <<'PYEOF'
import base64, io, sys, time
import requests
from PIL import Image
port, token = sys.argv[1], sys.argv[2]
base, auth = f"http://127.0.0.1:{port}", {"Authorization": f"Token {token}"}
buf = io.BytesIO(); Image.effect_noise((320, 240), 64).convert("RGB").save(buf, "JPEG")
body = {"sourceImage": "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode(), "width": 160,
        "height": 96, "duration": 1}
job = requests.post(f"{base}/api/image-to-video/generate", json=body, headers=auth, timeout=30)
assert job.status_code == 202, job.text
job_id = job.json()["jobId"]
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    state = requests.get(f"{base}/api/image-to-video/jobs/{job_id}", headers=auth, timeout=10).json()
    if state["assetId"] or state["status"] in ("failed", "canceled"):
        break
    time.sleep(0.5)
assert state["status"] == "completed" and state["assetId"], state
video = requests.get(state["videoUrl"], timeout=30)
assert video.ok and video.content[4:8] == b"ftyp", "the stored video downloads"
ready = requests.get(f"{base}/readyz", timeout=10)
assert ready.status_code == 200, ready.text
static = requests.get(f"{base}/static/image_to_video/app.js", headers={"Accept-Encoding": "gzip, br"}, timeout=10)
assert static.ok and static.headers.get("Content-Encoding") in ("gzip", "br"), static.headers
requests.get(f"{base}/api/image-to-video/jobs/{job_id}?token=SECRET-IN-URL-{token}", timeout=10)
# A socket opened with ?token= (the way the reviewer found the token in the container's log).
import asyncio, websockets
async def socket_with_token():
    client_id = state["clientId"]
    try:  # accepted or refused (no Origin header here): either way uvicorn logs the socket's line
        async with websockets.connect(f"ws://127.0.0.1:{port}/ws/image-to-video/clients/{client_id}/?token={token}",
                                      open_timeout=10):
            pass
    except websockets.exceptions.InvalidStatus:
        pass
asyncio.run(socket_with_token())
print(f"image-test: job {job_id} completed and filed as asset {state['assetId']}")
PYEOF
sleep 1
web_log=$($engine logs airwave-test-web 2>&1)
worker_log=$($engine logs airwave-test-worker 2>&1; $engine logs airwave-test-io-worker 2>&1)
if ! grep -q "WebSocket /ws/image-to-video/clients/" <<<"$web_log"; then say "FAIL: no socket line in the web log"; exit 1; fi
if grep -q "$token" <<<"$web_log$worker_log"; then say "FAIL: the token is in a log"; exit 1; fi
if grep -q "Permission denied" <<<"$worker_log"; then say "FAIL: Permission denied in the worker's log"; exit 1; fi
done_at=$(date +%s)
say "passed: base image $((base_ready - started)) s, build $((built - base_ready)) s, start $((up - built)) s, job and checks $((done_at - up)) s"
