"""Runway's HTTP API (see RUNWAY_API.md): one pooled session, timeouts on every call, retries as Runway's SDKs
do, Runway's errors mapped to ours in one table, and its task object read in one place (polls and webhooks)."""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from ... import metrics
from ...conf import get_config
from .. import downloads
from ..base import ProviderError, ProviderState, ProviderUpdate

log = logging.getLogger(__name__)
API_VERSION = "2024-11-06"
MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
RETRY_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})  # as Runway's SDKs retry

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


@dataclass(frozen=True)
class ErrorKind:
    """What an HTTP error from Runway means here: our code, whether it may pass, and the words for it."""

    code: str
    transient: bool
    message: str


# Runway's documented errors by status (RUNWAY_API.md); anything else 4xx is a bad request, 5xx unavailable.
ERRORS: dict[int, ErrorKind] = {
    401: ErrorKind("runway_unauthorized", False, "Runway rejected the API key (401)"),
    402: ErrorKind("runway_out_of_credits", False, "Runway refused: no credits left (402)"),
    404: ErrorKind("runway_not_found", False, "Runway does not know this task (404)"),
    429: ErrorKind("runway_rate_limited", True, "Runway is rate limiting this key (429)"),
}
UNAVAILABLE = ErrorKind("runway_unavailable", True, "Runway is unavailable")
OUT_OF_CREDITS = ERRORS[402]
# Runway reports an exhausted balance or spend limit as a 400 whose message says so: the one message read.
CREDITS_MESSAGE = re.compile(r"\bcredit|\bspend", re.IGNORECASE)


def error_for(status: int, detail: str) -> ProviderError:
    """Runway's HTTP error as ours (``detail``: Runway's own message, if any)."""
    kind = ERRORS.get(status)
    if kind is None and status == 400 and CREDITS_MESSAGE.search(detail):
        return ProviderError(f"Runway refused: {detail}", code=OUT_OF_CREDITS.code)
    if kind is None and status >= 500:
        return ProviderError(f"{UNAVAILABLE.message} ({status})", code=UNAVAILABLE.code, transient=True)
    if kind is None:
        suffix = f": {detail}" if detail else ""
        return ProviderError(f"Runway refused the request ({status}){suffix}", code="runway_bad_request")
    return ProviderError(kind.message, code=kind.code, transient=kind.transient)


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
        try:
            body = response.json()
            detail = (body.get("error") or body.get("message") or "") if isinstance(body, dict) else ""
        except ValueError:
            detail = ""
        return error_for(response.status_code, str(detail)[:300])

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
def pooled_client(
    api_key: str, base_url: str, timeout: tuple[float, float], max_retries: int, backoff: float
) -> RunwayClient:
    """One client, and so one pooled session, per configuration and process (module state on purpose: a
    process keeps one pool of connections to Runway)."""
    return RunwayClient(api_key, base_url, timeout=timeout, max_retries=max_retries, backoff=backoff)
