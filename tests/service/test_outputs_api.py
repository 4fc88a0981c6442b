"""Loops, codecs and motion blur over the API, and the quality report every asset carries."""

import uuid

import av
import pytest

from assets.models import Asset
from image_to_video.models import Job
from tests.conftest import generate_body, upload_files, wait_for_job

GENERATE = "/api/image-to-video/generate"


def test_a_looped_blurred_hevc_job_is_recorded_rendered_and_reported(in_process, tenant, s3, tmp_path):
    body = generate_body(
        motionType="pan", motionDirection="right", loop=True, videoCodec="hevc", motionBlur=0.5, width=192, height=128
    )
    made = tenant.api.post(GENERATE, body, format="json")
    assert made.status_code == 202, made.content
    params = made.json()["params"]
    assert (params["loop"], params["videoCodec"], params["motionBlur"]) == (True, "hevc", 0.5)
    job = wait_for_job(made.json()["jobId"], asset=True)
    asset = tenant.api.get(f"/api/assets/{job.asset_id}").json()
    assert asset["codec"] == "hevc" and asset["metadata"]["loop"] is True
    quality = asset["metadata"]["quality"]
    assert set(quality) == {"jitterPx", "borderPixels", "subjectInFrame", "flicker", "flags"}
    # Small, blurred and HEVC-coded, the smoothest move measures a little above the 0.1–0.2 px of larger ones.
    assert quality["borderPixels"] == 0 and quality["jitterPx"] < 0.5 and quality["flags"] == []
    assert job.camera_path[0]["x"] == pytest.approx(job.camera_path[-1]["x"]), "there and back"
    video = tmp_path / "v.mp4"
    video.write_bytes(Asset.objects.get(pk=job.asset_id).file.read())
    with av.open(str(video)) as container:
        assert container.streams.video[0].codec_tag == "hvc1"


def test_a_webm_job_is_filed_as_webm(in_process, tenant, s3):
    made = tenant.api.post(GENERATE, generate_body(outputFormat="webm", width=160, height=96), format="json")
    assert made.status_code == 202, made.content
    job = wait_for_job(made.json()["jobId"], asset=True)
    asset = tenant.api.get(f"/api/assets/{job.asset_id}").json()
    assert asset["contentType"] == "video/webm" and asset["codec"] in ("vp9", "libvpx-vp9")
    assert asset["frameCount"] == 30


@pytest.mark.parametrize(
    "override,field",
    [
        ({"outputFormat": "webm", "videoCodec": "hevc"}, "videoCodec"),
        ({"outputFormat": "mov", "videoCodec": "av1"}, "videoCodec"),
        ({"videoCodec": "prores"}, "videoCodec"),
        ({"motionBlur": 2}, "motionBlur"),
        ({"motionBlur": "lots"}, "motionBlur"),
        ({"loop": "sometimes"}, "loop"),
    ],
)
def test_bad_outputs_are_a_400_naming_the_field(tenant, override, field):
    before = Job.objects.count(), len(upload_files())
    answer = tenant.api.post(GENERATE, generate_body(**override), format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.content
    assert (Job.objects.count(), len(upload_files())) == before


def _asset(tenant, name, **quality):
    return Asset.objects.create(
        client=tenant.client,
        user=tenant.user,
        file=f"clients/{tenant.client.pk}/videos/{uuid.uuid4()}.mp4",
        name=name,
        content_type="video/mp4",
        size=1,
        metadata={"quality": quality} if quality else {},
    )


def test_assets_filter_by_their_quality(tenant):
    _asset(tenant, "clean", jitterPx=0.1, borderPixels=0, subjectInFrame=1.0, flicker=0.3, flags=[])
    _asset(tenant, "shaky", jitterPx=0.9, borderPixels=0, subjectInFrame=1.0, flicker=0.3, flags=["jitterPx"])
    _asset(
        tenant,
        "bordered",
        jitterPx=0.1,
        borderPixels=120,
        subjectInFrame=0.5,
        flicker=0.3,
        flags=["borderPixels", "subjectInFrame"],
    )
    _asset(tenant, "unmeasured")

    def names(query):
        answer = tenant.api.get(f"/api/assets/{query}")
        assert answer.status_code == 200, answer.content
        return sorted(a["name"] for a in answer.json()["results"])

    assert names("?quality=ok") == ["clean"]
    assert names("?quality=flagged") == ["bordered", "shaky"]
    assert names("?qualityFlag=subjectInFrame") == ["bordered"]
    assert tenant.api.get("/api/assets/?quality=great").status_code == 400
