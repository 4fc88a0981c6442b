"""The page in real Chromium against a live server with a real Celery worker."""

import os

import pytest

from tests.conftest import ASTRONAUT, ROOT

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "var" / "test-artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.celery,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed"),
]


@pytest.fixture
def browser(monkeypatch):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--autoplay-policy=no-user-gesture-required",
            ],
        )
        yield browser
        browser.close()


def _login(browser, base, username, width=1280):
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/")
    assert "/accounts/login/" in page.url, "the page needs a login"
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("pw")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")
    page.wait_for_selector("#live:text('live')")
    return page


def _shot(page, name):
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_upload_watch_play_and_find_it_in_the_library(live_server_asgi, browser, make_tenant, s3):
    owner = make_tenant("Acme")
    other = make_tenant("Other Co")
    for tenant in (owner, other):
        tenant.user.set_password("pw")
        tenant.user.save()
    base = live_server_asgi

    page = _login(browser, base, owner.user.username)
    _shot(page, "1-logged-in")
    page.set_input_files("#sourceImage", str(ASTRONAUT))
    page.locator("#preview").wait_for(state="visible", timeout=5000)  # the blob image decodes asynchronously
    assert page.locator("#preview").is_visible(), "a preview of the photo"
    page.get_by_label("Motion").select_option("pan")
    assert page.locator("#motionDirection option").all_inner_texts() == ["left", "right", "up", "down"]
    page.get_by_label("Direction").select_option("right")
    page.get_by_label("Duration (seconds, 1–10)").fill("2")
    page.get_by_label("Format").select_option("mp4")
    page.get_by_label("Size").select_option("custom")
    page.get_by_label("Width").fill("640")
    page.get_by_label("Height").fill("360")
    # Click the photo to set the focus: a marker shows it, and the job carries it.
    box = page.locator("#preview").bounding_box()
    page.mouse.click(box["x"] + 0.3 * box["width"], box["y"] + 0.4 * box["height"])
    assert page.get_by_label("Focus").input_value() == "point"
    assert page.locator("#focus-marker").is_visible()
    # The keyframe editor lists what is added and removes it again.
    page.get_by_role("button", name="Add keyframe").click()
    page.get_by_role("button", name="Add keyframe").click()
    assert page.locator("#kf-list li").count() == 2 and page.get_by_label("Motion").is_disabled()
    page.get_by_role("button", name="Remove keyframe 2").click()
    page.get_by_role("button", name="Remove keyframe 1").click()
    assert page.locator("#kf-list li").count() == 0 and page.get_by_label("Motion").is_enabled()
    _shot(page, "2-form-filled")
    # Record every progress value the bar shows, without polling the server.
    page.evaluate("""() => {
        window.__progress = [];
        new MutationObserver(() => {
            for (const bar of document.querySelectorAll('#jobs progress')) window.__progress.push(Number(bar.value));
        }).observe(document.getElementById('jobs'), {subtree: true, childList: true, attributes: true});
    }""")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    page.get_by_role("button", name="Generate video").click()
    card = page.locator("#jobs li").first
    card.wait_for()
    _shot(page, "3-queued")
    page.wait_for_selector("#jobs li[data-status=completed] video", timeout=90_000)
    _shot(page, "4-completed")
    seen = page.evaluate("window.__progress")
    assert any(0 < v < 100 for v in seen), f"the bar moved: {seen}"
    assert seen[-1] == 100 and navigations == [], "completed without a reload"
    video = card.locator("video")
    meta = video.evaluate("""v => new Promise(resolve => {
        const done = () => resolve({duration: v.duration, width: v.videoWidth, height: v.videoHeight});
        if (v.readyState >= 1) done(); else v.addEventListener('loadedmetadata', done, {once: true});
    })""")
    assert meta["width"] == 640 and meta["height"] == 360
    assert meta["duration"] == pytest.approx(2.0, abs=0.1)
    from image_to_video.models import Job

    job = Job.objects.get(pk=card.get_attribute("id").removeprefix("job-"))
    assert job.focus["x"] == pytest.approx(0.3, abs=0.01) and job.focus["y"] == pytest.approx(0.4, abs=0.01)
    assert job.framing["requested"] == "point"
    assert card.get_by_role("link", name="Download").is_visible()
    assert card.get_by_role("link", name="Asset").get_attribute("href").startswith("/api/assets/")

    # "Auto" draws what it found on the photo once the job has looked.
    page.get_by_label("Focus").select_option("auto")
    page.get_by_label("Width").fill("320")
    page.get_by_label("Height").fill("180")
    page.get_by_role("button", name="Generate video").click()
    page.locator("#subject-box").wait_for(state="visible", timeout=90_000)
    assert "face found" in page.locator("#subject-label").inner_text()
    page.wait_for_selector("#jobs li:first-child[data-status=completed] video", timeout=90_000)
    _shot(page, "4b-auto-focus-face")

    page.get_by_role("tab", name="Library").click()
    page.get_by_label("Tag").fill("image-to-video")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_selector("#assets li")
    assert page.locator("#assets li").count() == 2
    poster = page.locator("#assets li video").first.get_attribute("poster")
    assert poster and ".poster.jpg" in poster, "the library shows posters"
    assert "image-to-video" in page.locator("#assets li").first.inner_text()
    _shot(page, "5-library")

    # A member of another client sees none of it.
    stranger = _login(browser, base, other.user.username, width=390)
    assert stranger.locator("#jobs li").count() == 0
    stranger.get_by_role("tab", name="Library").click()
    stranger.wait_for_selector("#library-count:text('0 assets')")
    _shot(stranger, "6-other-client-phone")

    # A bad size shows the API's message next to the field.
    page.get_by_role("tab", name="Create").click()
    page.get_by_label("Width").fill("641")
    page.get_by_role("button", name="Generate video").click()
    error = page.locator("#error-width")
    error.wait_for(state="visible")
    assert "even" in error.inner_text()
    assert page.get_by_label("Width").get_attribute("aria-invalid") == "true"
    _shot(page, "7-bad-size")
