"""The job id on every log line about a job: a context variable, and a filter that stamps records with it."""

from __future__ import annotations

import logging
import re
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


QUERY_STRING = re.compile(r"\?[^\s\"']*")
# The loggers of the servers a host may run the apps under; their lines carry request paths.
SERVER_LOGGERS = ("uvicorn.access", "uvicorn.error", "django.server", "daphne.server", "daphne.http_protocol")


class ScrubQueryString(logging.Filter):
    """Request paths without their query strings: ``?token=`` and ``?ticket=`` never reach a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(QUERY_STRING.sub("", a) if isinstance(a, str) else a for a in record.args)
        elif not record.args and isinstance(record.msg, str):
            record.msg = QUERY_STRING.sub("", record.msg)
        return True


def scrub_server_logs() -> None:
    """Put the scrubbing filter on the server loggers (the app does this when it loads: hosts need no line)."""
    for name in SERVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubQueryString) for f in logger.filters):
            logger.addFilter(ScrubQueryString())


class JobIdFilter(logging.Filter):
    """Adds ``record.job_id`` (``-`` outside a job) for the ``job=%(job_id)s`` of the log format."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "job_id"):
            record.job_id = _job_id.get()
        return True
