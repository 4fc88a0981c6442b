"""A member of another client never sees, changes or lists anything of this one: 404 everywhere."""

import uuid

import pytest

from image_to_video.models import JobStatus

from .factories import make_job


@pytest.fixture
def job(tenant):
    return make_job(tenant)


def test_owner_sees_job_and_list(tenant, job):
    assert tenant.api.get(f"/api/image-to-video/jobs/{job.pk}").status_code == 200
    assert tenant.api.get(f"/api/image-to-video/jobs/client/{tenant.client.pk}").json()["count"] == 1


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/image-to-video/jobs/{job}"),
        ("get", "/api/image-to-video/jobs/{job}/"),
        ("get", "/api/image-to-video/jobs/client/{client}"),
        ("post", "/api/image-to-video/jobs/{job}/cancel"),
    ],
)
def test_other_clients_member_gets_404(outsider, job, tenant, method, path):
    url = path.format(job=job.pk, client=tenant.client.pk)
    response = getattr(outsider.api, method)(url)
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED, "nothing changed"


@pytest.mark.parametrize(
    "path",
    [
        "/api/image-to-video/jobs/{uuid}",
        "/api/image-to-video/jobs/nonsense",
        "/api/image-to-video/jobs/client/{uuid}",
        "/api/image-to-video/jobs/client/x",
        "/api/image-to-video/jobs/{uuid}/cancel",
    ],
)
def test_unknown_or_malformed_ids_are_404(tenant, path):
    url = path.format(uuid=uuid.uuid4())
    method = tenant.api.post if url.endswith("cancel") else tenant.api.get
    assert method(url).status_code == 404


def test_anonymous_is_401_on_every_route(client, job, tenant):
    for url in (f"/api/image-to-video/jobs/{job.pk}", f"/api/image-to-video/jobs/client/{tenant.client.pk}"):
        assert client.get(url).status_code == 401
    assert client.post(f"/api/image-to-video/jobs/{job.pk}/cancel").status_code == 401


def test_session_auth_works_too(client, tenant, job):
    client.force_login(tenant.user)
    assert client.get(f"/api/image-to-video/jobs/{job.pk}").status_code == 200
