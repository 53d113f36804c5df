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


def test_i15_sessions_carry_the_statement_lock_and_idle_timeouts(
    db_env: dict[str, str], pg: pgserver.PostgresServer
) -> None:
    """A runaway query, a lock wait or an abandoned transaction cannot hold a pooled connection for long."""
    import asyncio

    from catalog_api.app import build_credentials
    from catalog_api.config import load_settings
    from catalog_api.db import Database

    settings = load_settings(db_env)

    async def settings_of_a_pooled_session() -> dict[str, str]:
        database = Database(settings, build_credentials(settings))
        await database.pool.open(wait=True, timeout=30)
        try:
            async with database.pool.connection() as conn:
                values = {}
                for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "role"):
                    row = await (await conn.execute(f"SHOW {name}")).fetchone()
                    values[name] = str(row[0]) if row else ""
                return values
        finally:
            await database.close()

    values = asyncio.run(settings_of_a_pooled_session())
    assert values == {
        "statement_timeout": "5s",
        "lock_timeout": "3s",
        "idle_in_transaction_session_timeout": "10s",
        "role": "catalog_app",
    }


def test_i15_the_pool_bounds_its_size_and_its_wait_queue(db_env: dict[str, str]) -> None:
    """Requests beyond the queue answer 503 at once instead of piling up behind ten connections."""
    from catalog_api.app import build_credentials
    from catalog_api.config import load_settings
    from catalog_api.db import Database

    settings = load_settings(db_env)
    pool = Database(settings, build_credentials(settings)).pool
    assert (pool.min_size, pool.max_size) == (2, 10)
    assert 0 < pool.max_waiting <= 500
    assert 0 < pool.timeout <= 10
