"""Runway's API (see RUNWAY_API.md): a small client and the provider built on it.

Runway has no camera-motion parameters: the motion wanted becomes ``promptText``,
the frame is the model's nearest allowed ratio, and the finished video is fitted
to the requested width, height, length and format with the engine's encoder.
Runway's statuses map to ours in one dict, :data:`STATUS_MAP`, used alike by
polling and by the webhook.
"""

from __future__ import annotations

import base64
import functools
import logging
import math
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from assets.storage import presigned_url

from .. import metrics
from ..conf import get_config
from ..engine.fit import fit_video
from . import downloads
from .base import ProviderError, ProviderState, ProviderUpdate, StartOutcome, VideoProvider

if TYPE_CHECKING:
    from ..models import Job

log = logging.getLogger(__name__)
API_VERSION = "2024-11-06"
MAX_DATA_URI_BYTES = 5 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
ORGANIZATION_CACHE_SECONDS = 60.0
_organization_seen: list[Any] = []  # [monotonic time, detail] of the last GET /v1/organization

# From Runway's API reference as its official SDK states it (runwayml/sdk-python 5.13,
# types/image_to_video_create_params.py): each model's ratios and the durations it takes.
GEN4_RATIOS = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO_RATIOS = ("1280:720", "720:1280", "1080:1920", "1920:1080")
MODELS: dict[str, dict[str, Any]] = {
    "gen4.5": {"ratios": GEN4_RATIOS, "durations": tuple(range(2, 11))},  # "an integer from 2 to 10"
    "gen4_turbo": {"ratios": GEN4_RATIOS, "durations": tuple(range(2, 11))},
    "veo3.1": {"ratios": VEO_RATIOS, "durations": (4, 6, 8), "extra": {"audio": False}},  # audio costs more
    "veo3.1_fast": {"ratios": VEO_RATIOS, "durations": (4, 6, 8), "extra": {"audio": False}},
}
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

# Runway task status -> our normalised provider state.
STATUS_MAP: dict[str, ProviderState] = {
    "PENDING": "pending",
    "THROTTLED": "pending",
    "RUNNING": "running",
    "SUCCEEDED": "succeeded",
    "FAILED": "failed",
    "CANCELLED": "canceled",
    "CANCELED": "canceled",
}


def parse_task(task: Any) -> ProviderUpdate:
    """Runway's task object -> ProviderUpdate; raises ValueError when it is not one."""
    if not isinstance(task, dict) or not task.get("id") or task.get("status") not in STATUS_MAP:
        raise ValueError("not a Runway task object (needs id and a known status)")
    state = STATUS_MAP[task["status"]]
    progress = task.get("progress")
    progress = float(progress) if isinstance(progress, (int, float)) and not isinstance(progress, bool) else None
    output = task.get("output") or []
    return ProviderUpdate(
        task_id=str(task["id"]),
        state=state,
        provider_status=str(task["status"]),
        progress=min(1.0, max(0.0, progress)) if progress is not None else None,
        output_url=output[0] if state == "succeeded" and output and isinstance(output[0], str) else None,
        error_code=f"runway_{str(task.get('failureCode') or 'failed').lower()}"[:50] if state == "failed" else "",
        error_message=str(task.get("failure") or "Runway reported the task failed") if state == "failed" else "",
    )


class RunwayClient:
    """One pooled ``requests`` session; timeouts on every call; retries as Runway's SDKs do."""

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_retries: int = 2,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.session = requests.Session()
        self.session.headers.update(
            {"Authorization": f"Bearer {api_key}", "X-Runway-Version": API_VERSION, "Accept": "application/json"}
        )
        self.downloads = requests.Session()  # output URLs: pooled too, and never sent the key

    def _send(self, session: requests.Session, method: str, url: str, **kwargs) -> requests.Response:
        """One call under the SDKs' retry policy; the last answer is returned, whatever its status.

        Connection errors and timeouts are retried, then re-raised; 408, 429 (after
        ``Retry-After``) and 5xx are retried, then returned for the caller to map.
        """
        for attempt in range(self.max_retries + 1):
            last = attempt == self.max_retries
            try:
                response = session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.Timeout, requests.ConnectionError):
                if last:
                    raise
                self._sleep(attempt)
                continue
            if response.status_code in RETRY_STATUSES and not last:
                log.info("Runway %s %s answered %s; retrying", method, url.split("?", 1)[0], response.status_code)
                response.close()
                self._sleep(attempt, response.headers.get("Retry-After"))
                continue
            return response
        raise AssertionError("unreachable")

    def _request(self, method: str, path: str, **kwargs) -> requests.Response:
        try:
            response = self._send(self.session, method, f"{self.base_url}{path}", **kwargs)
        except (requests.Timeout, requests.ConnectionError) as exc:
            timed_out = isinstance(exc, requests.Timeout)
            metrics.RUNWAY_ERRORS.labels("runway_timeout" if timed_out else "runway_unreachable").inc()
            raise ProviderError(
                "Runway did not answer in time" if timed_out else "Runway could not be reached",
                code="runway_timeout" if timed_out else "runway_unreachable",
                transient=True,
            ) from exc
        if response.status_code >= 400:
            error = self._error(response)
            metrics.RUNWAY_ERRORS.labels(error.code).inc()
            raise error
        return response

    def _sleep(self, attempt: int, retry_after: str | None = None) -> None:
        delay = self.backoff * (2**attempt) * (0.5 + random.random())  # exponential, with jitter
        if retry_after:
            try:
                delay = max(delay, min(float(retry_after), self.max_retry_after))
            except ValueError:
                pass
        time.sleep(delay)

    @staticmethod
    def _error(response: requests.Response) -> ProviderError:
        status = response.status_code
        try:
            detail = response.json().get("error") or response.json().get("message") or ""
        except ValueError:
            detail = ""
        detail = str(detail)[:300]
        if status == 401:
            return ProviderError("Runway rejected the API key (401)", code="runway_unauthorized")
        if status == 429:
            return ProviderError("Runway is rate limiting this key (429)", code="runway_rate_limited", transient=True)
        if "credit" in detail.lower() or "spend" in detail.lower():
            return ProviderError(f"Runway refused: {detail}", code="runway_out_of_credits")
        if status >= 500:
            return ProviderError(f"Runway is unavailable ({status})", code="runway_unavailable", transient=True)
        if status == 404:
            return ProviderError("Runway does not know this task (404)", code="runway_not_found")
        return ProviderError(
            f"Runway refused the request ({status}){': ' + detail if detail else ''}", code="runway_bad_request"
        )

    def create_image_to_video(self, payload: dict) -> str:
        body = self._request("POST", "/v1/image_to_video", json=payload).json()
        if not body.get("id"):
            raise ProviderError("Runway answered without a task id", code="runway_bad_response")
        return str(body["id"])

    def organization(self) -> dict:
        """``GET /v1/organization``: credit balance, tier limits and usage."""
        return self._request("GET", "/v1/organization").json()

    def get_task(self, task_id: str) -> dict:
        return self._request("GET", f"/v1/tasks/{task_id}").json()

    def cancel_task(self, task_id: str) -> None:
        self._request("DELETE", f"/v1/tasks/{task_id}")

    def download(self, url: str, dest: Path, *, max_bytes: int = MAX_DOWNLOAD_BYTES) -> Path:
        """Stream an output video to ``dest`` (presigned URLs: no API key is sent), retried like API calls.

        Only from RUNWAY_OUTPUT_URL_PREFIXES, every redirect hop checked, within
        RUNWAY_DOWNLOAD_DEADLINE seconds in all (:mod:`.downloads`).
        """
        failed = "the Runway video could not be downloaded"
        for attempt in range(self.max_retries + 1):
            try:
                return downloads.fetch(
                    self.downloads,
                    url,
                    dest,
                    prefixes=get_config().RUNWAY_OUTPUT_URL_PREFIXES,
                    max_bytes=max_bytes,
                    deadline_seconds=get_config().RUNWAY_DOWNLOAD_DEADLINE,
                    timeout=self.timeout,
                )
            except downloads.DownloadRefused as exc:
                raise ProviderError(f"{failed}: {exc}", code="runway_output_refused") from exc
            except downloads.DownloadFailed as exc:
                if not exc.transient or attempt == self.max_retries:
                    code = "runway_download_too_large" if "too large" in str(exc) else "runway_download_failed"
                    raise ProviderError(f"{failed} ({exc})", code=code, transient=exc.transient) from exc
                self._sleep(attempt)
        raise AssertionError("unreachable")


@functools.lru_cache(maxsize=4)
def _pooled_client(
    api_key: str, base_url: str, timeout: tuple[float, float], max_retries: int, backoff: float
) -> RunwayClient:
    """One client, and so one pooled session, per configuration and process."""
    return RunwayClient(api_key, base_url, timeout=timeout, max_retries=max_retries, backoff=backoff)


def nearest_ratio(model: str, width: int, height: int) -> str:
    """The model's allowed ratio closest to width:height (compared as log aspect ratios)."""
    wanted = math.log(width / height)

    def distance(ratio: str) -> tuple[float, float]:
        # The nearest shape first; between equal shapes (veo's 720:1280 and 1080:1920), the nearest size.
        w, h = (int(part) for part in ratio.split(":"))
        return round(abs(math.log(w / h) - wanted), 6), abs(math.log(w * h / (width * height)))

    return min(MODELS[model]["ratios"], key=distance)


def nearest_duration(model: str, seconds: float) -> int:
    allowed = MODELS[model]["durations"]
    longer = [d for d in allowed if d >= seconds]
    return min(longer) if longer else max(allowed)  # never shorter than asked, when it can be helped


def _place(x: float, y: float) -> str:
    """A photo point in words: "upper left", "the centre", "right"."""
    across = "left" if x < 0.38 else "right" if x > 0.62 else ""
    down = "upper" if y < 0.38 else "lower" if y > 0.62 else ""
    return " ".join(w for w in (down, across) if w) or "the centre"


def _target(focus: object) -> str:
    if isinstance(focus, dict):
        place = _place(float(focus["x"]), float(focus["y"]))
        return "the centre of the scene" if place == "the centre" else f"the subject at {place}"
    return "the main subject" if focus == "auto" else "the centre of the scene"


def _keyframe_words(keyframes: list[dict]) -> str:
    """A keyframed path told as a sequence: "slow push in toward upper left, hold, then drift right"."""
    steps: list[str] = []
    for a, b in zip(keyframes, keyframes[1:], strict=False):
        if a.get("ease") == "hold":
            steps.append("hold")
            continue
        parts = []
        ratio = b["zoom"] / a["zoom"]
        if ratio > 1.05:
            parts.append(f"push in toward {_place(b['x'], b['y'])}")
        elif ratio < 0.95:
            parts.append("pull back")
        dx, dy = b["x"] - a["x"], b["y"] - a["y"]
        if max(abs(dx), abs(dy)) > 0.03 and ratio <= 1.05:
            parts.append(
                "drift " + ("right" if dx > 0 else "left")
                if abs(dx) >= abs(dy)
                else "drift " + ("down" if dy > 0 else "up")
            )
        turn = b.get("angle", 0) - a.get("angle", 0)
        if abs(turn) > 1:
            parts.append("roll " + ("clockwise" if turn > 0 else "counter-clockwise"))
        pace = "quick" if b["t"] - a["t"] < 1 else "slow"
        steps.append(f"{pace} " + " and ".join(parts) if parts else "hold")
    if not steps:
        return "hold still"
    return ", ".join(steps[:-1]) + (", then " if len(steps) > 1 else "") + steps[-1]


def motion_prompt(
    motion_type: str,
    direction: str,
    strength: int,
    user_text: str = "",
    *,
    focus: object = "center",
    keyframes: list[dict] | None = None,
) -> str:
    """The camera move in words (Runway has no camera parameters): the move, where it looks, its pace."""
    pace = "very gentle" if strength <= 25 else "gentle" if strength <= 50 else "steady" if strength <= 75 else "bold"
    target = _target(focus)
    if keyframes:
        text = f"Static scene, camera path: {_keyframe_words(keyframes)}. Smooth, stable, no cuts."
    else:
        if motion_type == "zoom":
            move = (
                f"the camera slowly pushes in on {target}"
                if direction == "in"
                else f"the camera slowly pulls back from {target}"
            )
        elif motion_type == "pan":
            move = f"the camera pans {direction}, keeping {target} in frame"
        elif motion_type == "rotation":
            sense = "clockwise" if direction == "right" else "counter-clockwise"
            move = f"the camera rolls {sense} around {target}"
        else:
            sense = {"in": "pushing in", "out": "pulling back"}.get(direction, f"drifting {direction} while pushing in")
            move = f"a cinematic camera move, {sense} on {target} with a slight roll"
        text = f"Static scene, {pace} camera motion: {move}. Smooth, stable, no cuts."
    if user_text:
        text = f"{user_text.strip()} {text}"
    return text[:1000]


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
        client = _pooled_client(
            get_config().RUNWAY_API_KEY,
            get_config().RUNWAY_API_URL,
            tuple(get_config().RUNWAY_TIMEOUT),
            get_config().RUNWAY_MAX_RETRIES,
            get_config().RUNWAY_BACKOFF,
        )
        return cls(client, get_config().RUNWAY_MODEL)

    def build_request(self, job: Job, source: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        """The payload to send, and what to record of it (no image bytes, no signatures)."""
        data = source.read_bytes()
        if len(data) <= MAX_DATA_URI_BYTES:
            image = f"data:{job.source_content_type};base64,{base64.b64encode(data).decode()}"
            recorded_image = f"data URI ({len(data)} bytes)"
        else:
            image = self._presigned_source_url(job)
            recorded_image = image.split("?", 1)[0]
        model = job.model or self.model
        if model not in MODELS:
            raise ProviderError(f"unknown Runway model {model!r}", code="runway_bad_model")
        payload = {
            "model": model,
            "promptImage": image,
            "ratio": nearest_ratio(model, job.width, job.height),
            "promptText": motion_prompt(
                job.motion_type,
                job.motion_direction,
                job.motion_strength,
                job.prompt_text,
                focus=job.focus,
                keyframes=job.keyframes,
            ),
            "duration": nearest_duration(model, job.duration),
            **MODELS[model].get("extra", {}),
        }
        record = dict(
            payload,
            promptImage=recorded_image,
            asked={"width": job.width, "height": job.height, "duration": job.duration},
        )
        return payload, record

    @staticmethod
    def _presigned_source_url(job: Job) -> str:
        """The stored source itself, presigned (no copy is made, so nothing is left to delete)."""
        url = presigned_url(job.source_image.name or "", job.source_image.storage)
        if url is None:
            raise ProviderError("images over 5 MB need S3 storage to reach Runway", code="runway_image_too_large")
        return url

    def start(
        self,
        job: Job,
        *,
        source: Path,
        output: Path,
        progress: Callable[[float], None],
        should_cancel: Callable[[], bool],
    ) -> StartOutcome:
        payload, record = self.build_request(job, source)
        task_id = self.client.create_image_to_video(payload)
        return StartOutcome(task_id=task_id, request=record)

    def poll(self, job: Job) -> ProviderUpdate:
        return parse_task(self.client.get_task(job.provider_task_id))

    def cancel(self, job: Job) -> None:
        self.client.cancel_task(job.provider_task_id)

    def fetch_result(self, job: Job, update: ProviderUpdate, output: Path) -> Path:
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
                fresh = parse_task(self.client.get_task(job.provider_task_id))
                if not fresh.output_url or fresh.output_url == update.output_url:
                    raise
                log.info("the output URL had expired; fetching the task's fresh one")
                raw = self.client.download(fresh.output_url, Path(tmp) / "runway.mp4")
            fit_video(
                raw,
                output,
                width=job.width,
                height=job.height,
                duration=job.duration,
                output_format=job.output_format,
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
        now = time.monotonic()
        if _organization_seen and now - _organization_seen[0] < ORGANIZATION_CACHE_SECONDS:
            return _organization_seen[1]  # the admin and /readyz ask often; Runway need not be asked each time
        org = cls.from_settings().client.organization()
        tier = org.get("tier") or {}
        detail = {
            "configured": True,
            "creditBalance": org.get("creditBalance"),
            "maxMonthlyCreditSpend": tier.get("maxMonthlyCreditSpend"),
            "models": tier.get("models"),
            "usage": org.get("usage"),
        }
        _organization_seen[:] = [now, detail]
        return detail

    @classmethod
    def webhook_secret(cls) -> str | None:
        return get_config().RUNWAY_WEBHOOK_SECRET

    @classmethod
    def parse_webhook(cls, body: Any) -> ProviderUpdate:
        """Runway posts its task object, the same shape as ``GET /v1/tasks/{id}``."""
        return parse_task(body)
