"""What each step costs the shared PostgreSQL as the queue grows. Run by hand:
``.venv/bin/python bench/scale.py [--sizes 1000,10000,100000] [--skip-render] [--skip-list]``.

On the local PostgreSQL, in its own database (``airwave_scale``, made and migrated here), it:

1. builds queues of 1k, 10k and 100k queued jobs over 100, 1,000 and 1,000 clients with 50, 200
   and 500 jobs running, ``ANALYZE``s, and times the fair pick every render turn runs (the
   lifecycle's own function, in a transaction rolled back each time), median of 5;
2. renders one real 10 s 1080p job through the worker's own code and counts the UPDATEs of its
   row (a trigger logs each), against its render time;
3. gives one client 200,000 jobs and times the list endpoint's first page and page 5,000.

The pick is timed as it is now (the clients' load rows) and as it was (counting every queued job,
``countingPickMs``), on the same data, and both must choose the same job.

Prints one JSON line: ``{"pickMs": {"1000": …, "10000": …, "100000": …}, "updatesPerJob": …,
"renderSeconds": …, "listMs": {"first": …, "page5000": …}}``. Results and method in
docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATABASE = "airwave_scale"
SHAPES = {1000: (100, 50), 10000: (1000, 200), 100000: (1000, 500)}  # queued: (clients, running)


def setup_django() -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone():
            conn.execute(f"CREATE DATABASE {DATABASE}")
    os.environ.update(
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        DJANGO_SETTINGS_MODULE="airwave.settings",
        DJANGO_SECRET_KEY=os.environ.get("DJANGO_SECRET_KEY", "bench-" + "x" * 50),
        AIRWAVE_VAR_DIR=str(ROOT / "var" / "bench-scale"),
    )
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "AWS_STORAGE_BUCKET_NAME"):
        os.environ.pop(name, None)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _job(client, user, **fields):
    """A queued local job of ``client`` (a 3 s 1080×1080 zoom unless ``fields`` say otherwise), unsaved."""
    from image_to_video.models import Job, JobStatus

    values = {
        "provider": "local",
        "status": JobStatus.QUEUED,
        "motion_type": "zoom",
        "motion_direction": "in",
        "motion_strength": 50,
        "duration": 3.0,
        "output_format": "mp4",
        "width": 1080,
        "height": 1080,
        "source_content_type": "image/png",
        **fields,
    }
    return Job(id=uuid.uuid4(), client=client, user=user, **values)


def build_queue(queued: int, clients: int, running: int) -> list:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from image_to_video.models import Job, JobStatus
    from tenancy.models import Client

    Job.objects.all().delete()
    Client.objects.all().delete()
    user = get_user_model().objects.get_or_create(username="scale")[0]
    made = Client.objects.bulk_create([Client(name=f"scale {i} {uuid.uuid4().hex[:6]}") for i in range(clients)])
    now = timezone.now()
    rows = []
    for i in range(queued + running):
        status = JobStatus.PROCESSING if i < running else JobStatus.QUEUED
        rows.append(
            _job(
                made[(i * 7919) % clients],  # a few clients hold most running jobs, as bursts do
                user,
                status=status,
                source_image=f"sources/{i}.png",
                lease_expires_at=now + timedelta(hours=1) if status == JobStatus.PROCESSING else None,
                created_at=now - timedelta(seconds=queued + running - i),
            )
        )
    Job.objects.bulk_create(rows, batch_size=5000)
    from image_to_video.services import lifecycle

    lifecycle.loads_recount()  # bulk-made jobs skipped the lifecycle: their clients' loads are counted
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE image_to_video_job")
        cursor.execute("ANALYZE image_to_video_clientload")
    return made


def time_pick(pick, repeats: int = 5) -> tuple[float, object]:
    from django.db import transaction

    took, picked = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        with transaction.atomic():
            picked = pick(("local",))
            transaction.set_rollback(True)
        took.append((time.perf_counter() - started) * 1000)
        assert picked is not None
    return round(statistics.median(took), 2), picked


def render_updates() -> tuple[int, float]:
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile
    from django.db import connection

    from image_to_video.models import Job, JobStatus
    from image_to_video.services import runs
    from tenancy.models import Client

    Job.objects.all().delete()
    client = Client.objects.create(name=f"render {uuid.uuid4().hex[:6]}")
    user = get_user_model().objects.get_or_create(username="scale")[0]
    job = _job(client, user, motion_type="pan", motion_direction="right", duration=10.0, width=1920)
    job.source_image.save(
        "source.png", ContentFile((ROOT / "image_to_video/sample/astronaut.png").read_bytes()), save=False
    )
    job.save(force_insert=True)
    with connection.cursor() as cursor:
        cursor.execute("""
            CREATE TABLE IF NOT EXISTS bench_job_updates (job_id uuid);
            CREATE OR REPLACE FUNCTION bench_count_job_update() RETURNS trigger AS $$
            BEGIN INSERT INTO bench_job_updates VALUES (NEW.id); RETURN NEW; END; $$ LANGUAGE plpgsql;
            DROP TRIGGER IF EXISTS bench_job_updated ON image_to_video_job;
            CREATE TRIGGER bench_job_updated AFTER UPDATE ON image_to_video_job
                FOR EACH ROW EXECUTE FUNCTION bench_count_job_update();
            TRUNCATE bench_job_updates;
        """)
    from image_to_video import dispatch

    started = time.perf_counter()
    runs.job_run(job.pk)
    seconds = time.perf_counter() - started
    dispatch.wait_idle()  # filing (the asset, its link on the job) runs after the render: counted too
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM bench_job_updates WHERE job_id = %s", [str(job.pk)])
        updates = cursor.fetchone()[0]
        cursor.execute("DROP TRIGGER bench_job_updated ON image_to_video_job")
    assert Job.objects.get(pk=job.pk).status == JobStatus.COMPLETED
    return updates, round(seconds, 1)


def time_lists(total: int = 200_000) -> dict[str, float]:
    from django.test import Client as Browser

    from image_to_video.models import Job

    made = build_queue(total, 1, 0)
    Job.objects.update(status="completed")
    from django.db import connection

    with connection.cursor() as cursor:  # the steady state autovacuum keeps: index-only counts see all-visible pages
        cursor.execute("VACUUM ANALYZE image_to_video_job")
    browser = Browser()
    from django.contrib.auth import get_user_model

    from tenancy.models import Membership

    user = get_user_model().objects.get(username="scale")
    Membership.objects.get_or_create(client=made[0], user=user)
    browser.force_login(user)
    timings = {}
    for name, page in (("first", 1), ("page5000", 5000)):
        took = []
        for _ in range(5):
            started = time.perf_counter()
            answer = browser.get(
                f"/api/image-to-video/jobs/client/{made[0].pk}?page={page}&pageSize=20", HTTP_HOST="127.0.0.1"
            )
            took.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.content[:200]
        timings[name] = round(statistics.median(took), 1)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--skip-render", action="store_true")
    parser.add_argument("--skip-list", action="store_true")
    args = parser.parse_args()
    setup_django()
    from image_to_video.services import lifecycle

    result: dict = {"pickMs": {}, "countingPickMs": {}}
    for size in (int(v) for v in args.sizes.split(",")):
        clients, running = SHAPES.get(size, (1000, 500))
        build_queue(size, clients, running)
        fast, chosen = time_pick(lifecycle._fairest_queued_job_id)
        slow, expected = time_pick(lifecycle._fairest_by_counting)
        assert chosen == expected, "the load rows choose what the full count chooses"
        result["pickMs"][str(size)], result["countingPickMs"][str(size)] = fast, slow
        print(
            f"pick at {size} queued over {clients} clients ({running} running): {fast} ms (counting: {slow} ms)",
            file=sys.stderr,
            flush=True,
        )
    if not args.skip_render:
        result["updatesPerJob"], result["renderSeconds"] = render_updates()
    if not args.skip_list:
        result["listMs"] = time_lists()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
