"""Focus and keyframes over the API: validated with names, recorded on the job and its asset, rendered."""

import pytest

from image_to_video.models import Job
from tests.conftest import data_uri, generate_body, upload_files, wait_for_job

GENERATE = "/api/image-to-video/generate"
KEYFRAMES = [
    {"t": 0, "zoom": 1.2, "x": 0.4, "y": 0.45, "ease": "smooth"},
    {"t": 0.5, "zoom": 1.5, "x": 0.6, "y": 0.5, "ease": "hold"},
    {"t": 1, "zoom": 1.5, "x": 0.6, "y": 0.5},
]

BAD = [
    ("focus word", {"focus": "middle"}, "focus"),
    ("focus x out of range", {"focus": {"x": 1.5, "y": 0.5}}, "focus.x"),
    ("focus y negative", {"focus": {"x": 0.5, "y": -0.1}}, "focus.y"),
    ("focus missing y", {"focus": {"x": 0.5}}, "focus"),
    ("focus as text numbers", {"focus": {"x": "0.5", "y": "0.5"}}, "focus"),
    ("one keyframe", {"keyframes": KEYFRAMES[:1]}, "keyframes"),
    ("seventeen keyframes", {"keyframes": [{"t": i / 20} for i in range(17)]}, "keyframes"),
    ("times not increasing", {"keyframes": [{"t": 0.5}, {"t": 0.5}]}, "keyframes[1].t"),
    ("time past the duration", {"keyframes": [{"t": 0}, {"t": 2}]}, "keyframes[1].t"),
    ("zoom below one", {"keyframes": [{"t": 0, "zoom": 0.5}, {"t": 1}]}, "keyframes[0].zoom"),
    ("zoom above four", {"keyframes": [{"t": 0}, {"t": 1, "zoom": 5}]}, "keyframes[1].zoom"),
    ("x out of the photo", {"keyframes": [{"t": 0}, {"t": 1, "x": 1.2}]}, "keyframes[1].x"),
    ("angle too wide", {"keyframes": [{"t": 0}, {"t": 1, "angle": -50}]}, "keyframes[1].angle"),
    ("unknown ease", {"keyframes": [{"t": 0, "ease": "bounce"}, {"t": 1}]}, "keyframes[0].ease"),
    ("unknown keyframe field", {"keyframes": [{"t": 0, "speed": 2}, {"t": 1}]}, "keyframes[0].speed"),
    ("keyframe without t", {"keyframes": [{"t": 0}, {"zoom": 2}]}, "keyframes[1].t"),
    ("keyframe zoom as text", {"keyframes": [{"t": 0}, {"t": 1, "zoom": "big"}]}, "keyframes[1].zoom"),
    ("keyframes not a list", {"keyframes": {"t": 0}}, "keyframes"),
]


@pytest.mark.parametrize("case,override,field", BAD, ids=[c[0] for c in BAD])
def test_bad_focus_and_keyframes_are_a_400_naming_the_keyframe_and_field(tenant, case, override, field):
    before = Job.objects.count(), len(upload_files())
    response = tenant.api.post(GENERATE, generate_body(**override), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    if (
        field == "keyframes"
        and isinstance(errors[field], list)
        and errors[field]
        and isinstance(errors[field][0], dict)
    ):
        assert any(errors[field]), errors  # DRF's per-keyframe form names the index by position
    assert (Job.objects.count(), len(upload_files())) == before


def test_a_focus_point_is_recorded_and_framed(in_process, tenant, s3):
    response = tenant.api.post(GENERATE, generate_body(focus={"x": 0.3, "y": 0.4}), format="json")
    assert response.status_code == 202, response.json()
    assert response.json()["params"]["focus"] == {"x": 0.3, "y": 0.4}
    job = wait_for_job(response.json()["jobId"], asset=True)
    body = tenant.api.get(f"/api/image-to-video/jobs/{job.pk}").json()
    assert body["framing"]["requested"] == "point" and body["framing"]["focus"] == {"x": 0.3, "y": 0.4}
    assert len(body["cameraPath"]) == 2 and body["cameraPath"][-1]["x"] < 0.5
    asset = tenant.api.get(f"/api/assets/{body['assetId']}").json()
    assert asset["metadata"]["focus"] == {"x": 0.3, "y": 0.4}
    assert asset["metadata"]["cameraPath"] == body["cameraPath"]


def test_keyframes_are_recorded_as_given_and_the_path_resolved(in_process, tenant, s3):
    response = tenant.api.post(GENERATE, generate_body(keyframes=KEYFRAMES), format="json")
    assert response.status_code == 202, response.json()
    given = response.json()["params"]["keyframes"]
    assert [k["t"] for k in given] == [0, 0.5, 1] and given[1]["ease"] == "hold" and given[2]["angle"] == 0
    job = wait_for_job(response.json()["jobId"], asset=True)
    assert job.status == "completed"
    body = tenant.api.get(f"/api/image-to-video/jobs/{job.pk}").json()
    assert body["framing"]["method"] == "keyframes"
    assert [k["x"] for k in body["cameraPath"]] == [0.4, 0.6, 0.6]


def test_auto_focus_finds_the_astronauts_face(in_process, tenant, s3):
    from tests.conftest import ASTRONAUT

    response = tenant.api.post(
        GENERATE, generate_body(sourceImage=data_uri(ASTRONAUT.read_bytes()), width=96, height=160), format="json"
    )
    job = wait_for_job(response.json()["jobId"], asset=True)
    assert job.framing["method"] == "face" and job.framing["subjectInFrame"] is True


def test_the_schema_documents_focus_keyframes_and_framing(tenant):
    schema = tenant.api.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    generate = next(v for k, v in components.items() if "properties" in v and "sourceImage" in v["properties"])
    assert {"focus", "keyframes"} <= set(generate["properties"])
    assert {"framing", "cameraPath"} <= set(components["Job"]["properties"])


def test_the_schema_documents_the_integration_routes(tenant):
    schema = tenant.api.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    assert "post" in paths["/api/image-to-video/generate"]
    assert "post" in paths["/api/image-to-video/generate/variants"]
    assert "get" in paths["/api/image-to-video/batches/{batchId}"]
    deliveries = paths["/api/image-to-video/jobs/{jobId}/deliveries"]["get"]["responses"]["200"]
    assert deliveries["content"]["application/json"]["schema"]["type"] == "array"
    assert "post" in paths["/api/image-to-video/clients/{clientId}/webhook-secret"]
    generate = schema["components"]["schemas"]["GenerateRequestRequest"]["properties"]
    assert {"webhook", "webhookEvents", "model"} <= set(generate)
    asset = schema["components"]["schemas"]["Asset"]["properties"]
    assert {"posterUrl", "fps", "frameCount", "codec", "bitrate"} <= set(asset)
    job = schema["components"]["schemas"]["Job"]["properties"]
    assert {"fallbackFrom", "batchId", "note"} <= set(job)
