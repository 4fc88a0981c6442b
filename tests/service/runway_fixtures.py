import base64
import os
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks.webhooks import Webhook

from image_to_video.engine import MotionParams, render_video
from tests.conftest import ASTRONAUT
from tests.fakes.runway import FakeRunway


@pytest.fixture(scope="session")
def runway_video(tmp_path_factory):
    """What Runway hands back: a 16:9 clip at its own size, longer than asked."""
    out = tmp_path_factory.mktemp("runway") / "output.mp4"
    render_video(ASTRONAUT, out, MotionParams(motion_type="pan", width=256, height=144, duration=5, fps=12))
    return out


@pytest.fixture
def runway(settings, runway_video, app_settings):
    fake = FakeRunway(video=runway_video).start()
    app_settings(RUNWAY_API_KEY=fake.key)
    app_settings(RUNWAY_API_URL=fake.url)
    app_settings(RUNWAY_OUTPUT_URL_PREFIXES=[f"{fake.url}/outputs/"])
    app_settings(RUNWAY_POLL_INTERVALS=(0.05, 0.1, 0.2))
    app_settings(RUNWAY_BACKOFF=0.01)
    app_settings(RUNWAY_TIMEOUT=(2.0, 1.0))
    yield fake
    fake.stop()


@pytest.fixture
def webhook_secret(settings, app_settings):
    app_settings(RUNWAY_WEBHOOK_SECRET="whsec_" + base64.b64encode(os.urandom(24)).decode())
    return settings.IMAGE_TO_VIDEO["RUNWAY_WEBHOOK_SECRET"]


def signed_headers(secret: str, body: str, *, msg_id: str | None = None, at: float | None = None) -> dict:
    msg_id = msg_id or f"msg_{time.monotonic_ns()}"
    stamp = datetime.fromtimestamp(int(at if at is not None else time.time()), tz=UTC)
    signature = Webhook(secret).sign(msg_id, stamp, body)
    return {
        "HTTP_WEBHOOK_ID": msg_id,
        "HTTP_WEBHOOK_TIMESTAMP": str(int(stamp.timestamp())),
        "HTTP_WEBHOOK_SIGNATURE": signature,
    }
