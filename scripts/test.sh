#!/usr/bin/env bash
# Test services on loopback, started where they are not running, then pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
mkdir -p var

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! "$PY" -c "import redis,sys; redis.Redis(host='127.0.0.1', port=6379, socket_timeout=2).ping()" 2>/dev/null; then
  echo "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do "$PY" -c "import redis; redis.Redis(host='127.0.0.1', port=6379).ping()" 2>/dev/null && break; sleep 0.5; done
fi

if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser test"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) > var/apt.log 2>&1 \
    || echo "chromium could not be installed (see var/apt.log); the browser test will be skipped"
fi

mkdir -p var
if [ -z "${AWS_S3_ENDPOINT_URL:-}" ]; then
  S3_PORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")
  .venv/bin/moto_server -H 127.0.0.1 -p "$S3_PORT" > var/moto.log 2>&1 &
  MOTO_PID=$!
  trap 'kill $MOTO_PID 2>/dev/null || true' EXIT
  for _ in $(seq 50); do "$PY" -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$S3_PORT/')" 2>/dev/null && break; sleep 0.2; done
  export AWS_S3_ENDPOINT_URL="http://127.0.0.1:$S3_PORT"
fi

export DATABASE_URL="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/airwave}"
export REDIS_URL="${TEST_REDIS_URL:-redis://127.0.0.1:6379/7}"
export AWS_STORAGE_BUCKET_NAME="${AWS_STORAGE_BUCKET_NAME:-airwave-test}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-testing}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-testing}"
export AWS_S3_REGION_NAME="${AWS_S3_REGION_NAME:-us-east-1}"
# Each run gets its own queue and channel prefix: leftovers of an aborted run never reach this one.
export CELERY_QUEUE="airwave-test-$$" CHANNEL_LAYER_PREFIX="airwave-test-$$"
export CELERY_RENDER_QUEUE="airwave-test-$$.render" CELERY_IO_QUEUE="airwave-test-$$.io"
export PROGRESS_SAVE_INTERVAL=0.1  # small test renders still show several progress steps
export PROGRESS_WRITE_INTERVAL=0.2 CANCEL_CHECK_INTERVAL=0.2  # ...and write them to the row while they run
export DATABASE_CONN_MAX_AGE=0  # threads (sync_to_async, in-process worker) must not keep connections open
export AIRWAVE_VAR_DIR="$PWD/var/test"
export DJANGO_SECRET_KEY="${DJANGO_SECRET_KEY:-$("$PY" -c "import secrets; print(secrets.token_urlsafe(50))")}"
export UPLOAD_DIR="$PWD/var/test/uploads"
unset RUNWAY_API_KEY RUNWAY_API_URL RUNWAY_WEBHOOK_SECRET IMAGE_TO_VIDEO_PROVIDER CELERY_BROKER_URL
rm -rf var/test && mkdir -p var/test

"$PY" -m pytest "$@"
