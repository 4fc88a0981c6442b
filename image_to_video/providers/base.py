"""The provider interface, and the normalised update every provider reports in.

A provider renders a job (``local``) or hands it to a service and follows it
(``runway``). Polling and webhooks both turn the provider's own task object into
a :class:`ProviderUpdate`, which the services apply the same way whichever path
it came by. The webhook view is generic: it asks the provider to verify the
delivery and to parse its body.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from standardwebhooks.webhooks import Webhook

from ..engine import MotionParams

ProviderState = Literal["pending", "running", "succeeded", "failed", "canceled"]


class ProviderError(Exception):
    """A provider refused or failed the job; ``code`` and the message go into the job's error."""

    def __init__(self, message: str, *, code: str = "provider_error", transient: bool = False) -> None:
        super().__init__(message)
        self.code = code
        self.transient = transient


class WebhookNotConfigured(Exception):
    """The provider has no webhook secret here: deliveries cannot be verified."""


class WebhookRejected(Exception):
    """A delivery whose signature is missing, forged or stale."""


@dataclass(frozen=True)
class ProviderUpdate:
    """A provider's report on a task, in our terms (from polling or from a webhook)."""

    task_id: str
    state: ProviderState
    progress: float | None = None
    output_url: str | None = None
    error_code: str = ""
    error_message: str = ""
    provider_status: str = ""  # the provider's own word, e.g. THROTTLED (shown as queued, with a note)


@dataclass(frozen=True)
class RenderRequest:
    """What a provider is asked to do, built once from a job (``services.provider_requests``): providers never
    see the ORM row, and can be called and tested without a database."""

    job_id: str
    params: MotionParams  # validated: what the engine renders (size, length, format, motion, focus, keyframes)
    focus: Any = "auto"  # as the user asked: "auto", "center" or {"x", "y"} (words for a text-prompted model)
    keyframes: list[dict] | None = None  # as the user asked
    prompt_text: str = ""
    model: str = ""  # the provider's model, when it has several ("" for its default)
    source_name: str = ""  # the source image's name in the apps' storage (presigned for a remote provider)
    source_content_type: str = "image/png"
    provider_task_id: str = ""  # the task the provider runs for the job, once started


@dataclass(frozen=True)
class StartOutcome:
    """Either the finished video (a synchronous provider) or a task id to follow."""

    output_path: Path | None = None
    task_id: str | None = None
    request: dict | None = None  # what was sent to the provider, for the job's record
    framing: dict | None = None  # what the local engine found and did (subject, focus, base zoom)
    camera_path: list | None = None  # the resolved keyframes that render the same video again


class VideoProvider(ABC):
    """One way of turning a job into a video. Subclasses are built per use by :meth:`from_settings`."""

    name: str = ""
    renders_here: bool = True  # False: a service renders (Runway); its turns run on the io queue, not the render queue

    @classmethod
    def falls_back(cls, code: str) -> bool:
        """Whether a failure with ``code`` is handed to the local engine (not the user's fault, and configured)."""
        return False

    @classmethod
    def status_detail(cls) -> dict[str, Any]:
        """What operators should see about this provider (credits, limits); {} when nothing."""
        return {}

    @classmethod
    def unavailable_reason(cls) -> str | None:
        """Why this provider cannot take jobs here (e.g. no API key), or None when it can."""
        return None

    @classmethod
    def from_settings(cls) -> VideoProvider:
        return cls()

    @abstractmethod
    def start(
        self,
        request: RenderRequest,
        *,
        source: Path,
        output: Path,
        progress: Callable[[float], None],
        should_cancel: Callable[[], bool],
    ) -> StartOutcome:
        """Render ``source`` (a local copy of the photo) into ``output``, or submit it and return a task id."""

    def poll(self, request: RenderRequest) -> ProviderUpdate:
        """The task's state now (asynchronous providers only)."""
        raise ProviderError(f"{self.name} has no tasks to poll", code="provider_cannot_poll")

    def cancel(self, request: RenderRequest) -> None:  # noqa: B027  (a no-op unless the provider runs tasks)
        """Ask the provider to stop; local renders notice the canceled status themselves."""

    def fetch_result(self, request: RenderRequest, update: ProviderUpdate, output: Path) -> Path:
        """Put a finished task's video, fitted to the job, at ``output``."""
        raise ProviderError(f"{self.name} has no results to fetch", code="provider_cannot_fetch")

    # --- webhooks: one generic view asks the provider to verify and to parse

    @classmethod
    def webhook_secret(cls) -> str | None:
        """The Standard Webhooks secret (``whsec_…``) of this provider's deliveries, if configured."""
        return None

    @classmethod
    def verify_webhook(cls, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise WebhookNotConfigured or WebhookRejected unless the delivery is signed (Standard Webhooks)."""
        secret = cls.webhook_secret()
        if not secret:
            raise WebhookNotConfigured(cls.name)
        try:
            Webhook(secret).verify(body, dict(headers), json_parse=False)
        except Exception as exc:  # any malformed, forged or stale signature is the same answer
            raise WebhookRejected(str(exc)) from None

    @classmethod
    def parse_webhook(cls, body: object) -> ProviderUpdate:
        """The delivery's body as a ProviderUpdate; ValueError when it is not one of this provider's."""
        raise ValueError(f"{cls.name} sends no webhooks")
