"""One cluster for the fault suite: a web host, two render workers, an io worker and beat, each with its own
UPLOAD_DIR."""

from __future__ import annotations

import os
import time

import pytest
from django.conf import settings
from django.core.management.base import CommandError
from django.db.utils import OperationalError
from django.test import TransactionTestCase

from tests.conftest import ensure_bucket
from tests.fakes.runway import FakeRunway
from tests.faults.cluster import Cluster, RedisServer, TcpProxy
from tests.service.runway_fixtures import runway_video  # noqa: F401  (fixture)

FAST = {
    "RECOVER_EVERY": "2",  # beat's recovery sweep (and the outbound webhooks' retry sweep)
    "OUTBOUND_WEBHOOK_ALLOW_PRIVATE": "1",  # the receiver is on loopback
    "OUTBOUND_WEBHOOK_FIRST_RETRY": "0.5",
    "JOB_LEASE_SECONDS": "4",  # a silent worker's job is taken after this
    "PROGRESS_SAVE_INTERVAL": "0.2",
    "PROGRESS_WRITE_INTERVAL": "0.2",
    "CANCEL_CHECK_INTERVAL": "0.2",
    "MAX_ACTIVE_JOBS_PER_CLIENT": "6",
    "GENERATE_RATE": "100000/minute",
    "RUNWAY_POLL_INTERVALS": "0.2,0.5,1",
    "DATABASE_POOL_MAX_SIZE": "4",
    "SCRATCH_STALE_PARTIAL_SECONDS": "5",
    "RENDER_GRACE_SECONDS": "1",  # a render worker told to stop hands its job back after this
    "OUTBOUND_WEBHOOK_DEADLINE": "3",
}


@pytest.fixture(scope="module", autouse=True)
def _flush_retried_on_deadlock():
    """The cluster keeps working while each test's database is flushed (beat's sweeps lock rows every two
    seconds), so the flush's TRUNCATE can deadlock with a worker's ``FOR UPDATE`` and PostgreSQL aborts one
    of them: when it is the flush, it is done again (it once failed CI's teardown of a passing test)."""
    original = TransactionTestCase._fixture_teardown

    def teardown(self: TransactionTestCase) -> None:
        for attempt in range(5):
            try:
                return original(self)
            except (CommandError, OperationalError) as exc:
                cause = exc.__cause__ or exc
                if "deadlock" not in str(cause) or attempt == 4:
                    raise
                time.sleep(0.2)

    TransactionTestCase._fixture_teardown = teardown  # type: ignore[method-assign]
    yield
    TransactionTestCase._fixture_teardown = original  # type: ignore[method-assign]


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, tmp_path_factory, runway_video, s3):  # noqa: F811
    if not settings.CELERY_BROKER_URL or not settings.AWS_STORAGE_BUCKET_NAME:
        pytest.skip("the fault suite needs PostgreSQL, Redis and S3 (run through make test)")
    from django.db import connection

    root = tmp_path_factory.mktemp("faults")
    redis = RedisServer(root).start()
    endpoint = os.environ["AWS_S3_ENDPOINT_URL"].rsplit(":", 1)
    s3proxy = TcpProxy(("127.0.0.1", int(endpoint[1]))).start()
    fake = FakeRunway(video=runway_video).start()
    db = connection.settings_dict
    queue = f"faults-{os.getpid()}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("UPLOAD_DIR", "AIRWAVE_VAR_DIR")},
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}?application_name=airwave-cluster",
        "REDIS_URL": redis.url,
        "CELERY_QUEUE": queue,
        "CELERY_RENDER_QUEUE": f"{queue}.render",
        "CELERY_IO_QUEUE": f"{queue}.io",
        "CHANNEL_LAYER_PREFIX": queue,
        "AWS_S3_ENDPOINT_URL": s3proxy.url,
        "RUNWAY_API_KEY": fake.key,
        "RUNWAY_API_URL": fake.url,
        "RUNWAY_OUTPUT_URL_PREFIXES": f"{fake.url}/outputs/",
        **FAST,
    }
    ensure_bucket(s3)
    made = Cluster(root=root, env=env, redis=redis, s3=s3proxy)
    made.fake_runway = fake  # type: ignore[attr-defined]
    made.web()
    # As in production: render workers on the render queue, one threaded io worker for everything else.
    made.worker("worker1", queues=env["CELERY_RENDER_QUEUE"])
    made.worker("worker2", queues=env["CELERY_RENDER_QUEUE"])
    made.worker("io", queues=f"{env['CELERY_IO_QUEUE']},{queue}", pool="threads", concurrency=8)
    made.beat()
    yield made
    made.stop_all()
    fake.stop()
    s3proxy.stop()
    redis.stop()
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
