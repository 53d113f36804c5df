"""A database that stops answering (frozen, or packets silently dropped) must not hang requests.

Against the real process on loopback with its own throwaway PostgreSQL, whose postmaster and
backends are stopped with SIGSTOP: connections stay open and queries are accepted by the kernel,
but nothing answers, so only the service's own bounds can end the wait.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from devtools import pgserver
from tests.helpers import ADMIN_TOKEN, ServiceProcess, request, running_postgres, start_service

# The service's bounds are 2 s (/ready) and 6 s (a unit of work); a loaded machine gets room on
# top. Without them no answer comes at all: the client below gives up only after 60 s.
ANSWER_WITHIN_S = 15.0


@pytest.fixture(scope="module")
def own_pg() -> Iterator[pgserver.PostgresServer]:
    yield from running_postgres()


@pytest.fixture(scope="module")
def service_on_own_pg(
    own_pg: pgserver.PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    env = {**own_pg.env(), "ADMIN_TOKEN": ADMIN_TOKEN}
    settings = load_settings(env)
    migrate.upgrade(settings, build_credentials(settings))
    service = start_service(env, Path(tmp_path_factory.mktemp("freeze")) / "service.log")
    try:
        yield service
    finally:
        service.stop()


def _server_pids(pg: pgserver.PostgresServer) -> list[int]:
    """The postmaster, then its children (each backend is its own process group, so not killpg)."""
    postmaster = int((pg.datadir / "postmaster.pid").read_text().splitlines()[0])
    children = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == str(postmaster):
            children.append(int(status.parent.name))
    assert children, "no backend of the database found"
    return [postmaster, *children]


def _signal_all(pids: list[int], sig: signal.Signals) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _timed(port: int, method: str, path: str, **kwargs: object) -> tuple[float, int, dict[str, str]]:
    started = time.monotonic()
    # The client waits far longer than the bound: the service, not this timeout, must end the wait.
    result = request(port, method, path, timeout=60, **kwargs)  # type: ignore[arg-type]
    return time.monotonic() - started, result.status, result.headers


def test_i15_a_frozen_database_answers_503_in_bounded_time_and_recovers(
    own_pg: pgserver.PostgresServer, service_on_own_pg: ServiceProcess
) -> None:
    port = service_on_own_pg.port
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
    assert request(port, "GET", "/ready").status == 200
    assert request(port, "GET", "/products").status == 200
    # The postmaster first: stopped, it forks no backend that the list would miss.
    postmaster, *_ = _server_pids(own_pg)
    frozen = [postmaster]
    try:
        os.kill(postmaster, signal.SIGSTOP)
        frozen = _server_pids(own_pg)
        _signal_all(frozen, signal.SIGSTOP)
        ready = _timed(port, "GET", "/ready")
        read = _timed(port, "GET", "/products?limit=3")
        write = _timed(
            port, "POST", "/products", headers=admin, body=b'{"sku":"F-1","name":"n","category":"c","price":"1"}'
        )
    finally:
        _signal_all(frozen, signal.SIGCONT)
    assert ready[1] == 503 and ready[0] < ANSWER_WITHIN_S, ready
    assert ready[2]["cache-control"] == "no-store"
    for seconds, status, headers in (read, write):
        assert status == 503 and seconds < ANSWER_WITHIN_S, (seconds, status)
        assert headers["retry-after"] == "5" and headers["cache-control"] == "no-store"
    # Thawed: the discarded connections are replaced and the service answers again without a restart.
    deadline = time.monotonic() + 60
    while request(port, "GET", "/ready").status != 200:
        assert time.monotonic() < deadline, "the service did not recover after the database thawed"
        time.sleep(0.2)
    assert request(port, "GET", "/products").status == 200
    assert (
        request(
            port, "POST", "/products", headers=admin, body=b'{"sku":"F-2","name":"n","category":"c","price":"1"}'
        ).status
        == 201
    )
