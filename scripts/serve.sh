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
  # Renders and everything else on workers of their own (docs/DEPLOY.md): a render backlog never delays
  # filing, provider polls or webhooks. Beat runs with the io worker.
  .venv/bin/celery -A airwave worker -Q "${CELERY_RENDER_QUEUE:-image_to_video.render}" -l info \
    --concurrency "${WORKER_CONCURRENCY:-2}" --hostname "render-$$@%h" &
  RENDER_WORKER=$!
  .venv/bin/celery -A airwave worker -B -Q "${CELERY_IO_QUEUE:-image_to_video.io},${CELERY_QUEUE:-airwave}" \
    --pool threads --concurrency "${IO_WORKER_CONCURRENCY:-8}" -l info --hostname "io-$$@%h" &
  IO_WORKER=$!
  trap 'kill $RENDER_WORKER $IO_WORKER 2>/dev/null || true' EXIT INT TERM
else
  echo "worker: in-process (set REDIS_URL for Celery)"
fi
if [ "$("$PY" manage.py shell -c 'from django.contrib.auth import get_user_model as g; print(g().objects.exists())')" = "False" ]; then
  echo "no users yet: python manage.py create_client Demo --user demo --password demo"
fi
echo "serving http://$HOST:$PORT/  (API /api/, docs /api/docs/, admin /admin/)"
# X-Forwarded-* are trusted only from the proxies FORWARDED_ALLOW_IPS names (set DJANGO_PROXY_COUNT to match):
# by default nothing is, so a client cannot pick its own address (login lockouts go by address).
if [ -n "${FORWARDED_ALLOW_IPS:-}" ]; then PROXY=(--proxy-headers --forwarded-allow-ips "$FORWARDED_ALLOW_IPS"); else PROXY=(--no-proxy-headers); fi
"$PY" -m uvicorn airwave.asgi:application --host "$HOST" --port "$PORT" "${PROXY[@]}"
