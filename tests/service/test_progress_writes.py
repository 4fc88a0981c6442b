"""A render's progress reaches the page live without writing its row several times a second."""

import pytest
from django.db import connection

from tests.conftest import generate_body, wait_for_job

TRIGGER = """
CREATE TABLE IF NOT EXISTS test_job_updates (job_id uuid, progress smallint, at timestamptz DEFAULT now());
CREATE OR REPLACE FUNCTION test_count_job_update() RETURNS trigger AS $$
BEGIN INSERT INTO test_job_updates (job_id, progress) VALUES (NEW.id, NEW.progress); RETURN NEW; END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS test_job_updated ON image_to_video_job;
CREATE TRIGGER test_job_updated AFTER UPDATE ON image_to_video_job
    FOR EACH ROW EXECUTE FUNCTION test_count_job_update();
"""


@pytest.fixture
def counted_updates(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute(TRIGGER)
    yield lambda job_id: _updates(job_id)
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER IF EXISTS test_job_updated ON image_to_video_job; DROP TABLE test_job_updates;")


def _updates(job_id) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT progress FROM test_job_updates WHERE job_id = %s ORDER BY at", [str(job_id)])
        return [row[0] for row in cursor.fetchall()]


def test_a_ten_second_render_writes_its_row_a_handful_of_times(in_process, app_settings, tenant, s3, counted_updates):
    interval = 0.3
    app_settings(PROGRESS_WRITE_INTERVAL=interval, PROGRESS_SAVE_INTERVAL=0.05, CANCEL_CHECK_INTERVAL=0.2)
    body = generate_body(duration=10, width=640, height=360)
    job_id = tenant.api.post("/api/image-to-video/generate", body, format="json").json()["jobId"]
    job = wait_for_job(job_id, asset=True, timeout=120)
    assert job.status == "completed"
    writes = counted_updates(job_id)
    render_seconds = (job.completed_at - job.started_at).total_seconds()
    # start, attempt, framing, completion, video, asset link, source kept: ~7; plus one write per interval.
    assert len(writes) <= 8 + render_seconds / interval, (len(writes), render_seconds, writes)
    assert any(0 < p < 100 for p in writes) or render_seconds < 2 * interval, "progress reached the row meanwhile"
