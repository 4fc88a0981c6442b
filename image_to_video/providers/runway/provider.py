"""The Runway provider: a job becomes a Runway task, followed by polls and webhooks alike; the finished video
is fitted to the requested width, height, length and format with the engine's encoder."""

from __future__ import annotations

import base64
import logging
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assets.storage import presigned_url

from ...conf import get_config
from ...engine import DEFAULT_DIRECTION
from ...engine.fit import fit_video
from ..base import ProviderError, ProviderUpdate, RenderRequest, StartOutcome, VideoProvider
from .client import RunwayClient, parse_task, pooled_client
from .models import MODELS, nearest_duration, nearest_ratio
from .prompt import motion_prompt

log = logging.getLogger(__name__)
MAX_DATA_URI_BYTES = 5 * 1024 * 1024
ORGANIZATION_CACHE_SECONDS = 60.0
# Failures that are not the user's doing: with RUNWAY_FALLBACK=local the local engine renders the job instead.
FALLBACK_CODES = frozenset(
    {
        "runway_unavailable",
        "runway_rate_limited",
        "runway_timeout",
        "runway_unreachable",
        "runway_unauthorized",
        "runway_out_of_credits",
        "provider_timeout",
    }
)


class TimedValue:
    """One value kept for a while, safe across threads (the organisation's credits, asked often by /readyz
    and the admin: Runway need not be asked each time)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._lock = threading.Lock()
        self._value: tuple[float, Any] | None = None

    def get(self) -> Any | None:
        with self._lock:
            if self._value is not None and time.monotonic() - self._value[0] < self.seconds:
                return self._value[1]
            return None

    def set(self, value: Any) -> None:
        with self._lock:
            self._value = (time.monotonic(), value)


organization_detail = TimedValue(ORGANIZATION_CACHE_SECONDS)  # per process: one Runway account is configured


class RunwayProvider(VideoProvider):
    name = "runway"
    renders_here = False

    def __init__(self, client: RunwayClient, model: str) -> None:
        if model not in MODELS:
            raise ProviderError(f"unknown Runway model {model!r}", code="runway_bad_model")
        self.client, self.model = client, model

    @classmethod
    def unavailable_reason(cls) -> str | None:
        if not get_config().RUNWAY_API_KEY:
            return "the runway provider is not configured (RUNWAY_API_KEY is not set)"
        return None

    @classmethod
    def from_settings(cls) -> RunwayProvider:
        reason = cls.unavailable_reason()
        if reason:
            raise ProviderError(reason, code="runway_not_configured")
        client = pooled_client(
            get_config().RUNWAY_API_KEY,
            get_config().RUNWAY_API_URL,
            tuple(get_config().RUNWAY_TIMEOUT),
            get_config().RUNWAY_MAX_RETRIES,
            get_config().RUNWAY_BACKOFF,
        )
        return cls(client, get_config().RUNWAY_MODEL)

    def build_request(self, request: RenderRequest, source: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        """The payload to send, and what to record of it (no image bytes, no signatures)."""
        data = source.read_bytes()
        if len(data) <= MAX_DATA_URI_BYTES:
            image = f"data:{request.source_content_type};base64,{base64.b64encode(data).decode()}"
            recorded_image = f"data URI ({len(data)} bytes)"
        else:
            image = self._presigned_source_url(request)
            recorded_image = image.split("?", 1)[0]
        model = request.model or self.model
        params = request.params
        if model not in MODELS:
            raise ProviderError(f"unknown Runway model {model!r}", code="runway_bad_model")
        payload = {
            "model": model,
            "promptImage": image,
            "ratio": nearest_ratio(model, params.width, params.height),
            "promptText": motion_prompt(
                params.motion_type,
                params.motion_direction or DEFAULT_DIRECTION[params.motion_type],
                params.motion_strength,
                request.prompt_text,
                focus=request.focus,
                keyframes=request.keyframes,
            ),
            # A loop is Runway's one-way clip played there and back (fit_video), so it needs half the length.
            "duration": nearest_duration(model, params.duration / 2 if params.loop else params.duration),
            **MODELS[model].get("extra", {}),
        }
        record = dict(
            payload,
            promptImage=recorded_image,
            asked={"width": params.width, "height": params.height, "duration": params.duration, "loop": params.loop},
        )
        return payload, record

    @staticmethod
    def _presigned_source_url(request: RenderRequest) -> str:
        """The stored source itself, presigned (no copy is made, so nothing is left to delete)."""
        url = presigned_url(request.source_name)
        if url is None:
            raise ProviderError("images over 5 MB need S3 storage to reach Runway", code="runway_image_too_large")
        return url

    def start(
        self,
        request: RenderRequest,
        *,
        source: Path,
        output: Path,
        progress: Callable[[float], None],
        should_cancel: Callable[[], bool],
    ) -> StartOutcome:
        payload, record = self.build_request(request, source)
        task_id = self.client.create_image_to_video(payload)
        return StartOutcome(task_id=task_id, request=record)

    def poll(self, request: RenderRequest) -> ProviderUpdate:
        return parse_task(self.client.get_task(request.provider_task_id))

    def cancel(self, request: RenderRequest) -> None:
        self.client.cancel_task(request.provider_task_id)

    def fetch_result(self, request: RenderRequest, update: ProviderUpdate, output: Path) -> Path:
        """Download the output and fit it to the job's frame, length and format."""
        if not update.output_url:
            raise ProviderError("Runway reported success without an output video", code="runway_no_output")
        with tempfile.TemporaryDirectory(dir=get_config().UPLOAD_DIR) as tmp:
            try:
                raw = self.client.download(update.output_url, Path(tmp) / "runway.mp4")
            except ProviderError as exc:
                if exc.code != "runway_download_failed" or exc.transient:
                    raise
                # Output URLs expire: the task, asked again, hands out fresh ones.
                fresh = parse_task(self.client.get_task(request.provider_task_id))
                if not fresh.output_url or fresh.output_url == update.output_url:
                    raise
                log.info("the output URL had expired; fetching the task's fresh one")
                raw = self.client.download(fresh.output_url, Path(tmp) / "runway.mp4")
            params = request.params
            fit_video(
                raw,
                output,
                width=params.width,
                height=params.height,
                duration=params.duration,
                output_format=params.output_format,
                video_codec=params.video_codec,
                loop=params.loop,
            )
        return output

    @classmethod
    def falls_back(cls, code: str) -> bool:
        return get_config().RUNWAY_FALLBACK == "local" and (
            code in FALLBACK_CODES or code.startswith("runway_internal")
        )

    @classmethod
    def status_detail(cls) -> dict[str, Any]:
        """Credits and limits from ``GET /v1/organization``, for operators (readyz detail, the admin)."""
        if cls.unavailable_reason():
            return {"configured": False}
        cached = organization_detail.get()
        if cached is not None:
            return cached
        org = cls.from_settings().client.organization()
        tier = org.get("tier") or {}
        detail = {
            "configured": True,
            "creditBalance": org.get("creditBalance"),
            "maxMonthlyCreditSpend": tier.get("maxMonthlyCreditSpend"),
            "models": tier.get("models"),
            "usage": org.get("usage"),
        }
        organization_detail.set(detail)
        return detail

    @classmethod
    def webhook_secret(cls) -> str | None:
        return get_config().RUNWAY_WEBHOOK_SECRET

    @classmethod
    def parse_webhook(cls, body: Any) -> ProviderUpdate:
        """Runway posts its task object, the same shape as ``GET /v1/tasks/{id}``."""
        return parse_task(body)
