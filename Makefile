# Every target uses the virtualenv .venv in the repo root, creating it when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
EMBEDDED := env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL -u AWS_STORAGE_BUCKET_NAME

.PHONY: install demo serve test lint check-deploy fuzz image-test host-test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# A bundled photo becomes an MP4 asset through the real job pipeline (SQLite, local files, in-process worker).
demo: install
	$(EMBEDDED) $(PY) manage.py migrate --noinput -v0
	$(EMBEDDED) $(PY) manage.py generate_video image_to_video/sample/astronaut.png \
		--motion-type zoom --motion-direction in --duration 3 --width 1080 --height 1080

# The whole service at http://127.0.0.1:$(PORT): API, WebSocket, admin, page, and a worker.
serve: install
	PORT=$(PORT) bash scripts/serve.sh

# Installs, makes sure PostgreSQL, Redis and an S3 endpoint are up, runs pytest.
test: install
	bash scripts/test.sh $(PYTEST_ARGS)

# ruff (lint and format), mypy (django-stubs, the engine strictly) and the import contracts in pyproject.toml.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# Build the wheel, install it into host projects (tests/host/: Django 6.0 and 5.2) and run a job end to end there.
host-test: install
	bash scripts/host-test.sh

# Build the image and smoke-test it (web + worker containers, a job to its asset); skips without an engine.
image-test: install
	bash scripts/image-test.sh

# Schemathesis over every route with many more examples than `make test` runs.
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-200} bash scripts/test.sh tests/service/test_fuzz.py

# `manage.py check --deploy` under the production environment of docs/SECURITY.md.
check-deploy: install
	DJANGO_SECRET_KEY="$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" DJANGO_SECURE=1 \
	DJANGO_ALLOWED_HOSTS=video.example.com DATABASE_URL=postgres://airwave@db.internal:5432/airwave \
	REDIS_URL=redis://redis.internal:6379/0 AWS_STORAGE_BUCKET_NAME=airwave \
	$(PY) manage.py check --deploy --fail-level WARNING

bench: install
	$(PY) bench/render.py

clean:
	rm -rf var/media var/uploads var/static var/test-artifacts var/host build *.egg-info
