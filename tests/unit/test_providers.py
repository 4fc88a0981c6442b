"""Providers take a plain RenderRequest: called here with no database at all."""

from __future__ import annotations

import pytest

from image_to_video.engine import MotionParams
from image_to_video.providers import ProviderError, RenderRequest
from image_to_video.providers.local import LocalProvider
from image_to_video.providers.runway import RunwayClient, RunwayProvider, parse_task
from image_to_video.providers.runway.client import error_for
from tests.conftest import photo_bytes
from tests.videos import decode_frames


def _request(**fields) -> RenderRequest:
    params = MotionParams(motion_type="pan", motion_direction="left", width=96, height=64, duration=1, fps=12)
    return RenderRequest(job_id="j-1", params=params.validate(), **fields)


def test_the_local_provider_renders_a_request_without_a_database(tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(photo_bytes(160, 120))
    seen = []
    outcome = LocalProvider().start(
        _request(), source=source, output=tmp_path / "out.mp4", progress=seen.append, should_cancel=lambda: False
    )
    frames = decode_frames(outcome.output_path)
    assert len(frames) == 12 and frames[0].shape == (64, 96, 3)
    assert seen and seen[-1] == pytest.approx(1.0) and outcome.framing["requested"] == "auto"


def test_a_runway_request_carries_the_move_in_words_and_the_nearest_ratio_and_duration(tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(photo_bytes(160, 120))
    provider = RunwayProvider(RunwayClient("key", "http://127.0.0.1:9"), "gen4.5")
    payload, record = provider.build_request(_request(prompt_text="a quiet street", focus={"x": 0.1, "y": 0.2}), source)
    assert payload["model"] == "gen4.5" and payload["ratio"] == "1104:832" and payload["duration"] == 2
    assert payload["promptText"].startswith("a quiet street") and "pans left" in payload["promptText"]
    assert "upper left" in payload["promptText"]
    assert payload["promptImage"].startswith("data:image/png;base64,")
    assert record["promptImage"].startswith("data URI (") and record["asked"] == {
        "width": 96,
        "height": 64,
        "duration": 1.0,
        "loop": False,
    }


def test_an_unknown_model_is_refused_before_anything_is_sent(tmp_path):
    source = tmp_path / "photo.png"
    source.write_bytes(photo_bytes(64, 64))
    provider = RunwayProvider(RunwayClient("key", "http://127.0.0.1:9"), "gen4.5")
    with pytest.raises(ProviderError) as refused:
        provider.build_request(_request(model="gen9"), source)
    assert refused.value.code == "runway_bad_model"


@pytest.mark.parametrize(
    "status,detail,code,transient",
    [
        (401, "", "runway_unauthorized", False),
        (402, "", "runway_out_of_credits", False),
        (400, "You do not have enough credits to run this task", "runway_out_of_credits", False),
        (400, "promptText is too long", "runway_bad_request", False),
        (404, "", "runway_not_found", False),
        (429, "", "runway_rate_limited", True),
        (503, "", "runway_unavailable", True),
        (500, "spend", "runway_unavailable", True),
    ],
)
def test_runways_errors_map_to_ours(status, detail, code, transient):
    error = error_for(status, detail)
    assert (error.code, error.transient) == (code, transient)


def test_a_runway_task_object_reads_the_same_from_polls_and_webhooks():
    update = parse_task({"id": "t", "status": "RUNNING", "progress": 0.4})
    assert (update.state, update.progress, update.provider_status) == ("running", 0.4, "RUNNING")
    done = parse_task({"id": "t", "status": "SUCCEEDED", "output": ["https://x/v.mp4"]})
    assert done.state == "succeeded" and done.output_url == "https://x/v.mp4"
    failed = parse_task({"id": "t", "status": "FAILED", "failureCode": "INTERNAL.BAD", "failure": "no"})
    assert failed.error_code == "runway_internal.bad" and failed.error_message == "no"
    with pytest.raises(ValueError):
        parse_task({"id": "t", "status": "DONE"})
