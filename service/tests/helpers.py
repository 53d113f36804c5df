"""Shared test helpers: a real uvicorn subprocess of the service and a plain HTTP client."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from devtools import pgserver
from devtools.pgserver import free_port

SERVICE_DIR = Path(__file__).resolve().parent.parent
ADMIN_TOKEN = "test-admin-token-0123456789abcdef"
CANARY_ENV = {
    "AWS_SECRET_ACCESS_KEY": "canary-aws-secret-5f1c2e",
    "UNRELATED_SETTING": "canary-unrelated-9b7d41",
}


def running_postgres(
    start: Callable[[], pgserver.PostgresServer] = pgserver.start,
) -> Iterator[pgserver.PostgresServer]:
    """A throwaway PostgreSQL (``start``'s: a new cluster, or a standby) for a fixture to yield from.

    Fails the tests in one line without the server binaries; stops and removes it afterwards.
    """
    try:
        server = start()
    except pgserver.PostgresUnavailableError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HttpResult:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def request(
    port: int,
    method: str,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = 10.0,
) -> HttpResult:
    """One request on a fresh connection to 127.0.0.1:port (no redirects, no header normalising)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return HttpResult(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        conn.close()


@dataclass
class ServiceProcess:
    """`python -m catalog_api serve` as the image runs it, on 127.0.0.1."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 30.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode


def start_service(env: dict[str, str], log_path: Path, *, startup_timeout: float = 60.0) -> ServiceProcess:
    """Start the service with exactly `env` (plus PATH) and wait until /health answers."""
    port = free_port()
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(port), **env}
    log_file = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "catalog_api", "serve"],
        cwd=SERVICE_DIR,
        env=full_env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    service = ServiceProcess(process, port, log_path)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"service exited with {process.returncode}: {service.logs()[-2000:]}")
        try:
            if request(port, "GET", "/health", timeout=2).status == 200:
                return service
        except OSError:
            pass
        time.sleep(0.1)
    service.stop()
    raise RuntimeError(f"service did not answer /health within {startup_timeout} s: {service.logs()[-2000:]}")


def read_until_closed(sock: socket.socket, timeout: float) -> bytes:
    """Everything the server sends on ``sock`` until it closes, resets or is silent for ``timeout`` seconds."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ConnectionResetError):
        pass
    return b"".join(chunks)
