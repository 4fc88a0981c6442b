"""Bad input gets a 400 naming the problem, and changes nothing: no job, no file."""

import base64
import io
import struct
import zlib

import pytest
from PIL import Image

from image_to_video.models import Job
from tests.conftest import data_uri, generate_body, photo_bytes, upload_files

GENERATE = "/api/image-to-video/generate"


def _png_claiming(width, height) -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def _truncated_jpeg() -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((300, 300), 80).convert("RGB").save(buf, "JPEG", quality=95)
    return buf.getvalue()[: len(buf.getvalue()) // 2]


BAD_JSON = [
    ("broken base64", {"sourceImage": "data:image/png;base64,iVBORw0KGgo@@@###"}, "sourceImage"),
    ("not a data uri", {"sourceImage": "https://example.com/cat.png"}, "sourceImage"),
    ("empty image", {"sourceImage": "data:image/png;base64,"}, "sourceImage"),
    ("text as image", {"sourceImage": data_uri(b"just some text, not pixels\n" * 20)}, "sourceImage"),
    ("truncated jpeg", {"sourceImage": data_uri(_truncated_jpeg(), "image/jpeg")}, "sourceImage"),
    ("image bomb header", {"sourceImage": data_uri(_png_claiming(50000, 50000))}, "sourceImage"),
    ("over 40 megapixels", {"sourceImage": data_uri(_png_claiming(8000, 6000))}, "sourceImage"),
    ("photo of one pixel", {"sourceImage": data_uri(photo_bytes(1, 1))}, "sourceImage"),
    ("photo 4 px high", {"sourceImage": data_uri(photo_bytes(400, 4))}, "sourceImage"),
    ("bmp image", {"sourceImage": data_uri(b"BM" + b"\0" * 100)}, "sourceImage"),
    ("missing image", {"sourceImage": ...}, "sourceImage"),
    ("image as number", {"sourceImage": 42}, "sourceImage"),
    ("unknown motion type", {"motionType": "wobble"}, "motionType"),
    ("direction for wrong type", {"motionType": "zoom", "motionDirection": "left"}, "motionDirection"),
    ("rotation up", {"motionType": "rotation", "motionDirection": "up"}, "motionDirection"),
    ("unknown direction", {"motionDirection": "sideways"}, "motionDirection"),
    ("strength 0", {"motionStrength": 0}, "motionStrength"),
    ("strength 101", {"motionStrength": 101}, "motionStrength"),
    ("strength as text", {"motionStrength": "strong"}, "motionStrength"),
    ("strength as bool", {"motionStrength": True}, "motionStrength"),
    ("duration too short", {"duration": 0.5}, "duration"),
    ("duration too long", {"duration": 11}, "duration"),
    ("duration as text", {"duration": "long"}, "duration"),
    ("unknown format", {"outputFormat": "avi"}, "outputFormat"),
    ("width too small", {"width": 32}, "width"),
    ("height too large", {"height": 4000}, "height"),
    ("odd width for mp4", {"width": 161}, "width"),
    ("odd height for mov", {"outputFormat": "mov", "height": 97}, "height"),
    ("width as float", {"width": 160.5}, "width"),
    ("malformed client id", {"clientId": "not-a-uuid"}, "clientId"),
    ("unknown provider", {"provider": "sora"}, "provider"),
    ("runway without key", {"provider": "runway"}, "provider"),
    ("prompt too long", {"promptText": "x" * 1001}, "promptText"),
    ("unknown field", {"fps": 60}, "fps"),
]


def _counts():
    return Job.objects.count(), len(upload_files())


@pytest.mark.parametrize("case,override,field", BAD_JSON, ids=[c[0] for c in BAD_JSON])
def test_bad_json_input_is_a_400_naming_the_field(tenant, case, override, field):
    before = _counts()
    response = tenant.api.post(GENERATE, generate_body(**override), format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert isinstance(errors[field], list) and errors[field][0], errors
    assert _counts() == before


def test_foreign_client_id_is_refused(tenant, outsider):
    before = _counts()
    response = tenant.api.post(GENERATE, generate_body(clientId=str(outsider.client.pk)), format="json")
    assert response.status_code == 400
    assert "clientId" in response.json() and "belong" in response.json()["clientId"][0]
    assert _counts() == before


def test_client_id_required_for_members_of_several_clients(tenant, make_tenant):
    make_tenant("Second", user=tenant.user)
    before = _counts()
    response = tenant.api.post(GENERATE, generate_body(), format="json")
    assert response.status_code == 400 and "clientId" in response.json()
    assert _counts() == before


def test_body_over_the_size_limit(tenant):
    before = _counts()
    huge = "data:image/png;base64," + base64.b64encode(b"\0" * (11 * 1024 * 1024)).decode()
    response = tenant.api.post(GENERATE, generate_body(sourceImage=huge), format="json")
    assert response.status_code in (400, 413)
    body = response.json()
    assert "sourceImage" in body or "detail" in body
    assert _counts() == before


def test_multipart_file_too_large_and_not_an_image(tenant):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = _counts()
    text = SimpleUploadedFile("notes.png", b"hello\n" * 100, content_type="image/png")
    response = tenant.api.post(GENERATE, {"sourceImage": text, "width": "160", "height": "96"}, format="multipart")
    assert response.status_code == 400 and "sourceImage" in response.json()
    big = SimpleUploadedFile("big.png", photo_bytes(64, 64) + b"\0" * (10 * 1024 * 1024), content_type="image/png")
    response = tenant.api.post(GENERATE, {"sourceImage": big}, format="multipart")
    assert response.status_code == 400 and "sourceImage" in response.json()
    assert "10 MB" in response.json()["sourceImage"][0]
    assert _counts() == before


def test_malformed_json_body(tenant):
    before = _counts()
    response = tenant.api.generic("POST", GENERATE, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert _counts() == before


def test_anonymous_gets_401(client):
    response = client.post(GENERATE, generate_body(), content_type="application/json")
    assert response.status_code == 401


def test_an_odd_size_is_named_in_plain_words_with_the_nearest_even_ones(tenant):
    from tests.conftest import generate_body

    response = tenant.api.post("/api/image-to-video/generate", generate_body(width=1081), format="json")
    assert response.status_code == 400
    assert response.json()["width"] == ["Must be an even number for MP4 video: 1081 is odd, try 1080 or 1082."]


def test_the_uploaded_files_own_name_is_kept_and_searchable(in_process, tenant, s3):
    import io

    from tests.conftest import generate_body, photo_bytes, wait_for_job

    body = generate_body()
    body.pop("sourceImage")
    upload = io.BytesIO(photo_bytes())
    upload.name = "../Holiday Beach 2026.png"
    response = tenant.api.post("/api/image-to-video/generate", {**body, "sourceImage": upload}, format="multipart")
    assert response.status_code == 202, response.content
    job = wait_for_job(response.json()["jobId"], asset=True)
    assert job.source_name == "Holiday Beach 2026.png"
    found = tenant.api.get("/api/assets/?search=beach").json()
    assert [a["assetId"] for a in found["results"]] == [str(job.asset_id)]
    assert found["results"][0]["metadata"]["sourceName"] == "Holiday Beach 2026.png"
