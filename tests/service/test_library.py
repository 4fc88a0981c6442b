"""The apps as a library: the config and its checks, policies that ignore the host's DRF defaults, the apps'
private files served to members only, presigning whatever the storage says, bounded bodies, eager Celery.
(tests/host/ installs the wheel into a real host project; these are the same promises, tested directly.)"""

from __future__ import annotations

import io
import logging
from urllib.parse import parse_qs, urlparse

from celery import current_app
from django.core.files.base import ContentFile
from PIL import Image
from rest_framework.test import APIClient

from assets.models import Asset
from assets.storage import files_storage, presigned_url
from image_to_video.conf import Config, get_config
from tests.conftest import generate_body

GENERATE = "/api/image-to-video/generate"


def test_every_name_has_a_default_and_the_dict_overrides_it(settings):
    settings.IMAGE_TO_VIDEO = {}
    assert get_config() == Config()
    assert get_config().MAX_ACTIVE_JOBS_PER_CLIENT == 20 and get_config().QUEUE is None
    settings.IMAGE_TO_VIDEO = {"MAX_ACTIVE_JOBS_PER_CLIENT": 3, "RUNWAY_TIMEOUT": [1, 2]}
    assert get_config().MAX_ACTIVE_JOBS_PER_CLIENT == 3 and get_config().RUNWAY_TIMEOUT == (1, 2)
    settings.IMAGE_TO_VIDEO = None  # as if unset
    assert get_config() == Config()


def test_checks_name_typos_a_missing_channel_layer_and_files_under_media(settings, tmp_path):
    from image_to_video import checks

    settings.IMAGE_TO_VIDEO = {"MAX_ACTIVE_JOBS_PER_CLINET": 3, "WORKER": "threads"}
    ids = {m.id for m in checks.check_settings()}
    assert ids == {"image_to_video.E003", "image_to_video.E004"}
    assert "MAX_ACTIVE_JOBS_PER_CLINET" in checks.check_settings()[0].msg

    del settings.CHANNEL_LAYERS
    assert [m.id for m in checks.check_channel_layer()] == ["image_to_video.W001"]

    settings.MEDIA_ROOT = tmp_path
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "image_to_video"}
    settings.IMAGE_TO_VIDEO = {"FILES_ROOT": tmp_path / "private"}
    assert [m.id for m in checks.check_files_outside_media()] == ["image_to_video.E005"]
    settings.IMAGE_TO_VIDEO = {"FILES_ROOT": tmp_path.parent / "elsewhere"}
    assert checks.check_files_outside_media() == []


def test_the_hosts_rest_framework_defaults_change_nothing_in_the_apps(settings, tenant):
    settings.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.BasicAuthentication"],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
        "DEFAULT_PAGINATION_CLASS": None,
        "DEFAULT_FILTER_BACKENDS": [],
        "DEFAULT_THROTTLE_RATES": {},
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.BrowsableAPIRenderer"],
        "EXCEPTION_HANDLER": "tests.service.test_library.host_handler",
    }
    page = tenant.api.get("/api/assets/")
    assert page.status_code == 200 and page["Content-Type"] == "application/json"
    assert set(page.json()) == {"count", "next", "previous", "results"}  # paginated, though the host is not
    jobs = tenant.api.get(f"/api/image-to-video/jobs/client/{tenant.client.pk}")
    assert jobs.status_code == 200 and "count" in jobs.json()
    assert tenant.api.get("/api/assets/?tag=a,b,c,d,e,f,g,h,i,j,k").status_code == 400  # the apps' filters
    made = tenant.api.post(GENERATE, generate_body(), format="json")  # the throttle has its own rate
    assert made.status_code == 202, made.content
    assert APIClient().get("/api/assets/").status_code == 401


def host_handler(exc, context):  # a host's exception handler the apps must not use
    raise AssertionError("the host's exception handler was used")


def _poster() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 18), (200, 40, 40)).save(buf, "JPEG")
    return buf.getvalue()


def test_local_video_and_poster_are_served_to_members_only(local_files, tenant, outsider):
    video = files_storage.save(f"videos/{tenant.client.pk}/clip.mp4", ContentFile(b"not really a video"))
    poster = files_storage.save(f"videos/{tenant.client.pk}/clip.poster.jpg", ContentFile(_poster()))
    assert (local_files / "files" / video).is_file() and not (local_files / "media").exists()
    asset = Asset.objects.create(
        client=tenant.client, user=tenant.user, file=video, poster=poster, name="c", content_type="video/mp4", size=18
    )
    shown = tenant.api.get(f"/api/assets/{asset.pk}").json()
    assert shown["url"] == f"/api/assets/{asset.pk}/file" and shown["posterUrl"] == f"/api/assets/{asset.pk}/poster"
    got = tenant.api.get(shown["url"])
    assert got.status_code == 200 and b"".join(got.streaming_content) == b"not really a video"
    still = tenant.api.get(shown["posterUrl"])
    assert still["Content-Type"] == "image/jpeg" and Image.open(io.BytesIO(b"".join(still.streaming_content)))
    for url in (shown["url"], shown["posterUrl"]):
        assert outsider.api.get(url).status_code == 404
        assert APIClient().get(url).status_code == 401
    assert tenant.api.get("/api/assets/00000000-0000-0000-0000-000000000000/file").status_code == 404


def test_s3_urls_are_presigned_even_where_the_storage_says_not_to(settings, s3):
    storage = dict(settings.STORAGES["image_to_video"])
    storage["OPTIONS"] = dict(storage["OPTIONS"], querystring_auth=False)
    settings.STORAGES = {**settings.STORAGES, "image_to_video": storage}
    settings.IMAGE_TO_VIDEO = {**settings.IMAGE_TO_VIDEO, "URL_EXPIRE_SECONDS": 120}
    assert "X-Amz-Signature" not in files_storage.url("videos/x.mp4")  # what the host's setting alone gives
    query = parse_qs(urlparse(presigned_url("videos/x.mp4")).query)
    assert query["X-Amz-Expires"] == ["120"] and query["X-Amz-Signature"]


def test_a_declared_body_over_the_limit_is_413_before_parsing(tenant, app_settings):
    from image_to_video.models import Job

    app_settings(GENERATE_BODY_LIMIT=1000)
    answer = tenant.api.post(GENERATE, generate_body(), format="json")
    assert answer.status_code == 413 and "1000 bytes" in answer.json()["detail"]
    assert not Job.objects.exists()


def test_jobs_run_with_celery_task_always_eager(transactional_db, tenant, app_settings):
    from image_to_video.models import Job

    app_settings(WORKER="celery")
    current_app.conf.task_always_eager = True
    try:
        answer = tenant.api.post(GENERATE, generate_body(), format="json")
    finally:
        current_app.conf.task_always_eager = False
    assert answer.status_code == 202
    job = Job.objects.select_related("asset").get(pk=answer.json()["jobId"])
    assert job.status == "completed" and job.asset is not None and job.asset.frame_count == 30


def test_server_log_lines_lose_their_query_strings():
    record = logging.LogRecord(
        "django.server",
        logging.INFO,
        __file__,
        1,
        '"%s" %s %s',
        ("GET /x/?ticket=t0ps3cret HTTP/1.1", "200", "9"),
        None,
    )
    for handler_filter in logging.getLogger("django.server").filters:
        handler_filter.filter(record)
    assert "t0ps3cret" not in record.getMessage() and "GET /x/ HTTP/1.1" in record.getMessage()


def test_a_real_beat_sends_the_sweeps(tmp_path):
    """A beat process of the standalone project's Celery app, whose settings name no schedule at all."""
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT

    env = dict(os.environ, RECOVER_EVERY="0.5", AIRWAVE_VAR_DIR=str(tmp_path))
    beat = [sys.executable, "-m", "celery", "-A", "airwave", "beat", "-l", "info", "-s", str(tmp_path / "schedule")]
    proc = subprocess.Popen(beat, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "Sending due task image_to_video.recover_jobs" in line:
                break
    finally:
        proc.terminate()
        proc.wait(10)
    assert "Sending due task image_to_video.recover_jobs" in seen[-1], "".join(seen[-20:])


def test_the_sweeps_join_any_celery_apps_beat_schedule_and_the_hosts_own_entry_wins(app_settings):
    from types import SimpleNamespace

    from celery import Celery

    from image_to_video.tasks import _register_periodic

    app_settings(RECOVER_EVERY=7.0, IO_QUEUE="video-io")
    host = Celery("host")
    host.conf.beat_schedule = {"image_to_video.reconcile_assets": {"task": "x", "schedule": 1.0}}
    _register_periodic(SimpleNamespace(app=host))
    schedule = host.conf.beat_schedule
    assert schedule["image_to_video.recover_jobs"]["schedule"] == 7.0
    assert schedule["image_to_video.retry_webhooks"]["options"] == {"queue": "video-io"}
    assert schedule["image_to_video.reconcile_assets"]["task"] == "x"
    bare = Celery("bare")  # no beat_schedule of its own at all
    _register_periodic(SimpleNamespace(app=bare))
    assert set(bare.conf.beat_schedule) == {
        f"image_to_video.{n}" for n in ("recover_jobs", "retry_webhooks", "reconcile_assets")
    }
    app_settings(PERIODIC_TASKS=False)
    none = Celery("none")
    _register_periodic(SimpleNamespace(app=none))
    assert not none.conf.beat_schedule


SEATS: dict[object, set] = {}  # a host's own membership rule: user id -> client keys


def seats(user):
    return SEATS.get(user.pk, set())


def test_membership_is_whatever_the_hosts_access_callable_says(settings, tenant, outsider):
    """AIRWAVE_CLIENT_ACCESS decides membership everywhere; the tenancy memberships no longer count."""
    from image_to_video.models import Job

    from .factories import make_job

    job = make_job(tenant)
    settings.AIRWAVE_CLIENT_ACCESS = "tests.service.test_library.seats"
    SEATS.clear()
    SEATS[outsider.user.pk] = {tenant.client.pk}  # the outsider holds a seat in the tenant's client
    try:
        assert outsider.api.get(f"/api/image-to-video/jobs/{job.pk}").status_code == 200
        assert tenant.api.get(f"/api/image-to-video/jobs/{job.pk}").status_code == 404  # a member without a seat
        listing = outsider.api.get(f"/api/image-to-video/jobs/client/{tenant.client.pk}").json()
        assert [j["jobId"] for j in listing["results"]] == [str(job.pk)]
        ticket = outsider.api.post("/api/image-to-video/ws-ticket", {"clientId": str(tenant.client.pk)}, format="json")
        assert ticket.status_code == 200
        refused = tenant.api.post("/api/image-to-video/ws-ticket", {"clientId": str(tenant.client.pk)}, format="json")
        assert refused.status_code in (400, 404)
        assert Job.objects.count() == 1
    finally:
        SEATS.clear()


def test_drf_tokens_of_an_old_database_keep_working(transactional_db, tenant):
    """The standalone project used rest_framework.authtoken; its keys are copied with their age."""
    from importlib import import_module

    from django.apps import apps
    from django.db import connection
    from django.utils import timezone

    from assets.models import ApiToken

    copy = import_module("assets.migrations.0007_apitoken").copy_drf_tokens
    created = timezone.now() - timezone.timedelta(days=3)
    ApiToken.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz, user_id int)")
        cursor.execute("INSERT INTO authtoken_token VALUES (%s, %s, %s)", ["a" * 40, created, tenant.user.pk])
    try:
        with connection.schema_editor() as editor:
            copy(apps, editor)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE authtoken_token")
    token = ApiToken.objects.get(user=tenant.user)
    assert token.key == "a" * 40 and abs((token.created - created).total_seconds()) < 1
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {'a' * 40}")
    assert client.get("/api/assets/").status_code == 200


def test_only_the_lifecycle_writes_job_rows():
    """One writer per kind of row (Zulip's actions): a job row is written in services/lifecycle.py only."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "image_to_video"
    writes = {"update", "create", "get_or_create", "update_or_create", "bulk_update", "bulk_create", "delete", "save"}

    def on_jobs(node: ast.AST) -> bool:
        """Whether a call is ``job.save()``-like, or a chain that starts at ``Job.objects``."""
        if isinstance(node, ast.Name):
            return node.id == "job"
        while isinstance(node, ast.Call | ast.Attribute):
            if isinstance(node, ast.Attribute) and node.attr == "objects" and getattr(node.value, "id", "") == "Job":
                return True
            node = node.func if isinstance(node, ast.Call) else node.value
        return False

    offenders = [
        f"{path.relative_to(package)}:{node.lineno}"
        for path in package.rglob("*.py")
        if "migrations" not in path.parts and path.name != "lifecycle.py"
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in writes
        and on_jobs(node.func.value)
    ]
    assert offenders == [], f"job rows written outside services/lifecycle.py: {offenders}"
