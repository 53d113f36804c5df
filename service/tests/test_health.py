"""/health is liveness only: constant, uncacheable, independent of the database; /ready is not."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from devtools.pgserver import free_port
from tests.conftest import make_client


def test_health_answers_ok_without_caching(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_other_methods_on_health_answer_405(client: TestClient, method: str) -> None:
    response = client.request(method, "/health", json={"status": "down"})
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    if method != "HEAD":
        assert response.json() == {"error": "method_not_allowed", "message": "method not allowed on this path"}


def test_allow_names_every_method_of_a_path(client: TestClient) -> None:
    assert client.request("OPTIONS", "/products").headers["allow"] == "GET, POST"
    assert client.request("POST", "/products/1").headers["allow"] == "DELETE, GET, PATCH, PUT"


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
