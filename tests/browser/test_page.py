"""The page in real Chromium against a live server with a real Celery worker: real clicks, drags and keys.

Screenshots are kept under var/test-artifacts/.
"""

import io
import os
import time
import uuid

import numpy as np
import pytest

from tests.conftest import ASTRONAUT, ROOT, eventually

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


@pytest.fixture
def people(make_tenant):
    owner, other = make_tenant("Acme"), make_tenant("Other Co")
    for tenant in (owner, other):
        tenant.user.set_password("pw")
        tenant.user.save()
    return owner, other


def _login(browser, base, username, width=1440, height=900):
    context = browser.new_context(viewport={"width": width, "height": height})
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


def _choose_photo(page, path=ASTRONAUT):
    page.set_input_files("#sourceImage", str(path))
    page.get_by_test_id("move-preview").wait_for(state="visible")
    _wait_for_plan(page)


def _wait_for_plan(page):
    page.wait_for_function("window.__preview.planFresh()", timeout=20_000)


def _frame_pixels(page, seconds: float) -> np.ndarray:
    """The preview's picture of the video at ``seconds``, as 32×32 grey levels."""
    page.evaluate(f"window.__preview.setPlaying(false); window.__preview.seek({seconds})")
    grey = page.evaluate("""() => {
        const small = new OffscreenCanvas(32, 32).getContext('2d', {willReadFrequently: true});
        small.imageSmoothingQuality = 'high';
        small.drawImage(document.getElementById('frame-canvas'), 0, 0, 32, 32);
        const d = small.getImageData(0, 0, 32, 32).data;
        const out = [];
        for (let i = 0; i < d.length; i += 4) out.push(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]);
        return out;
    }""")
    return np.array(grey, dtype=np.float64).reshape(32, 32)


def _video_pixels(frame_rgb: np.ndarray) -> np.ndarray:
    from PIL import Image

    grey = Image.fromarray(frame_rgb).convert("L").resize((32, 32), Image.BOX)
    return np.asarray(grey, dtype=np.float64)


def _drag(page, start, end, steps=8):
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(*end, steps=steps)
    page.mouse.up()


def _stage_point(page, x, y):
    """Page coordinates of the photo point (x, y), in fractions of the photo."""
    page.locator("#stage-canvas").evaluate("c => c.scrollIntoView({block: 'center'})")
    box = page.locator("#stage-canvas").bounding_box()
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def test_the_preview_moves_before_any_render_and_a_dragged_path_renders_as_it_previewed(
    live_server_asgi, browser, people, s3
):
    from image_to_video.models import Job
    from tests.videos import decode_frames

    owner, _ = people
    page = _login(browser, live_server_asgi, owner.user.username)
    _shot(page, "1-empty")
    page.get_by_label("Length (s)").fill("2")
    page.get_by_label("Length (s)").press("Tab")
    page.get_by_label("Shape").select_option("custom")
    page.get_by_label("Width").fill("320")
    page.get_by_label("Height").fill("320")
    _choose_photo(page)
    # The planned zoom plays over the photo at once: no job exists, yet the frame changes with time.
    assert "framed on the face" in page.locator("#plan-summary").inner_text()
    assert Job.objects.count() == 0, "a preview renders nothing"
    early, late = _frame_pixels(page, 0.1), _frame_pixels(page, 1.9)
    assert np.abs(early - late).mean() > 8, "the preview moves"
    page.get_by_role("button", name="Play the preview").click()
    t0 = page.evaluate("window.__preview.state.time")
    page.wait_for_function(f"Math.abs(window.__preview.state.time - {t0}) > 0.2")
    _shot(page, "2-preview-zoom")

    # Build a path on the photo: "My own path" starts from the move on screen; drag the first frame to
    # the left, zoom the last one in by its corner, turn it by its handle, add a hold in the middle.
    page.locator("[data-preset=custom]").click()
    page.locator("#kf-editor").wait_for(state="visible")
    page.locator("#timeline .marker").first.click()
    first = page.evaluate("window.__preview.state.keyframes[0]")
    _drag(page, _stage_point(page, first["x"], first["y"]), _stage_point(page, first["x"] - 0.1, first["y"] + 0.05))
    moved = page.evaluate("window.__preview.state.keyframes[0]")
    assert moved["x"] == pytest.approx(first["x"] - 0.1, abs=0.02), (first, moved)
    page.locator("#timeline .marker").last.click()
    last = page.evaluate("window.__preview.state.keyframes[window.__preview.state.keyframes.length - 1]")
    handles = page.evaluate("""() => {
        const s = window.__preview.state, k = s.keyframes[s.selected];
        const w = s.image.naturalWidth, h = s.image.naturalHeight;
        const [ow, oh] = [320, 320], cover = Math.max(ow / w, oh / h), kk = 1 / (cover * k.zoom);
        const hw = ow / 2 * kk / w, hh = oh / 2 * kk / h;
        return {corner: [k.x + hw, k.y - hh], centre: [k.x, k.y], hh};
    }""")
    corner = handles["corner"]
    _drag(page, _stage_point(page, *corner), _stage_point(page, corner[0] - 0.05, corner[1] + 0.05))
    zoomed = page.evaluate("window.__preview.state.keyframes[window.__preview.state.keyframes.length - 1]")
    assert zoomed["zoom"] > last["zoom"] * 1.1, (last, zoomed)
    page.get_by_label("Turn (°)").fill("8")
    page.get_by_label("Turn (°)").press("Tab")
    page.evaluate("window.__preview.setPlaying(false); window.__preview.seek(1)")
    page.get_by_role("button", name="Add keyframe here").click()
    assert page.get_by_label("Then", exact=True).input_value() == "smooth", "a new keyframe glides: no sticky hold"
    page.get_by_label("Then", exact=True).select_option("hold")
    # Its marker dragged along the timeline changes its time.
    marker = page.locator("#timeline .marker.selected")
    box = marker.bounding_box()
    timeline = page.locator("#timeline").bounding_box()
    _drag(page, (box["x"] + box["width"] / 2, box["y"] + 10), (timeline["x"] + 0.6 * timeline["width"], box["y"] + 10))
    keys = page.evaluate("window.__preview.state.keyframes")
    assert len(keys) == 3 and keys[1]["ease"] == "hold" and keys[1]["t"] == pytest.approx(1.2, abs=0.1), keys
    # Undo brings the time back; redo takes it again.
    page.keyboard.press("Control+z")
    assert page.evaluate("window.__preview.state.keyframes[1].t") == pytest.approx(1.0, abs=0.02)
    page.keyboard.press("Control+Shift+z")
    assert page.evaluate("window.__preview.state.keyframes[1].t") == pytest.approx(1.2, abs=0.1)
    _wait_for_plan(page)
    planned = page.evaluate("window.__preview.state.plan.body")
    times = [0.0, 0.6, 1.1, 1.5, 1.9]
    previews = {t: _frame_pixels(page, t) for t in times}
    _shot(page, "3-keyframes-dragged")

    page.get_by_role("button", name="Generate video").click()
    card = page.locator("#jobs li").first
    card.wait_for()
    # Focus moves to the new job once the answer is in (its card may appear first from the socket).
    page.wait_for_function("document.activeElement && document.activeElement.id.startsWith('job-')", timeout=10_000)
    assert page.evaluate("document.activeElement.id") == card.get_attribute("id"), "focus moves to the new job"
    page.wait_for_selector("#jobs li[data-status=completed] video", timeout=120_000)
    _shot(page, "4-rendered")
    job = Job.objects.get(pk=card.get_attribute("id").removeprefix("job-"))
    assert job.camera_path == planned["cameraPath"], "the job records exactly the planned path"
    src = card.locator("video").get_attribute("src")
    video = page.request.get(src if src.startswith("http") else live_server_asgi + src)
    path = ARTIFACTS / "dragged-path.mp4"
    path.write_bytes(video.body())
    try:
        frames = decode_frames(path)
    finally:
        path.unlink()
    assert len(frames) == planned["frameCount"] == 60
    differences = {t: np.abs(previews[t] - _video_pixels(frames[round(t * 30)])).mean() for t in times}
    print(f"preview vs render, mean grey difference (0-255): {differences}")
    assert max(differences.values()) < 10, f"preview vs render, mean grey difference: {differences}"
    crossed = np.abs(previews[0.0] - _video_pixels(frames[round(1.9 * 30)])).mean()
    assert crossed > 2 * max(differences.values()), "the comparison tells different moments apart"


def _library(owner, count, s3):
    """``count`` assets of the owner's client with real posters in storage (no render needed)."""
    from django.core.files.base import ContentFile
    from PIL import Image

    from assets.models import Asset, Tag
    from assets.storage import files_storage

    buf = io.BytesIO()
    Image.new("RGB", (160, 90), (40, 120, 200)).save(buf, "JPEG")
    made = []
    tag, _ = Tag.objects.get_or_create(name="image-to-video")
    for i in range(count):
        key = f"clients/{owner.client.pk}/videos/{uuid.uuid4()}"
        files_storage.save(f"{key}.mp4", ContentFile(b"not played in this test"))
        files_storage.save(f"{key}.poster.jpg", ContentFile(buf.getvalue()))
        asset = Asset.objects.create(
            client=owner.client,
            user=owner.user,
            file=f"{key}.mp4",
            poster=f"{key}.poster.jpg",
            name=f"Clip {i:02d}",
            content_type="video/mp4",
            size=10,
            width=160,
            height=90,
            duration=1,
            fps=30,
            metadata={"sourceName": f"holiday-{i:02d}.jpg"},
        )
        asset.tags.add(tag)
        made.append(asset)
        time.sleep(0.002)  # distinct created_at for ordering
    return made


def test_the_library_shows_posters_pages_through_everything_and_finds_file_names(live_server_asgi, browser, people, s3):
    owner, other = people
    _library(owner, 23, s3)
    page = _login(browser, live_server_asgi, owner.user.username)
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#library-count:text('Showing 20 of 23 assets')")
    page.wait_for_function(
        "[...document.querySelectorAll('#assets img.poster')].every(i => i.complete && i.naturalWidth === 160)"
    )
    assert page.locator("#assets img.poster").count() == 20, "every card shows its poster"
    _shot(page, "5-library")
    page.get_by_role("button", name="Show more").click()
    page.wait_for_function("document.querySelectorAll('#assets li').length === 23")
    assert page.locator("#library-count").inner_text() == "23 assets"
    assert page.locator("#assets li").count() == 23 and page.locator("#more").is_hidden()
    page.get_by_label("Search").fill("holiday-07")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_function("document.getElementById('library-count').textContent === '1 asset'")
    assert page.locator("#assets li").inner_text().count("Clip 07") == 1
    assert page.get_by_role("button", name="image-to-video").get_attribute("aria-pressed") == "true"
    # Another client's member sees none of it.
    stranger = _login(browser, live_server_asgi, other.user.username, width=390)
    stranger.get_by_role("tab", name="Library").click()
    stranger.wait_for_selector("#library-count:text('0 assets')")


def _real_video_asset(owner):
    """A short real MP4 filed as an asset of the owner's client, made by the engine directly."""
    from django.core.files.base import ContentFile

    from assets.models import Asset, Tag
    from assets.storage import files_storage
    from image_to_video.engine import MotionParams, render_video
    from tests.conftest import photo_bytes

    out = ARTIFACTS / f"{uuid.uuid4()}.mp4"
    render_video(photo_bytes(), out, MotionParams(width=160, height=96, duration=1))
    key = f"clients/{owner.client.pk}/videos/{uuid.uuid4()}.mp4"
    files_storage.save(key, ContentFile(out.read_bytes()))
    out.unlink()
    asset = Asset.objects.create(
        client=owner.client,
        user=owner.user,
        file=key,
        name="Shared clip",
        content_type="video/mp4",
        size=1,
        width=160,
        height=96,
        duration=1,
        fps=30,
    )
    asset.tags.add(Tag.objects.get_or_create(name="image-to-video")[0])
    return asset


def test_a_share_link_plays_without_an_account_until_it_is_revoked(live_server_asgi, browser, people, s3):
    import requests

    owner, _ = people
    asset = _real_video_asset(owner)
    page = _login(browser, live_server_asgi, owner.user.username)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("tab", name="Library").click()
    page.wait_for_selector("#assets li")
    page.get_by_role("button", name="Copy share link").click()
    link = page.get_by_test_id("share-url").input_value()
    assert page.evaluate("navigator.clipboard.readText()") == link, "the link is on the clipboard"
    _shot(page, "6-share-link")
    stranger = browser.new_context(viewport={"width": 390, "height": 800}).new_page()  # no login, no cookies
    stranger.goto(link)
    size = stranger.get_by_test_id("shared-video").evaluate("""v => new Promise(resolve => {
        const done = () => resolve([v.videoWidth, v.videoHeight, v.duration]);
        if (v.readyState >= 1) done(); else v.addEventListener('loadedmetadata', done, {once: true});
    })""")
    assert size[:2] == [160, 96] and size[2] == pytest.approx(1.0, abs=0.1), size
    _shot(stranger, "7-shared-page-phone")
    page.get_by_role("button", name="Stop sharing").click()
    page.wait_for_selector("[data-testid=share-url]", state="detached")
    assert stranger.goto(link).status == 404, "revoked"
    # A link made to last one second stops by itself.
    short = owner.api.post(f"/api/assets/{asset.pk}/share", {"expiresIn": 1}, format="json").json()["url"]
    short = live_server_asgi + "/" + short.split("/", 3)[3]
    eventually(lambda: requests.get(short, timeout=5).status_code == 410, 5, "the link expires")


def test_the_whole_flow_by_keyboard_and_no_serious_accessibility_problem(live_server_asgi, browser, people, s3):
    from axe_playwright_python.sync_playwright import Axe

    owner, _ = people
    page = _login(browser, live_server_asgi, owner.user.username)
    # Choose the photo from the keyboard: Tab to the file control, Enter opens the chooser.
    visited = []
    for _ in range(15):
        page.keyboard.press("Tab")
        visited.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if visited[-1] == "sourceImage":
            break
    assert visited[-1] == "sourceImage", f"the file control is reached by Tab: {visited}"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Space")
    chooser.value.set_files(str(ASTRONAUT))
    _wait_for_plan(page)
    # The moves are a radio group: arrows pick "Zoom out" from "Zoom in".
    page.locator("input[name=preset]:checked").focus()
    page.keyboard.press("ArrowRight")
    assert page.evaluate("document.querySelector('input[name=preset]:checked').value") == "zoom-out"
    page.get_by_label("Width").fill("320")
    page.get_by_label("Height").fill("320")
    results = {}
    results["create"] = Axe().run(page)
    page.locator("[data-preset=custom] input").focus()
    page.keyboard.press("Space")
    page.locator("#kf-editor").wait_for(state="visible")
    # The editor by keys: focus the photo, move the selected frame with arrows, zoom with +.
    page.locator("#timeline .marker").first.focus()
    page.keyboard.press("Enter")
    before = page.evaluate("window.__preview.state.keyframes[0]")
    page.locator("#stage-canvas").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("+")
    after = page.evaluate("window.__preview.state.keyframes[0]")
    assert after["x"] == pytest.approx(before["x"] + 0.01, abs=1e-3) and after["zoom"] > before["zoom"]
    results["editor"] = Axe().run(page)

    # The submit's answer is held until the socket has shown the job running: the answer is then older than
    # the card, and focus must still land on the card (it did not, when the socket won that race in CI).
    page.evaluate(
        """() => {
        const realFetch = window.fetch;
        window.fetch = async (...args) => {
            const answer = await realFetch(...args);
            if (String(args[0]).endsWith('/generate')) {
                await new Promise((done) => {
                    const poll = setInterval(() => {
                        if (!document.querySelector('#jobs li:not([data-status=queued])')) return;
                        clearInterval(poll);
                        done();
                    }, 20);
                });
            }
            return answer;
        };
    }"""
    )
    page.locator("#submit").focus()
    page.keyboard.press("Enter")
    page.wait_for_selector("#jobs li")
    page.wait_for_function("document.activeElement.closest('#jobs') !== null", timeout=10_000)
    page.wait_for_selector("#jobs li[data-status=completed] video", timeout=120_000)
    assert "ready" in page.locator("#announce").inner_text(), "the end is announced to screen readers"
    page.get_by_role("tab", name="Create").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_selector("#assets li")
    results["library"] = Axe().run(page)
    _shot(page, "8-keyboard-flow-library")
    serious = {
        name: [
            (v["id"], v["impact"], len(v["nodes"]))
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        for name, result in results.items()
    }
    assert serious == {"create": [], "editor": [], "library": []}, serious


def test_settings_survive_a_reload_and_a_bad_size_is_explained(live_server_asgi, browser, people, s3):
    owner, _ = people
    page = _login(browser, live_server_asgi, owner.user.username)
    page.locator("[data-preset=pan-left]").click()
    page.get_by_label("Strength").evaluate("r => { r.value = '80'; r.dispatchEvent(new Event('input')); }")
    assert "travels 24% of the frame" in page.locator("#strength-value").inner_text(), "strength in plain words"
    page.get_by_label("Length (s)").fill("4")
    page.get_by_label("Length (s)").press("Tab")
    page.get_by_label("9:16").check()
    page.reload()
    page.wait_for_selector("#live:text('live')")
    assert page.evaluate("document.querySelector('input[name=preset]:checked').value") == "pan-left"
    assert page.get_by_label("Strength").input_value() == "80" and page.get_by_label("Length (s)").input_value() == "4"
    assert page.get_by_label("9:16").is_checked() and page.get_by_role("button", name="Generate 1 video").is_visible()
    page.get_by_label("9:16").uncheck()
    _choose_photo(page)
    page.get_by_label("Shape").select_option("custom")
    page.get_by_label("Width").fill("641")
    page.get_by_role("button", name="Generate video").click()
    error = page.locator("#error-width")
    error.wait_for(state="visible")
    assert "even number" in error.inner_text() and "640 or 642" in error.inner_text()
    assert page.get_by_label("Width").get_attribute("aria-invalid") == "true"
    # A tiny photo dropped anywhere on the page (on its heading, far from the photo's box) takes the photo's
    # place, and is flagged before anything is sent.
    tiny = ARTIFACTS / "tiny.png"
    from PIL import Image

    Image.new("RGB", (64, 64), (90, 90, 90)).save(tiny)
    page.get_by_label("Width").fill("1080")
    page.evaluate(
        """async (bytes) => {
        const data = new DataTransfer();
        data.items.add(new File([new Uint8Array(bytes)], 'tiny.png', {type: 'image/png'}));
        const heading = document.querySelector('h1');
        heading.dispatchEvent(new DragEvent('dragover', {dataTransfer: data, bubbles: true, cancelable: true}));
        heading.dispatchEvent(new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));
    }""",
        list(tiny.read_bytes()),
    )
    page.wait_for_selector("#photo-warning:text('This photo is 64 × 64')")
    assert "will look soft" in page.locator("#photo-warning").inner_text()
    _shot(page, "9-warnings")


def test_paste_a_photo_make_a_batch_of_shapes_cancel_it_and_reuse_its_settings(live_server_asgi, browser, people, s3):
    from image_to_video.models import Job

    owner, _ = people
    page = _login(browser, live_server_asgi, owner.user.username)
    # Paste: the page takes an image from the clipboard event, as Ctrl+V delivers it.
    page.evaluate(
        """async (bytes) => {
        const file = new File([new Uint8Array(bytes)], 'clipboard.png', {type: 'image/png'});
        const data = new DataTransfer();
        data.items.add(file);
        document.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
    }""",
        list(ASTRONAUT.read_bytes()),
    )
    _wait_for_plan(page)
    page.locator("[data-preset=pan-right]").click()
    page.get_by_label("Length (s)").fill("4")
    page.get_by_label("Length (s)").press("Tab")
    page.get_by_label("16:9").check()
    page.get_by_label("9:16").check()
    page.get_by_role("button", name="Generate 2 videos").click()
    page.wait_for_function("document.querySelectorAll('#jobs li').length === 2")
    jobs = list(Job.objects.order_by("created_at"))
    assert len(jobs) == 2 and jobs[0].batch_id and jobs[0].batch_id == jobs[1].batch_id
    assert sorted((j.width, j.height) for j in jobs) == [(1080, 1920), (1920, 1080)]
    assert {j.motion_type for j in jobs} == {"pan"} and {j.duration for j in jobs} == {4.0}
    for card in page.locator("#jobs li").all():
        if card.get_by_role("button", name="Cancel").count():
            card.get_by_role("button", name="Cancel").click()
    page.wait_for_function(
        "[...document.querySelectorAll('#jobs li')].every(li => ['canceled', 'completed'].includes(li.dataset.status))",
        timeout=60_000,
    )
    # "Use these settings again" puts a job's move, length and size back in the form.
    page.locator("[data-preset=zoom-out]").click()
    page.get_by_label("Length (s)").fill("2")
    page.locator("#jobs li").first.get_by_role("button", name="Use these settings again").click()
    assert page.evaluate("document.querySelector('input[name=preset]:checked').value") == "pan-right"
    assert page.get_by_label("Length (s)").input_value() == "4"
    assert {page.get_by_label("Width").input_value(), page.get_by_label("Height").input_value()} == {"1920", "1080"}
