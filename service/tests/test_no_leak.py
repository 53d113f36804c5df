"""No request reveals the environment or a credential, and no request changes what /health answers.

Against the real server process (uvicorn's own error answers included), whose environment
holds the database password, the admin token and unrelated canary variables.
"""

from __future__ import annotations

import socket

import pytest

from devtools import pgserver
from tests.helpers import ADMIN_TOKEN, CANARY_ENV, HttpResult, ServiceProcess, read_until_closed, request

PROBES: list[tuple[str, str, dict[str, str], bytes | None]] = [
    ("GET", "/", {}, None),
    ("GET", "/?env=true", {}, None),
    ("GET", "/health?env=true", {}, None),
    ("GET", "/health?status=down", {}, None),
    ("POST", "/health", {"Content-Type": "application/json"}, b'{"status": "down"}'),
    ("PUT", "/health", {"Content-Type": "application/json"}, b'{"status": "down"}'),
    ("DELETE", "/health", {}, None),
    ("POST", "/health?env=true", {"Content-Type": "text/plain"}, b"unhealthy"),
    ("GET", "/products?env=true", {}, None),
    ("GET", "/env", {}, None),
    ("GET", "/.env", {}, None),
    ("GET", "/debug", {}, None),
    ("GET", "/docs", {}, None),
    ("GET", "/redoc", {}, None),
    ("GET", "/actuator/env", {}, None),
    ("GET", "/server-status", {}, None),
    ("GET", "/openapi.json", {}, None),
    ("GET", "/products/%00", {}, None),
    ("GET", "/products/..%2f..%2fproc%2fself%2fenviron", {}, None),
    ("GET", "/%2e%2e/%2e%2e/proc/self/environ", {}, None),
    ("TRACE", "/products", {"X-Echo": "${DB_PASSWORD}"}, None),
    ("OPTIONS", "/products", {}, None),
    ("GET", "/products", {"X-Request-Id": "${env:DB_PASSWORD}"}, None),
    ("GET", "/products", {"X-Request-Id": "{{DB_PASSWORD}}"}, None),
    ("GET", "/products", {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}, None),
    ("GET", "/products/sku/%25(DB_PASSWORD)s", {}, None),
    ("POST", "/products", {"Content-Type": "application/json"}, b'{"sku": "${DB_PASSWORD}"}'),
    ("POST", "/products", {"Authorization": "Bearer wrong", "Content-Type": "application/json"}, b"{}"),
    (
        "POST",
        "/products",
        {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        b'{"bad json',
    ),
    (
        "POST",
        "/products",
        {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        b'{"sku": "x", "env": true}',
    ),
    ("GET", "/products?q=" + "%ff" * 50, {}, None),
]

# Malformed HTTP is answered by uvicorn itself, before the application sees anything.
RAW_PROBES = [
    b"GARBAGE\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n",
    b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Big: " + b"A" * 70000 + b"\r\n\r\n",
    b"GET /health?env=true HTTP/9.9\r\nHost: x\r\n\r\n",
    b"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
]


def _secrets(pg: pgserver.PostgresServer) -> list[str]:
    return [pg.master_password, pg.superuser_password, ADMIN_TOKEN, *CANARY_ENV.values()]


def _assert_clean(pg: pgserver.PostgresServer, text: str, what: str) -> None:
    for secret in _secrets(pg):
        assert secret not in text, f"{what} leaked a secret"
    for marker in ("DB_PASSWORD=", "AWS_SECRET_ACCESS_KEY", "UNRELATED_SETTING", "PATH=", "Traceback"):
        assert marker not in text, f"{what} contains {marker!r}"


def _render(result: HttpResult) -> str:
    return "\n".join(f"{k}: {v}" for k, v in result.headers.items()) + "\n" + result.text


def _raw(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        return read_until_closed(sock, 5)


def _health_snapshot(port: int, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    result = request(port, "GET", "/health", headers=headers)
    return result.status, {k: v for k, v in result.headers.items() if k != "date"}, result.body


@pytest.mark.parametrize(("method", "path", "headers", "body"), PROBES, ids=[f"{m} {p[:40]}" for m, p, _, _ in PROBES])
def test_no_answer_contains_the_environment_or_a_credential(
    live_service: ServiceProcess,
    pg: pgserver.PostgresServer,
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes | None,
) -> None:
    result = request(live_service.port, method, path, headers=headers, body=body)
    assert result.status < 500, _render(result)
    _assert_clean(pg, _render(result), f"{method} {path}")
    assert "evil.example" not in _render(result)


@pytest.mark.parametrize(
    "payload", RAW_PROBES, ids=["garbage", "bad-header", "huge-header", "bad-version", "negative-length"]
)
def test_malformed_http_answers_leak_nothing(
    live_service: ServiceProcess, pg: pgserver.PostgresServer, payload: bytes
) -> None:
    answer = _raw(live_service.port, payload).decode("latin-1")
    assert answer.startswith("HTTP/1.1 ")
    _assert_clean(pg, answer, repr(payload[:30]))


def test_docs_ui_is_not_served_but_the_schema_is(live_service: ServiceProcess) -> None:
    assert request(live_service.port, "GET", "/docs").status == 404
    assert request(live_service.port, "GET", "/redoc").status == 404
    schema = request(live_service.port, "GET", "/openapi.json")
    assert schema.status == 200
    assert b'"/products"' in schema.body


def test_no_request_changes_what_health_returns(live_service: ServiceProcess) -> None:
    port = live_service.port
    before = _health_snapshot(port)
    assert before[0] == 200 and before[2] == b'{"status":"ok"}'
    for method, path, headers, body in PROBES:
        request(port, method, path, headers=headers, body=body)
    for payload in RAW_PROBES:
        _raw(port, payload)
    assert _health_snapshot(port) == before
    # Not even request headers shape the answer: same status, headers and bytes for every caller.
    for headers in (
        {"X-Request-Id": "abcdefgh-1234"},
        {"Accept": "text/html"},
        {"If-None-Match": "*"},
        {"Cookie": "status=down"},
    ):
        assert _health_snapshot(port, headers) == before


def test_the_logs_hold_no_credential(live_service: ServiceProcess, pg: pgserver.PostgresServer) -> None:
    request(live_service.port, "POST", "/products", headers={"Authorization": f"Bearer {ADMIN_TOKEN}x"}, body=b"{}")
    logs = live_service.logs()
    assert '"msg": "request"' in logs
    for secret in _secrets(pg):
        assert secret not in logs
