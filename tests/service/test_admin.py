"""The admin as a staff user sees it: list, filters, search, the job page, and each action."""

import re

import pytest
from django.contrib.auth import get_user_model

from assets.models import Asset
from image_to_video.models import Job, JobStatus

from .factories import make_job


@pytest.fixture
def staff(client, db):
    user = get_user_model().objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    return client


def _action(staff, action, jobs):
    return staff.post(
        "/admin/image_to_video/job/", {"action": action, "_selected_action": [str(j.pk) for j in jobs]}, follow=True
    )


def test_list_filters_and_search(staff, tenant):
    failed = make_job(tenant, status=JobStatus.FAILED, provider="runway", provider_task_id="task-abc-123")
    done = make_job(tenant, status=JobStatus.COMPLETED)
    page = staff.get("/admin/image_to_video/job/")
    assert page.status_code == 200
    html = page.content.decode()
    assert str(failed.pk) in html and str(done.pk) in html
    for column in ("Status", "Progress", "Provider", "Client", "User", "Created at", "Duration (s)"):
        assert column.lower() in html.lower()
    only_failed = staff.get("/admin/image_to_video/job/?status__exact=failed").content.decode()
    assert str(failed.pk) in only_failed and str(done.pk) not in only_failed
    by_provider = staff.get("/admin/image_to_video/job/?provider__exact=runway").content.decode()
    assert str(failed.pk) in by_provider and str(done.pk) not in by_provider
    by_task = staff.get("/admin/image_to_video/job/?q=task-abc-123").content.decode()
    assert str(failed.pk) in by_task and str(done.pk) not in by_task
    by_user = staff.get(f"/admin/image_to_video/job/?q={tenant.user.username}").content.decode()
    assert str(failed.pk) in by_user and str(done.pk) in by_user


def test_job_page_shows_source_video_params_error_events_and_asset(staff, tenant):
    from image_to_video.models import WebhookEvent

    job = make_job(tenant, status=JobStatus.COMPLETED, error_message="")
    job.asset = Asset.objects.create(
        client=tenant.client,
        user=tenant.user,
        file="clients/x/v.mp4",
        name="Vid",
        content_type="video/mp4",
        size=1,
    )
    job.save(update_fields=["asset"])
    WebhookEvent.objects.create(webhook_id="msg_admin", job=job, body={"id": "t", "status": "SUCCEEDED"})
    html = staff.get(f"/admin/image_to_video/job/{job.pk}/change/").content.decode()
    source = re.search(r'<img src="([^"]+)"[^>]*alt="source image"', html)
    assert source, "the source image is shown"
    image = staff.get(source.group(1))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert "<video" in html and "controls" in html
    assert "msg_admin" in html and "Vid" in html and "zoom" in html
    failed = make_job(tenant, status=JobStatus.FAILED, error_code="runway_failed", error_message="Flagged input")
    assert "Flagged input" in staff.get(f"/admin/image_to_video/job/{failed.pk}/change/").content.decode()


def test_status_and_file_are_read_only(staff, tenant):
    job = make_job(tenant)
    html = staff.get(f"/admin/image_to_video/job/{job.pk}/change/").content.decode()
    assert 'name="status"' not in html and 'name="source_image"' not in html
    staff.post(f"/admin/image_to_video/job/{job.pk}/change/", {"status": "completed"})
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED


def test_cancel_action(staff, tenant):
    queued, done = make_job(tenant), make_job(tenant, status=JobStatus.COMPLETED)
    response = _action(staff, "cancel_jobs", [queued, done])
    assert "Canceled 1 job" in response.content.decode()
    queued.refresh_from_db()
    done.refresh_from_db()
    assert (queued.status, done.status) == ("canceled", "completed")


def test_retry_action_queues_a_copy(staff, tenant):
    failed = make_job(tenant, status=JobStatus.FAILED, motion_type="pan", motion_direction="left")
    response = _action(staff, "retry_jobs", [failed])
    assert "Queued 1 new job" in response.content.decode()
    copy = Job.objects.exclude(pk=failed.pk).get()
    assert (copy.status, copy.motion_type, copy.motion_direction, copy.client) == (
        "queued",
        "pan",
        "left",
        tenant.client,
    )
    assert copy.source_image.read() == failed.source_image.read()


def test_recreate_asset_action(staff, tenant, s3, tmp_path):
    video = tmp_path / "v.mp4"
    video.write_bytes(b"\0" * 64)
    job = make_job(tenant, status=JobStatus.COMPLETED, output_path=str(video))
    response = _action(staff, "recreate_assets", [job])
    assert "Created 1 asset" in response.content.decode()
    assert Asset.objects.filter(job=job).count() == 1


def test_assets_tags_and_categories_in_the_admin(staff, tenant):
    from assets.models import Category, Tag

    Tag.objects.create(name="brand")
    Category.objects.create(name="videos")
    for url in ("/admin/assets/asset/", "/admin/assets/tag/", "/admin/assets/category/", "/admin/tenancy/client/"):
        assert staff.get(url).status_code == 200


def test_non_staff_are_sent_to_login(client, tenant):
    client.force_login(tenant.user)
    assert client.get("/admin/image_to_video/job/").status_code == 302


def test_retry_refuses_a_job_whose_source_was_pruned(staff, tenant):
    from django.utils import timezone

    from image_to_video.services import job_sources_prune

    failed = make_job(tenant, status=JobStatus.FAILED)
    Job.objects.filter(pk=failed.pk).update(completed_at=timezone.now() - timezone.timedelta(days=8))
    assert job_sources_prune(older_than_days=7) == 1
    response = _action(staff, "retry_jobs", [failed])
    assert "Queued 0 new job" in response.content.decode() and "no longer kept" in response.content.decode()
    assert Job.objects.count() == 1


@pytest.fixture
def viewer(db):
    """Staff with view permission on jobs only."""
    from django.contrib.auth.models import Permission
    from django.test import Client

    user = get_user_model().objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_job"))
    browser = Client()
    browser.force_login(user)
    return browser


def test_a_view_only_staff_user_can_look_but_not_act(viewer, tenant):
    queued = make_job(tenant)
    failed = make_job(tenant, status=JobStatus.FAILED)
    page = viewer.get("/admin/image_to_video/job/")
    assert page.status_code == 200 and str(queued.pk) in page.content.decode()
    for action in ("cancel_jobs", "retry_jobs", "recreate_assets"):
        assert f'value="{action}"' not in page.content.decode()
        viewer.post(
            "/admin/image_to_video/job/", {"action": action, "_selected_action": [str(queued.pk), str(failed.pk)]}
        )
    assert Job.objects.get(pk=queued.pk).status == "queued" and Job.objects.count() == 2
    assert viewer.get(f"/admin/image_to_video/job/{queued.pk}/source/").status_code == 200


def test_staff_without_view_permission_cannot_open_source_images(db, tenant):
    from django.test import Client

    job = make_job(tenant)
    user = get_user_model().objects.create_user("bare-staff", password="pw", is_staff=True)
    browser = Client()
    browser.force_login(user)
    assert browser.get(f"/admin/image_to_video/job/{job.pk}/source/").status_code == 403


def test_internal_fields_are_read_only(staff, tenant):
    job = make_job(tenant)
    html = staff.get(f"/admin/image_to_video/job/{job.pk}/change/").content.decode()
    for name in ("attempts", "lease_expires_at", "video_name", "source_name", "progress"):
        assert f'name="{name}"' not in html, f"{name} is editable"
    staff.post(f"/admin/image_to_video/job/{job.pk}/change/", {"attempts": "7", "lease_expires_at_0": "2030-01-01"})
    job.refresh_from_db()
    assert job.attempts == 0 and job.lease_expires_at is None


def test_the_video_plays_for_staff_outside_the_client_in_local_files_mode(local_files, staff, viewer, tenant):
    from django.core.files.base import ContentFile
    from django.test import Client

    from assets.storage import files_storage

    name = files_storage.save(f"videos/{tenant.client.pk}/clip.mp4", ContentFile(b"video bytes"))
    job = make_job(tenant, status=JobStatus.COMPLETED)
    job.asset = Asset.objects.create(
        client=tenant.client, user=tenant.user, file=name, name="Vid", content_type="video/mp4", size=11
    )
    job.save(update_fields=["asset"])
    html = staff.get(f"/admin/image_to_video/job/{job.pk}/change/").content.decode()
    src = re.search(r'<video src="([^"]+)"', html).group(1)
    assert src == f"/admin/image_to_video/job/{job.pk}/video/", "not the members-only asset route"
    played = staff.get(src)
    assert played.status_code == 200 and b"".join(played.streaming_content) == b"video bytes"
    assert viewer.get(src).status_code == 200, "view permission is enough"
    bare = Client()
    bare.force_login(get_user_model().objects.create_user("bare", password="pw", is_staff=True))
    assert bare.get(src).status_code == 403
