"""Real processes for the fault suite: a web host and worker hosts that share only PostgreSQL, Redis and S3.

Each host is a process with its own UPLOAD_DIR. Redis is this suite's own
``redis-server`` (stopped and started for real, without persistence, so a
restart loses what was queued); S3 is the session's moto server behind a TCP
proxy, so that "S3 down" is a refused connection while the data survives, as
with a network outage.
"""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.conftest import ROOT, answers, eventually, free_port


class TcpProxy:
    """127.0.0.1:<port> -> target; ``stop()`` refuses and cuts connections, ``start()`` serves again."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = free_port()
        self._server: socket.socket | None = None
        self._conns: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        server = socket.socket()
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)  # wakes the accept() that close() alone would leave listening
            except OSError:
                pass
            server.close()
        with self._lock:
            for conn in self._conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                conn.close()
            self._conns.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns.update((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        sel = selectors.DefaultSelector()
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        try:
            while True:
                for key, _ in sel.select(timeout=1):
                    data = key.fileobj.recv(65536)  # type: ignore[union-attr]
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            sel.close()
            for s in (a, b):
                with self._lock:
                    self._conns.discard(s)
                s.close()


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def accepts() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True

        eventually(answers(accepts), 10, "redis-server started")
        return self

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()  # no persistence: whatever was queued is gone, as after a crash
            self.proc.wait(timeout=10)
            self.proc = None


@dataclass
class Host:
    name: str
    proc: subprocess.Popen
    log: Path
    upload_dir: Path
    base_url: str = ""
    worker_options: dict = field(default_factory=dict)  # how to start this worker again

    def children(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True)
        return [int(pid) for pid in out.stdout.split()]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        os.kill(self.proc.pid, sig)

    def text(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Cluster:
    """Web, workers and beat as separate processes on the test database, this suite's Redis, and S3."""

    root: Path
    env: dict[str, str]
    redis: RedisServer
    s3: TcpProxy
    hosts: list[Host] = field(default_factory=list)

    def _spawn(self, name: str, argv: list[str], **env: str) -> Host:
        upload_dir = self.root / name / "uploads"
        upload_dir.mkdir(parents=True, exist_ok=True)
        log = self.root / f"{name}.log"
        full_env = dict(self.env, UPLOAD_DIR=str(upload_dir), AIRWAVE_VAR_DIR=str(self.root / name), **env)
        with open(log, "w") as out:
            proc = subprocess.Popen(argv, cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
        host = Host(name, proc, log, upload_dir)
        self.hosts.append(host)
        return host

    def worker(self, name: str, *, concurrency: int = 1, queues: str = "", pool: str = "prefork", **env: str) -> Host:
        """A Celery worker; with no ``queues`` it takes every queue (render and io), as a small site's would."""
        host = self._spawn(
            name,
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "airwave",
                "worker",
                *(["-Q", queues] if queues else []),
                "--pool",
                pool,
                "--concurrency",
                str(concurrency),
                "-l",
                "info",
                "-n",
                f"{name}-{uuid.uuid4().hex[:6]}@%h",
                "--without-gossip",
                "--without-mingle",
            ],
            **env,
        )
        host.worker_options = {"concurrency": concurrency, "queues": queues, "pool": pool, **env}
        _wait_for(lambda: "ready." in host.text(), 60, f"worker {name} did not start", host)
        return host

    def beat(self) -> Host:
        host = self._spawn(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "airwave",
                "beat",
                "-l",
                "info",
                "-s",
                str(self.root / "beat-schedule"),
            ],
        )
        _wait_for(lambda: "beat: Starting" in host.text(), 60, "beat did not start", host)
        return host

    def web(self, name: str = "web", **env: str) -> Host:
        port = free_port()
        host = self._spawn(
            name,
            [sys.executable, "-m", "uvicorn", "airwave.asgi:application", "--host", "127.0.0.1", "--port", str(port)],
            **env,
        )
        host.base_url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(f"{host.base_url}/healthz", timeout=1).ok
            except requests.RequestException:
                return False

        _wait_for(up, 60, "web did not start", host)
        return host

    def stop_all(self) -> None:
        for host in self.hosts:
            if host.alive():
                host.proc.terminate()
        for host in self.hosts:
            try:
                host.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                host.proc.kill()
            for child in host.children():
                try:
                    os.kill(child, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def _wait_for(check, timeout: float, message: str, host: Host | None = None) -> None:
    try:
        eventually(check, timeout, message, give_up=lambda: host is not None and not host.alive())
    except AssertionError:
        raise RuntimeError(f"{message}:\n{host.text()[-4000:] if host else ''}") from None


def wait_until(check, timeout: float, message: str = "the condition"):
    """The service tests' ``eventually``, under the name this suite reads it by."""
    return eventually(check, timeout, message)
