#!/usr/bin/env bash
# A host platform adopts the apps from the built wheel (tests/host/): for each of Django 6.0 (Python 3.12,
# the newest releases the ranges admit) and Django 5.2 (Python 3.11, the oldest: tests/host/lowest.txt),
# a fresh virtualenv gets the wheel and the host's own packages, then tests/host/check_host.py runs a job
# end to end through the host's worker. PostgreSQL and Redis as for `make test`. HOST_ONLY=<name> runs one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=var/host
rm -rf "$OUT" tests/host/image_to_video_files tests/host/public-media && mkdir -p "$OUT/wheel"
.venv/bin/pip wheel --no-deps -q -w "$OUT/wheel" . 2>&1 | grep -v "^WARNING: Location" || true
rm -rf build ./*.egg-info
WHEEL=$(ls "$OUT"/wheel/*.whl)
echo "built $(basename "$WHEEL")"

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  sleep 1
fi

python_for() {  # the first interpreter of that version on this machine
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}/versions/$1".*/bin/python "python$1"; do
    "$candidate" -c "" >/dev/null 2>&1 && { echo "$candidate"; return; }
  done
  echo "no Python $1 here" >&2; return 1
}

run_host() {  # name, python version, pip arguments for Django and the rest
  local name=$1 version=$2; shift 2
  if [ -n "${HOST_ONLY:-}" ] && [ "$HOST_ONLY" != "$name" ]; then return; fi
  local venv="$OUT/$name"
  echo "== host $name: Python $version, $*"
  "$(python_for "$version")" -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  "$venv/bin/pip" install -q "$WHEEL[redis]" "$@" "uvicorn[standard]" "psycopg[binary]" websockets 2>&1 \
    | grep -v "^WARNING: Location" || true
  "$venv/bin/python" -c "import django, rest_framework, celery; print('installed: Django', django.__version__, \
'DRF', rest_framework.__version__, 'Celery', celery.__version__)"
  check_in "$name" "$venv" platform_site.settings
  if [ -n "${ALSO_OWN_TENANTS:-}" ]; then check_in "$name-orgs" "$venv" platform_site.settings_orgs; fi
}

check_in() {  # name, venv, the host's settings module: a fresh database, then check_host.py
  local name=$1 venv=$2 settings=$3 db="host_ci_${1//-/_}"
  echo "-- $name: $settings"
  psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
  mkdir -p "$OUT/$name-logs"
  (cd tests/host && DJANGO_SETTINGS_MODULE=$settings HOST_DB_NAME=$db HOST_REDIS_URL=redis://127.0.0.1:6379/10 \
     HOST_QUEUE="host-$name-$$" HOST_SCRATCH="$ROOT/$OUT/$name-scratch" HOST_LOGS="$ROOT/$OUT/$name-logs" \
     "$ROOT/$venv/bin/python" check_host.py)
}

# Django 6.0 twice: with the bundled tenancy, then with its own organisations and no tenancy app.
ALSO_OWN_TENANTS=1 run_host django60 3.12 "Django>=6.0,<6.1" django-celery-beat  # beat: the database scheduler
run_host django52-lowest 3.11 -c tests/host/lowest.txt
