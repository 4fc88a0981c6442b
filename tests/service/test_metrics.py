"""/metrics in Prometheus format, and the job id on log lines about a job."""

from __future__ import annotations

import logging
import re

import pytest

from image_to_video.logs import JobIdFilter, job_context
from tests.conftest import generate_body, wait_for_job

GENERATE = "/api/image-to-video/generate"


def _value(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name) and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} {labels} not in /metrics")


def test_metrics_count_jobs_renders_and_the_queue(in_process, tenant, client):
    before = client.get("/metrics").content.decode()
    created = (
        _value(before, "airwave_jobs_created_total", provider="local") if "airwave_jobs_created_total{" in before else 0
    )
    job_id = tenant.api.post(GENERATE, generate_body(), format="json").json()["jobId"]
    assert wait_for_job(job_id, asset=True).status == "completed"
    response = client.get("/metrics")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert _value(text, "airwave_jobs_created_total", provider="local") == created + 1
    assert _value(text, "airwave_jobs_finished_total", provider="local", status="completed") >= 1
    assert _value(text, "airwave_render_seconds_count", provider="local") >= 1
    assert _value(text, "airwave_queue_depth") >= 0
    for name in ("airwave_asset_filing_failures_total", "airwave_runway_errors_total", "airwave_lease_expiries_total"):
        assert re.search(rf"^# TYPE {name.removesuffix('_total')}(_total)? counter$", text, re.M), name
    assert re.search(r"^# TYPE airwave_jobs_waiting gauge$", text, re.M)


def test_log_lines_about_a_job_carry_its_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "rendering", None, None)
    with job_context("1234-abcd"):
        JobIdFilter().filter(record)
    outside = logging.LogRecord("x", logging.INFO, __file__, 1, "idle", None, None)
    JobIdFilter().filter(outside)
    assert record.job_id == "1234-abcd" and outside.job_id == "-"


def test_metrics_report_each_task_queues_depth_and_oldest_message_age(app_settings, client, settings, db):
    """Three render turns wait on the broker with no worker for them: /metrics says so, labelled by queue."""
    import os
    import time

    import redis
    from celery import current_app

    from image_to_video import dispatch, tasks

    if not settings.CELERY_BROKER_URL:
        pytest.skip("no broker configured (run through make test)")
    render, io = f"metrics-render-{os.getpid()}", f"metrics-io-{os.getpid()}"
    app_settings(WORKER="celery", RENDER_QUEUE=render, IO_QUEUE=io)
    before = time.time()
    try:
        for _ in range(3):
            dispatch.send(tasks.run_next_job)
        text = client.get("/metrics").content.decode()
        assert _value(text, "airwave_task_queue_depth", queue=render) == 3
        assert _value(text, "airwave_task_queue_depth", queue=io) == 0
        age = _value(text, "airwave_task_queue_oldest_age_seconds", queue=render)
        assert 0 <= age <= time.time() - before
    finally:
        redis.Redis.from_url(current_app.conf.broker_url).delete(render, io)
