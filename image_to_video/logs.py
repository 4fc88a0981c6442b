"""The job id on every log line about a job: a context variable, and a filter that stamps records with it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_job_id: ContextVar[str] = ContextVar("job_id", default="-")


@contextmanager
def job_context(job_id: Any) -> Iterator[None]:
    token = _job_id.set(str(job_id))
    try:
        yield
    finally:
        _job_id.reset(token)


class ScrubQueryString(logging.Filter):
    """For uvicorn's access log: the path without its query string (``?token=``, ``?ticket=`` stay out)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            path: str = record.args[2]
            record.args = (*record.args[:2], path.split("?", 1)[0], *record.args[3:])
        return True


class JobIdFilter(logging.Filter):
    """Adds ``record.job_id`` (``-`` outside a job) for the ``job=%(job_id)s`` of the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "job_id"):
            record.job_id = _job_id.get()
        return True
