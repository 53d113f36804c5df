"""Failover or restart: every pooled connection dies at once; the service recovers without a restart."""

from __future__ import annotations

from fastapi.testclient import TestClient

from devtools import pgserver
from tests.conftest import product


def _kill_service_connections(pg: pgserver.PostgresServer) -> int:
    with pg.admin() as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'catalog-api'"
        ).fetchone()
    return int(str(row[0])) if row else 0


def test_a_read_after_all_connections_died_succeeds(client: TestClient, pg: pgserver.PostgresServer) -> None:
    assert client.get("/products").status_code == 200
    assert _kill_service_connections(pg) >= 1
    response = client.get("/products")
    assert response.status_code == 200, response.text


def test_a_write_on_a_dead_connection_answers_503_and_the_next_one_succeeds(
    client: TestClient, pg: pgserver.PostgresServer, admin: dict[str, str]
) -> None:
    assert client.get("/products").status_code == 200
    assert _kill_service_connections(pg) >= 1
    first = client.post("/products", json=product(), headers=admin)
    # A write is never retried behind the client's back: it might have been applied.
    assert first.status_code == 503, first.text
    assert first.json()["error"] == "database_unavailable"
    second = client.post("/products", json=product(), headers=admin)
    assert second.status_code == 201, second.text
