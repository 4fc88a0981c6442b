"""Share links: made and revoked by members only, bounded, playing without an account until they expire."""

import re
import uuid
from datetime import timedelta

import pytest
import requests
from django.core.files.base import ContentFile
from django.test import Client as BrowserClient
from django.utils import timezone

from assets import selectors
from assets.models import Asset, ShareLink
from assets.storage import files_storage

VIDEO = b"\x00\x00\x00\x18ftypmp42 a video"


@pytest.fixture
def asset(tenant, s3):
    key = f"clients/{tenant.client.pk}/videos/{uuid.uuid4()}.mp4"
    files_storage.save(key, ContentFile(VIDEO))
    return Asset.objects.create(
        client=tenant.client, user=tenant.user, file=key, name="Sunrise", content_type="video/mp4", size=len(VIDEO)
    )


def _share(tenant, asset, seconds=3600):
    return tenant.api.post(f"/api/assets/{asset.pk}/share", {"expiresIn": seconds}, format="json")


def _video_src(page: str) -> str:
    return re.search(r'<video[^>]* src="([^"]+)"', page)[1].replace("&amp;", "&")


def test_a_share_link_plays_without_an_account(tenant, asset):
    made = _share(tenant, asset)
    assert made.status_code == 201, made.content
    body = made.json()
    assert set(body) == {"url", "expiresAt"} and made["Cache-Control"] == "no-store"
    expires = timezone.datetime.fromisoformat(body["expiresAt"])
    assert abs((expires - timezone.now() - timedelta(hours=1)).total_seconds()) < 10
    assert body["url"].startswith("http://testserver/api/assets/shared/")
    page = BrowserClient().get(body["url"].removeprefix("http://testserver"))  # no login, no token
    assert page.status_code == 200 and b"Sunrise" in page.content
    assert page["Referrer-Policy"] == "no-referrer" and "noindex" in page["X-Robots-Tag"]
    assert requests.get(_video_src(page.content.decode()), timeout=10).content == VIDEO
    token = body["url"].rstrip("/").rsplit("/", 1)[1]
    assert not ShareLink.objects.filter(token_hash=token).exists(), "the token itself is never stored"


def test_a_shared_video_presign_lives_no_longer_than_the_link(tenant, asset):
    page = BrowserClient().get(_share(tenant, asset, 5).json()["url"].removeprefix("http://testserver"))
    src = _video_src(page.content.decode())
    assert int(re.search(r"X-Amz-Expires=(\d+)", src)[1]) <= 5


def test_revoking_stops_every_link_of_the_asset(tenant, asset):
    urls = [_share(tenant, asset).json()["url"].removeprefix("http://testserver") for _ in range(3)]
    browser = BrowserClient()
    assert all(browser.get(u).status_code == 200 for u in urls)
    assert tenant.api.delete(f"/api/assets/{asset.pk}/share").status_code == 204
    assert [browser.get(u).status_code for u in urls] == [404, 404, 404]
    assert [browser.get(u + "/file").status_code for u in urls] == [404, 404, 404]


def test_an_expired_link_answers_410(tenant, asset, monkeypatch):
    url = _share(tenant, asset, 60).json()["url"].removeprefix("http://testserver")
    browser = BrowserClient()
    monkeypatch.setattr(selectors, "_now", lambda: timezone.now() + timedelta(seconds=59))
    assert browser.get(url).status_code == 200
    monkeypatch.setattr(selectors, "_now", lambda: timezone.now() + timedelta(seconds=61))
    assert browser.get(url).status_code == 410
    assert browser.get(url + "/file").status_code == 410
    assert browser.get(url + "/poster").status_code == 410


@pytest.mark.parametrize(
    "body", [{}, {"expiresIn": 0}, {"expiresIn": 30 * 24 * 3600 + 1}, {"expiresIn": "soon"}, {"expiresIn": -5}]
)
def test_bad_lifetimes_are_a_400_naming_expires_in(tenant, asset, body):
    response = tenant.api.post(f"/api/assets/{asset.pk}/share", body, format="json")
    assert response.status_code == 400 and "expiresIn" in response.json(), response.content
    assert not ShareLink.objects.exists()


def test_the_longest_link_is_thirty_days(tenant, asset):
    assert _share(tenant, asset, 30 * 24 * 3600).status_code == 201


def test_live_links_per_asset_are_bounded(tenant, asset, settings):
    settings.IMAGE_TO_VIDEO = {**getattr(settings, "IMAGE_TO_VIDEO", {}), "SHARE_LINKS_PER_ASSET": 2}
    assert [_share(tenant, asset).status_code for _ in range(3)] == [201, 201, 400]


def test_only_members_make_or_revoke_links(tenant, outsider, asset, client):
    browser_url = _share(tenant, asset).json()["url"].removeprefix("http://testserver")
    assert _share(outsider, asset).status_code == 404
    assert outsider.api.delete(f"/api/assets/{asset.pk}/share").status_code == 404
    assert client.post(f"/api/assets/{asset.pk}/share", {"expiresIn": 60}).status_code in (401, 403)
    assert client.delete(f"/api/assets/{asset.pk}/share").status_code in (401, 403)
    assert BrowserClient().get(browser_url).status_code == 200, "the outsider revoked nothing"
    assert ShareLink.objects.count() == 1


def test_unknown_tokens_are_404(client, db):
    assert client.get("/api/assets/shared/" + "A" * 32).status_code == 404
    assert client.get("/api/assets/shared/short").status_code == 404
