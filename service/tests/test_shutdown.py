"""SIGTERM (ECS stop, Spot notice): stop accepting, finish in-flight requests, exit 0 quickly."""

from __future__ import annotations

import signal
import socket
import threading
import time
from pathlib import Path

from devtools import pgserver
from tests.helpers import ADMIN_TOKEN, HttpResult, ServiceProcess, request, start_service

# How long the in-flight request stays blocked after the drain has started: a fraction of the
# 30 s the service allows, far more than a drain that cancels requests (0 s to a few seconds).
HOLD_AFTER_DRAIN_START_S = 4.0


def _wait_for_log(service: ServiceProcess, text: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in service.logs():
            return
        time.sleep(0.02)
    raise AssertionError(f"the service never logged {text!r}: {service.logs()[-2000:]}")


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


def test_i15_sigterm_lets_a_request_finish_that_is_still_open_well_after_the_drain_started(
    db_env: dict[str, str], clean_db: None, tmp_path: Path
) -> None:
    """The request is held by the test, not by the database (whose lock and statement timeouts end
    a blocked query within 5 s): its body is sent only after the drain is under way."""
    service = start_service({**db_env, "ADMIN_TOKEN": ADMIN_TOKEN}, tmp_path / "service.log")
    try:
        body = b'{"sku": "DRAIN-1", "name": "Drained", "category": "tests", "price": "1.00"}'
        with socket.create_connection(("127.0.0.1", service.port), timeout=30) as sock:
            sock.sendall(
                b"POST /products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                + f"Authorization: Bearer {ADMIN_TOKEN}\r\nContent-Length: {len(body)}\r\n".encode()
                + b"Expect: 100-continue\r\n\r\n"
            )
            # Server-side barrier 1: uvicorn answers 100 Continue only when the application asks for
            # the body, so from here on the request is in flight inside the service.
            interim = b""
            while b"\r\n\r\n" not in interim:
                chunk = sock.recv(1024)
                assert chunk, "the connection closed before 100 Continue"
                interim += chunk
            assert interim.startswith(b"HTTP/1.1 100 "), interim
            service.process.send_signal(signal.SIGTERM)
            assert _refuses_connections(service.port), "still accepting connections after SIGTERM"
            # Server-side barrier 2: uvicorn logs this once its drain timeout is running.
            _wait_for_log(service, "Waiting for connections to close")
            time.sleep(HOLD_AFTER_DRAIN_START_S)
            assert service.process.poll() is None, "the service exited with a request in flight"
            sock.sendall(body)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]
        assert b'"sku":"DRAIN-1"' in answer
        assert service.process.wait(timeout=20) == 0
        assert '"event": "stopped"' in service.logs()
    finally:
        service.stop()
