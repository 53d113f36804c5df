"""One JSON access line per request; request ids honoured only when safe; a crash answers a generic 500."""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog_api import repository
from catalog_api.logs import JsonFormatter
from catalog_api.middleware import request_id_from


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    formatter = JsonFormatter()
    return [json.loads(formatter.format(r)) for r in caplog.records if r.name == "catalog_api.access"]


def test_one_json_line_per_request_with_the_fields(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    client.get("/products?q=secret-search-text", headers={"X-Request-Id": "req-12345678"})
    lines = _access_lines(caplog)
    assert len(lines) == 1
    line = lines[0]
    assert {"ts", "level", "msg", "request_id", "method", "path", "status", "duration_ms"} <= set(line)
    assert (line["request_id"], line["method"], line["path"], line["status"]) == (
        "req-12345678",
        "GET",
        "/products",
        200,
    )
    assert isinstance(line["duration_ms"], float)
    # Query strings are user input; the log keeps the path only.
    assert "secret-search-text" not in json.dumps(line)


@pytest.mark.parametrize(
    "incoming",
    ["short", "has space in it", "x" * 65, "inject\r\nX-Evil: 1", "${jndi:ldap://x}", "ünïcode-id-1234"],
)
def test_unsafe_request_ids_are_replaced(client: TestClient, incoming: str) -> None:
    # A 404 is no-store, so it carries the id (a cacheable read carries none).
    response = client.get("/products/424242", headers=[(b"X-Request-Id", incoming.encode("utf-8"))])
    echoed = response.headers["x-request-id"]
    assert echoed != incoming
    assert len(echoed) == 32 and all(c in "0123456789abcdef" for c in echoed)


def test_a_request_id_with_a_trailing_newline_is_replaced() -> None:
    # Sent through the ASGI scope: an HTTP parser would refuse the newline before the service saw it.
    scope = {"type": "http", "headers": [(b"x-request-id", b"abcdefgh-1234\n")]}
    replaced = request_id_from(scope)
    assert replaced != "abcdefgh-1234\n" and "\n" not in replaced
    assert request_id_from({"type": "http", "headers": [(b"x-request-id", b"abcdefgh-1234")]}) == "abcdefgh-1234"


def test_safe_request_id_is_propagated(client: TestClient) -> None:
    assert (
        client.get("/products/424242", headers={"X-Request-Id": "abc-DEF_123.45"}).headers["x-request-id"]
        == "abc-DEF_123.45"
    )


def test_an_unexpected_error_answers_a_generic_500_and_logs_the_detail(
    client: TestClient, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def boom(*_args: Any) -> None:
        raise RuntimeError("detail that must stay in the logs")

    caplog.set_level(logging.INFO)
    monkeypatch.setattr(repository, "get_by_id", boom)
    response = client.get("/products/1", headers={"X-Request-Id": "crash-request-1"})
    assert response.status_code == 500
    assert response.json() == {"error": "internal_error", "message": "internal error; the request id is in the logs"}
    assert response.headers["cache-control"] == "no-store"
    assert "detail" not in response.text and "Traceback" not in response.text
    errors = [r for r in caplog.records if r.name == "catalog_api.error"]
    assert len(errors) == 1
    rendered = json.loads(JsonFormatter().format(errors[0]))
    assert rendered["request_id"] == "crash-request-1"
    assert "detail that must stay in the logs" in rendered["exc"]
    assert _access_lines(caplog)[-1]["status"] == 500


def test_log_lines_are_single_line_json_even_with_tracebacks() -> None:
    try:
        raise ValueError("multi\nline")
    except ValueError:
        record = logging.getLogger("x").makeRecord("x", logging.ERROR, __file__, 1, "oops", (), exc_info=sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    assert json.loads(text)["exc_type"] == "ValueError"


def test_i15_request_id_is_echoed_on_uncacheable_answers_only(client: TestClient) -> None:
    for path in ("/products/424242", "/products?limit=0", "/ready"):
        response = client.get(path, headers={"X-Request-Id": "abc-DEF_123.45"})
        assert response.headers["cache-control"] == "no-store", path
        assert response.headers["x-request-id"] == "abc-DEF_123.45", path
    cached = client.get("/products", headers={"X-Request-Id": "abc-DEF_123.45"})
    assert "x-request-id" not in cached.headers
