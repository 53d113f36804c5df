"""SIGTERM (ECS stop, Spot notice): stop accepting, finish in-flight requests, exit 0 quickly."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

from devtools import pgserver
from tests.helpers import HttpResult, request, start_service


def _wait_until_blocked_on_the_lock(pg: pgserver.PostgresServer, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    with pg.admin() as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'catalog-api' AND wait_event_type = 'Lock'"
            ).fetchone()
            if row and int(str(row[0])) >= 1:
                return
            time.sleep(0.02)
    raise AssertionError("the request never reached the database")


def _refuses_connections(port: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                pass
        except ConnectionRefusedError:
            return True
        time.sleep(0.02)
    return False


def test_sigterm_drains_in_flight_requests_and_exits_zero(
    pg: pgserver.PostgresServer, db_env: dict[str, str], clean_db: None, tmp_path: Path
) -> None:
    service = start_service(db_env, tmp_path / "service.log")
    try:
        assert request(service.port, "GET", "/products").status == 200
        result: list[HttpResult] = []
        with pg.admin() as locker:
            # The in-flight request: a listing that waits on a table lock held by the test.
            locker.execute("BEGIN")
            locker.execute("LOCK TABLE products IN ACCESS EXCLUSIVE MODE")
            slow = threading.Thread(
                target=lambda: result.append(request(service.port, "GET", "/products?limit=5", timeout=20))
            )
            slow.start()
            _wait_until_blocked_on_the_lock(pg)
            service.process.send_signal(signal.SIGTERM)
            signalled_at = time.monotonic()
            assert _refuses_connections(service.port), "still accepting connections after SIGTERM"
            assert slow.is_alive(), "the in-flight request ended before the lock was released"
            locker.execute("COMMIT")
        slow.join(timeout=20)
        assert result and result[0].status == 200
        assert result[0].body.startswith(b'{"items":')
        exit_code = service.process.wait(timeout=20)
        assert exit_code == 0
        assert time.monotonic() - signalled_at < 10
        assert '"event": "stopped"' in service.logs()
    finally:
        service.stop()
