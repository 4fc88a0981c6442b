"""OpenAPI schema with every contract route; health and readiness checks."""

import os
import signal
import subprocess

import pytest
import requests
import yaml
from django.core.management import call_command

from tests.conftest import answers, eventually, free_port

CONTRACT_ROUTES = {
    "/api/image-to-video/generate": "post",
    "/api/image-to-video/jobs/{jobId}": "get",
    "/api/image-to-video/jobs/client/{clientId}": "get",
    "/api/image-to-video/jobs/{jobId}/cancel": "post",
    "/api/image-to-video/webhook": "post",
    "/api/assets/": "get",
    "/api/assets/{assetId}": "get",
    "/healthz": "get",
    "/readyz": "get",
}


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker, tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "schema.yml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    return yaml.safe_load(out.read_text())


def test_schema_validates_and_has_every_contract_route(schema):
    assert schema["openapi"].startswith("3.")
    paths = {path.rstrip("/") or path: ops for path, ops in schema["paths"].items()}
    for route, method in CONTRACT_ROUTES.items():
        key = route.rstrip("/")
        assert key in paths, f"{route} missing; have {sorted(paths)}"
        assert method in paths[key]


def test_schema_uses_wire_names(schema):
    components = schema["components"]["schemas"]
    generate = components["GenerateRequestRequest"]["properties"]
    assert {
        "sourceImage",
        "motionType",
        "motionStrength",
        "motionDirection",
        "duration",
        "outputFormat",
        "width",
        "height",
        "clientId",
        "provider",
        "promptText",
    } <= set(generate)
    job = components["Job"]["properties"]
    assert {
        "jobId",
        "clientId",
        "userId",
        "status",
        "progress",
        "provider",
        "params",
        "error",
        "createdAt",
        "updatedAt",
        "completedAt",
        "assetId",
        "videoUrl",
    } <= set(job)
    asset = components["Asset"]["properties"]
    assert {"assetId", "clientId", "contentType", "url", "tags", "categories", "metadata", "createdAt"} <= set(asset)


def test_schema_and_docs_are_served(tenant, client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def _wait(check, timeout=15):
    eventually(answers(check), timeout, "the service up")


class Service:
    """A dedicated server process this test may stop and start (never the shared ones)."""

    def __init__(self, argv, ready):
        self.argv, self.ready, self.proc = argv, ready, None

    def start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait(self.ready)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)


@pytest.fixture
def own_redis_and_s3(settings, s3):
    import boto3
    import redis

    redis_port, s3_port = free_port(), free_port()
    own_redis = Service(
        ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "", "--appendonly", "no"],
        lambda: redis.Redis(port=redis_port).ping(),
    )
    moto = os.path.join(os.path.dirname(os.sys.executable), "moto_server")
    own_s3 = Service(
        [moto, "-H", "127.0.0.1", "-p", str(s3_port)],
        lambda: requests.get(f"http://127.0.0.1:{s3_port}/", timeout=1).status_code < 500,
    )
    own_redis.start()
    own_s3.start()
    endpoint = f"http://127.0.0.1:{s3_port}"

    def make_bucket():
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket="readyz-bucket")

    make_bucket()
    url = f"redis://127.0.0.1:{redis_port}/0"
    settings.REDIS_URL = settings.CELERY_BROKER_URL = url
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [url]}}
    }
    storage = dict(settings.STORAGES["image_to_video"])
    storage["OPTIONS"] = dict(storage["OPTIONS"], bucket_name="readyz-bucket", endpoint_url=endpoint)
    settings.STORAGES = {**settings.STORAGES, "image_to_video": storage}
    settings.READYZ_CACHE_SECONDS = 0  # every call checks afresh here
    yield own_redis, own_s3, make_bucket
    own_redis.stop()
    own_s3.stop()


def test_readyz_names_what_is_down_and_recovers(db, client, own_redis_and_s3):
    own_redis, own_s3, make_bucket = own_redis_and_s3
    ok = client.get("/readyz")
    assert ok.status_code == 200, ok.json()
    assert ok.json()["checks"] == {"database": "ok", "channelLayer": "ok", "storage": "ok", "broker": "ok"}

    own_redis.stop()
    down = client.get("/readyz")
    assert down.status_code == 503
    assert set(down.json()["unavailable"]) == {"channelLayer", "broker"}
    own_redis.start()
    assert client.get("/readyz").status_code == 200

    own_s3.stop()
    down = client.get("/readyz")
    assert down.status_code == 503 and down.json()["unavailable"] == ["storage"]
    own_s3.start()
    make_bucket()  # moto keeps nothing across restarts
    assert client.get("/readyz").status_code == 200


def test_readyz_is_cached_and_writes_only_for_operators(db, client, settings, s3):
    from tests.conftest import bucket_keys

    settings.READYZ_CACHE_SECONDS = 60
    first, second = client.get("/readyz").json(), client.get("/readyz").json()
    assert first["checkedAt"] == second["checkedAt"], "anonymous hits within the TTL are served from the cache"
    before = len(bucket_keys(s3, "readyz/"))
    settings.READYZ_CACHE_SECONDS = 0
    for _ in range(3):
        client.get("/readyz")
    assert len(bucket_keys(s3, "readyz/")) == before == 0, "an anonymous probe writes nothing"


def test_the_docs_offer_a_file_upload_and_a_request_that_works(tenant, s3):
    schema = tenant.api.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    for route in ("/api/image-to-video/generate", "/api/image-to-video/plan"):
        content = schema["paths"][route]["post"]["requestBody"]["content"]
        upload = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
        assert schema["components"]["schemas"][upload]["properties"]["sourceImage"]["format"] == "binary", route
        example = next(iter(content["application/json"]["examples"].values()))["value"]
        answer = tenant.api.post(route, example, format="json")
        assert answer.status_code in (200, 202), (route, answer.content)
