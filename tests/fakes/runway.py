"""A fake Runway API on a loopback port, following RUNWAY_API.md, that can misbehave on cue.

It checks the bearer key and the version header, validates the request as
Runway does, moves each task PENDING -> RUNNING -> SUCCEEDED as it is polled,
serves a real MP4 as the output, and can be told to answer 500 or 429 with
Retry-After, to stall past the client's timeout, to fail a task, or never to
finish one.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from image_to_video.providers.runway import API_VERSION

# Runway's own rules, copied from its SDK (runwayml/sdk-python 5.13, image_to_video_create_params.py),
# not from the code under test, so a wrong table there is caught here.
GEN4 = ("1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672")
VEO = ("1280:720", "720:1280", "1080:1920", "1920:1080")
MODELS = {
    "gen4.5": {"ratios": GEN4, "durations": range(2, 11)},
    "gen4_turbo": {"ratios": GEN4, "durations": range(2, 11)},
    "veo3.1": {"ratios": VEO, "durations": (4, 6, 8)},
    "veo3.1_fast": {"ratios": VEO, "durations": (4, 6, 8)},
}


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: dict | None


@dataclass
class FakeRunway:
    key: str = "test-key-0123456789"
    video: Path | None = None
    outcome: str = "succeed"  # succeed | fail | never
    polls_to_finish: int = 3
    # Applied to the next API calls, in order: ("status", code[, retry_after]) or ("stall", seconds).
    faults: deque = field(default_factory=deque)
    download_faults: deque = field(default_factory=deque)
    tasks: dict = field(default_factory=dict)
    seen: list = field(default_factory=list)
    throttled_polls: int = 0  # the first polls of each task answer THROTTLED
    expire_outputs: bool = False  # a task's first output URL has expired (403); asking the task again mints a fresh one
    credits: int = 4200

    def start(self) -> FakeRunway:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _reply(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                fake.seen.append(Seen(method, self.path, dict(self.headers), body))
                if self.path.startswith("/outputs/"):
                    return self._download()
                if fake.faults:
                    fault = fake.faults.popleft()
                    if fault[0] == "stall":
                        time.sleep(fault[1])
                    elif fault[0] == "status":
                        headers = {"Retry-After": str(fault[2])} if len(fault) > 2 and fault[2] is not None else {}
                        return self._reply(fault[1], {"error": "fault injected"}, headers)
                if self.headers.get("Authorization") != f"Bearer {fake.key}":
                    return self._reply(401, {"error": "Invalid API key"})
                if self.headers.get("X-Runway-Version") != API_VERSION:
                    return self._reply(400, {"error": "X-Runway-Version header is required"})
                if method == "POST" and self.path == "/v1/image_to_video":
                    return self._create(body or {})
                if method == "GET" and self.path == "/v1/organization":
                    return self._reply(
                        200,
                        {
                            "creditBalance": fake.credits,
                            "tier": {
                                "maxMonthlyCreditSpend": 10000,
                                "models": {"gen4.5": {"maxConcurrentGenerations": 2}},
                            },
                            "usage": {"models": {"gen4.5": {"dailyGenerations": 7}}},
                        },
                    )
                if self.path.startswith("/v1/tasks/"):
                    task_id = self.path.rsplit("/", 1)[-1]
                    task = fake.tasks.get(task_id)
                    if task is None:
                        return self._reply(404, {"error": "Task not found"})
                    if method == "GET":
                        return self._reply(200, fake._advance(task))
                    if method == "DELETE":
                        task["status"] = "CANCELLED"
                        return self._reply(204)
                return self._reply(404, {"error": "not found"})

            def _create(self, body: dict) -> None:
                model = body.get("model")
                if model not in MODELS:
                    return self._reply(400, {"error": f"unknown model {model!r}"})
                if body.get("ratio") not in MODELS[model]["ratios"]:
                    return self._reply(400, {"error": f"ratio {body.get('ratio')!r} is not allowed for {model}"})
                image = body.get("promptImage") or ""
                if not (image.startswith("https://") or image.startswith("http://") or image.startswith("data:image/")):
                    return self._reply(400, {"error": "promptImage must be an HTTPS URL or a data URI"})
                if image.startswith("data:") and len(image) * 3 // 4 > 5 * 1024 * 1024 + 100:
                    return self._reply(400, {"error": "promptImage data URI is over 5 MB"})
                if len(body.get("promptText") or "") > 1000:
                    return self._reply(400, {"error": "promptText is too long"})
                if body.get("duration") not in MODELS[model]["durations"]:
                    return self._reply(400, {"error": "duration is not allowed for this model"})
                if model.startswith("gen4") and not body.get("promptText") and model == "gen4.5":
                    return self._reply(400, {"error": "promptText is required for gen4.5"})
                if "audio" in body and (not model.startswith("veo") or not isinstance(body["audio"], bool)):
                    return self._reply(400, {"error": "audio applies to veo models only, as a boolean"})
                task_id = str(uuid.uuid4())
                fake.tasks[task_id] = {
                    "id": task_id,
                    "status": "PENDING",
                    "createdAt": "2026-11-25T00:00:00Z",
                    "polls": 0,
                    "request": body,
                }
                return self._reply(200, {"id": task_id})

            def _download(self) -> None:
                task_id, _, query = self.path.removeprefix("/outputs/").partition("?")
                task = fake.tasks.get(task_id.removesuffix(".mp4"))
                if fake.expire_outputs and task is not None and query in ("token=1", ""):
                    return self._reply(403, {"error": "Request has expired"})
                if fake.download_faults:
                    fault = fake.download_faults.popleft()
                    return self._reply(fault[1], {"error": "fault injected"})
                data = fake.video.read_bytes()
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_DELETE(self):
                self._handle("DELETE")

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):
                pass  # a client that timed out on purpose closes the socket mid-reply

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _advance(self, task: dict) -> dict:
        """Each poll moves the task one step on (unless canceled or already final)."""
        if task["status"] == "SUCCEEDED" and self.expire_outputs:
            self._mint_output(task)
        if task["status"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            return self.public(task)
        task["polls"] += 1
        if task["polls"] <= self.throttled_polls:
            task.update(status="THROTTLED")
            return self.public(task)
        if task["polls"] >= self.polls_to_finish + self.throttled_polls and self.outcome != "never":
            if self.outcome == "fail":
                task.update(
                    status="FAILED",
                    failure="The prompt image was flagged by moderation",
                    failureCode="SAFETY.INPUT.IMAGE",
                )
            else:
                task.update(status="SUCCEEDED")
                self._mint_output(task)
        else:
            done = (task["polls"] - self.throttled_polls) / self.polls_to_finish
            task.update(status="RUNNING", progress=round(min(0.95, done), 2))
        return self.public(task)

    def _mint_output(self, task: dict) -> None:
        task["token"] = task.get("token", 0) + 1
        task["output"] = [f"{self.url}/outputs/{task['id']}.mp4?token={task['token']}"]

    def public(self, task: dict) -> dict:
        return {k: v for k, v in task.items() if k not in ("polls", "request", "token")}

    def calls(self, method: str, prefix: str) -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(prefix)]
