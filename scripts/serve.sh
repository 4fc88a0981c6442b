#!/usr/bin/env bash
# `make serve`: the whole service on one machine. With REDIS_URL (or CELERY_BROKER_URL) set the
# worker is a Celery process (with beat for the periodic reconcile); otherwise jobs run in-process.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PORT="${PORT:-8000}"
HOST="${HOST:-127.0.0.1}"

"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0

if [ -n "${CELERY_BROKER_URL:-${REDIS_URL:-}}" ]; then
  echo "worker: Celery on ${CELERY_BROKER_URL:-$REDIS_URL}"
  # Web and worker are separate processes: /metrics adds up their counters from here.
  export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${AIRWAVE_VAR_DIR:-var}/prometheus}"
  rm -rf "$PROMETHEUS_MULTIPROC_DIR" && mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
  .venv/bin/celery -A airwave worker -B -l info --concurrency "${WORKER_CONCURRENCY:-2}" &
  WORKER=$!
  trap 'kill $WORKER 2>/dev/null || true' EXIT INT TERM
else
  echo "worker: in-process (set REDIS_URL for Celery)"
fi
if [ "$("$PY" manage.py shell -c 'from django.contrib.auth import get_user_model as g; print(g().objects.exists())')" = "False" ]; then
  echo "no users yet: python manage.py create_client Demo --user demo --password demo"
fi
echo "serving http://$HOST:$PORT/  (API /api/, docs /api/docs/, admin /admin/)"
"$PY" -m uvicorn airwave.asgi:application --host "$HOST" --port "$PORT" --proxy-headers
