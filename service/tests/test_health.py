"""/health is liveness only: constant, uncacheable, independent of the database; /ready is not."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from devtools import pgserver
from devtools.pgserver import free_port
from tests.conftest import make_client
from tests.helpers import ServiceProcess, request


def test_health_answers_ok_without_caching(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_other_methods_on_health_answer_405(client: TestClient, method: str) -> None:
    response = client.request(method, "/health", json={"status": "down"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"
    assert response.json() == {"error": "method_not_allowed", "message": "method not allowed on this path"}


def test_allow_names_every_method_of_a_path(client: TestClient) -> None:
    assert client.request("OPTIONS", "/products").headers["allow"] == "GET, HEAD, POST"
    assert client.request("POST", "/products/1").headers["allow"] == "DELETE, GET, HEAD, PATCH, PUT"


def test_health_does_not_depend_on_the_database(db_env: dict[str, str]) -> None:
    # Nothing listens on this port: the database is "down" for the whole life of the app.
    env = {**db_env, "DB_PORT": str(free_port())}
    with make_client(env) as client:
        assert client.get("/health").status_code == 200
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable"}


def test_ready_when_the_database_answers(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
    assert response.headers["cache-control"] == "no-store"


def test_reads_answer_503_with_retry_after_when_the_database_is_down(db_env: dict[str, str]) -> None:
    env = {**db_env, "DB_PORT": str(free_port())}
    with make_client(env, pool_timeout_s=0.5) as client:
        response = client.get("/products")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert response.json()["error"] == "database_unavailable"
    assert response.headers["cache-control"] == "no-store"


def test_i15_a_503_names_no_driver_detail_and_is_never_cached(db_env: dict[str, str]) -> None:
    """During an outage the edge must not keep the 503, and the body must not carry libpq's text."""
    port = free_port()
    env = {**db_env, "DB_PORT": str(port)}
    with make_client(env, pool_timeout_s=0.5) as client:
        for response in (client.get("/products"), client.get("/products/1"), client.get("/ready")):
            assert response.status_code == 503
            assert response.headers["cache-control"] == "no-store"
            assert str(port) not in response.text and "127.0.0.1" not in response.text
        read = client.get("/products/sku/SKU-1")
    assert read.json() == {
        "error": "database_unavailable",
        "message": "the catalog database is unavailable; retry shortly",
    }


def test_i15_ready_fails_when_the_app_role_cannot_read_the_catalog(
    client: TestClient, pg: pgserver.PostgresServer
) -> None:
    """Readiness reads `products` as the app role; a connection alone is not ready."""
    assert client.get("/ready").status_code == 200
    with pg.admin() as conn:
        conn.execute("REVOKE SELECT ON products FROM catalog_app")
    try:
        response = client.get("/ready")
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable"}
    finally:
        with pg.admin() as conn:
            conn.execute("GRANT SELECT ON products TO catalog_app")
    assert client.get("/ready").status_code == 200


def test_p05_a_percent_encoded_ready_path_reaches_ready_so_the_edge_must_judge_the_decoded_path(
    live_service: ServiceProcess,
) -> None:
    # Why the edge guard decodes before comparing (shared/components/distribution.py): the server
    # decodes `/re%61dy` to `/ready` before routing, so a raw-path rule alone would let it through.
    plain = request(live_service.port, "GET", "/ready")
    encoded = request(live_service.port, "GET", "/re%61dy")
    assert (encoded.status, encoded.body) == (plain.status, plain.body) == (200, b'{"status":"ready"}')


def test_a_path_without_a_route_answers_the_bytes_the_edge_answers_for_internal_paths(client: TestClient) -> None:
    """The platform's edge refuses /ready and /openapi.json with these same bytes (tests/test_edge_origin.py)."""
    response = client.get("/no-such-path")
    assert response.status_code == 404
    assert response.content == b'{"error":"not_found","message":"no such path"}'
    assert response.headers["cache-control"] == "no-store"
