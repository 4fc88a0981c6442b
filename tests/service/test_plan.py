"""POST /plan: generate's body answered with the framing and camera path a job would render, making nothing."""

import pytest

from image_to_video.models import Job
from tests.conftest import ASTRONAUT, data_uri, generate_body, photo_bytes, upload_files, wait_for_job

PLAN = "/api/image-to-video/plan"
GENERATE = "/api/image-to-video/generate"
KEYFRAMES = [
    {"t": 0, "zoom": 1.2, "x": 0.4, "y": 0.45, "ease": "smooth"},
    {"t": 0.5, "zoom": 1.6, "x": 0.6, "y": 0.5, "ease": "hold"},
    {"t": 1, "zoom": 1.6, "x": 0.6, "y": 0.5},
]
CASES = {
    "face, auto focus": {"sourceImage": data_uri(ASTRONAUT.read_bytes()), "width": 192, "height": 108},
    "pan, a focus point": {"motionType": "pan", "motionDirection": "left", "focus": {"x": 0.3, "y": 0.6}},
    "rotation, centre": {"motionType": "rotation", "motionDirection": "right", "focus": "center"},
    "keyframes": {"keyframes": KEYFRAMES},
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_a_plan_is_what_the_job_then_records_exactly(in_process, tenant, s3, case):
    body = generate_body(**CASES[case])
    before = Job.objects.count(), len(upload_files())
    planned = tenant.api.post(PLAN, body, format="json")
    assert planned.status_code == 200, planned.content
    plan = planned.json()
    assert (Job.objects.count(), len(upload_files())) == before, "a plan makes nothing"
    assert plan["width"] == body["width"] and plan["height"] == body["height"]
    assert plan["fps"] == 30 and plan["frameCount"] == round(body["duration"] * 30)
    assert len(plan["cameraPath"]) >= 2 and {"t", "zoom", "x", "y", "angle"} <= set(plan["cameraPath"][0])
    job_id = tenant.api.post(GENERATE, body, format="json").json()["jobId"]
    wait_for_job(job_id, asset=True)
    job = tenant.api.get(f"/api/image-to-video/jobs/{job_id}").json()
    assert job["status"] == "completed"
    assert job["cameraPath"] == plan["cameraPath"], "the job renders exactly what was planned"
    assert job["framing"] == plan["framing"]


def test_the_plan_finds_the_face_and_says_so(tenant):
    plan = tenant.api.post(PLAN, generate_body(**CASES["face, auto focus"]), format="json").json()
    framing = plan["framing"]
    assert framing["method"] == "face" and framing["subjectInFrame"] is True
    x0, y0, x1, y1 = framing["box"]  # fractions of the photo
    assert 0 < x1 - x0 < 0.5 and 0 < y1 - y0 < 0.5 and 0.3 < (x0 + x1) / 2 < 0.7, framing["box"]


def test_multipart_plans_too(tenant):
    body = generate_body()
    body.pop("sourceImage")
    response = tenant.api.post(PLAN, {**body, "sourceImage": open(ASTRONAUT, "rb")}, format="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["framing"]["method"] == "face"


@pytest.mark.parametrize(
    "override,field",
    [
        ({"sourceImage": "data:image/png;base64,aGVsbG8="}, "sourceImage"),
        ({"sourceImage": data_uri(photo_bytes(1, 1))}, "sourceImage"),
        ({"width": 63}, "width"),
        ({"keyframes": [{"t": 0}, {"t": 5}]}, "keyframes[1].t"),
        ({"motionType": "wobble"}, "motionType"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_a_400_naming_it(tenant, override, field):
    before = Job.objects.count(), len(upload_files())
    response = tenant.api.post(PLAN, generate_body(**override), format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert (Job.objects.count(), len(upload_files())) == before


def test_plans_only_for_members_of_the_client_named(tenant, outsider):
    from rest_framework.test import APIClient

    response = tenant.api.post(PLAN, generate_body(clientId=str(outsider.client.pk)), format="json")
    assert response.status_code == 400 and "clientId" in response.json()
    assert APIClient().post(PLAN, generate_body(), format="json").status_code in (401, 403)
