"""A member of another client never sees, changes or lists anything of this one: 404 everywhere."""

import uuid

import pytest

from image_to_video.models import ClientWebhookSettings, Job, JobStatus

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
        ("get", "/api/image-to-video/jobs/{job}/deliveries"),
        ("post", "/api/image-to-video/clients/{client}/webhook-secret"),
        ("get", "/api/image-to-video/batches/{batch}"),
    ],
)
def test_other_clients_member_gets_404(outsider, job, tenant, method, path):
    batch = uuid.uuid4()
    Job.objects.filter(pk=job.pk).update(batch_id=batch)
    url = path.format(job=job.pk, client=tenant.client.pk, batch=batch)
    response = getattr(outsider.api, method)(url)
    assert response.status_code == 404
    job.refresh_from_db()
    assert job.status == JobStatus.QUEUED, "nothing changed"
    assert not ClientWebhookSettings.objects.filter(client=tenant.client).exists(), "no secret for the outsider"


@pytest.mark.parametrize(
    "path",
    [
        "/api/image-to-video/jobs/{uuid}",
        "/api/image-to-video/jobs/nonsense",
        "/api/image-to-video/jobs/client/{uuid}",
        "/api/image-to-video/jobs/client/x",
        "/api/image-to-video/jobs/{uuid}/cancel",
        "/api/image-to-video/jobs/{uuid}/deliveries",
        "/api/image-to-video/batches/{uuid}",
        "/api/image-to-video/batches/x",
        "/api/image-to-video/clients/{uuid}/webhook-secret",
    ],
)
def test_unknown_or_malformed_ids_are_404(tenant, path):
    url = path.format(uuid=uuid.uuid4())
    method = tenant.api.post if url.endswith(("cancel", "webhook-secret")) else tenant.api.get
    assert method(url).status_code == 404


def test_anonymous_is_401_on_every_route(client, job, tenant):
    for url in (f"/api/image-to-video/jobs/{job.pk}", f"/api/image-to-video/jobs/client/{tenant.client.pk}"):
        assert client.get(url).status_code == 401
    assert client.post(f"/api/image-to-video/jobs/{job.pk}/cancel").status_code == 401
    assert client.get(f"/api/image-to-video/jobs/{job.pk}/deliveries").status_code == 401
    assert client.post(f"/api/image-to-video/clients/{tenant.client.pk}/webhook-secret").status_code == 401
    assert client.get(f"/api/image-to-video/batches/{uuid.uuid4()}").status_code == 401
    assert client.post("/api/image-to-video/generate/variants", {}, content_type="application/json").status_code == 401


def test_session_auth_works_too(client, tenant, job):
    client.force_login(tenant.user)
    assert client.get(f"/api/image-to-video/jobs/{job.pk}").status_code == 200
