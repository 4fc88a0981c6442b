"""The provider interface: start a job, poll it, cancel it, fetch its result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class ProviderError(Exception):
    """A provider refused or failed the job; ``code`` and the message go into the job's error."""

    def __init__(self, message: str, *, code: str = "provider_error", transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


@dataclass(frozen=True)
class StartOutcome:
    """Either the finished video (a synchronous provider) or a task id to follow."""

    output_path: Path | None = None
    task_id: str | None = None
    request: dict | None = None  # what was sent to the provider, for the job's record


class VideoProvider:
    name = ""

    def start(self, job, *, progress: Callable[[float], None], should_cancel: Callable[[], bool]) -> StartOutcome:
        raise NotImplementedError

    def cancel(self, job) -> None:
        """Ask the provider to stop; local renders notice the canceled status themselves."""
