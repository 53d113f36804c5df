"""Issue 16: catalog reads go to the reader (DB_READER_HOST), writes and migrations to the writer.

The reader is a real hot standby of the session's PostgreSQL (`pgserver.start_replica`), on its
own loopback address and the same port, as Aurora's reader endpoint is beside the cluster
endpoint. Its WAL replay is paused to make the routing observable: while paused, the standby
does not have what the writer has just committed, so a read that reached the writer would see it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from catalog_api.app import READY_TIMEOUT_S
from catalog_api.db import session_options
from devtools import pgserver
from tests.conftest import make_client, product
from tests.helpers import ADMIN_TOKEN, ServiceProcess, request, running_postgres, start_service

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def replica(pg: pgserver.PostgresServer, db_env: dict[str, str]) -> Iterator[pgserver.PostgresServer]:
    yield from running_postgres(lambda: pgserver.start_replica(pg))


@pytest.fixture(scope="module")
def service(
    db_env: dict[str, str], replica: pgserver.PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServiceProcess]:
    log_path = Path(tmp_path_factory.mktemp("reader")) / "service.log"
    started = start_service({**db_env, "DB_READER_HOST": replica.host, "ADMIN_TOKEN": ADMIN_TOKEN}, log_path)
    try:
        yield started
    finally:
        started.stop()


def _wait(condition_name: str, check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{condition_name} within {timeout:g} s"
        time.sleep(0.05)


def _replayed(primary: pgserver.PostgresServer, replica: pgserver.PostgresServer) -> bool:
    with primary.admin() as conn:
        row = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    assert row is not None
    with replica.admin() as conn:
        caught_up = conn.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (row[0],)).fetchone()
    return caught_up == (True,)


@pytest.fixture
def paused_replay(pg: pgserver.PostgresServer, replica: pgserver.PostgresServer) -> Iterator[None]:
    """The standby has everything committed so far, then stops applying the writer's changes."""
    with pg.admin() as conn:
        conn.execute("TRUNCATE products RESTART IDENTITY")
    _wait("the standby replayed the writer's WAL", lambda: _replayed(pg, replica))
    with replica.admin() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
        _wait(
            "replay paused",
            lambda: conn.execute("SELECT pg_get_wal_replay_pause_state()").fetchone() == ("paused",),
        )
    try:
        yield
    finally:
        with replica.admin() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")


def _create(service: ServiceProcess, **fields: object) -> dict[str, object]:
    created = request(service.port, "POST", "/products", headers=ADMIN, body=json.dumps(product(**fields)).encode())
    assert created.status == 201, created.text
    body: dict[str, object] = json.loads(created.body)
    return body


def test_i16_reads_go_to_the_reader_and_writes_to_the_writer(
    pg: pgserver.PostgresServer, replica: pgserver.PostgresServer, service: ServiceProcess, paused_replay: None
) -> None:
    created = _create(service, sku="R-1", name="Reader routed lamp")
    with pg.admin() as conn:
        assert conn.execute("SELECT sku FROM products WHERE id = %s", (created["id"],)).fetchall() == [("R-1",)]
    # The standby cannot take a write at all: the row the service wrote can only have gone to the writer.
    with (
        psycopg.connect(replica.conninfo(), autocommit=True, options=session_options()) as conn,
        pytest.raises(psycopg.errors.ReadOnlySqlTransaction),
    ):
        conn.execute("INSERT INTO products (sku, name, category, price) VALUES ('R-2', 'n', 'c', 1)")
    # Every kind of read asks the standby, which has not applied the write yet.
    assert request(service.port, "GET", f"/products/{created['id']}").status == 404
    assert request(service.port, "HEAD", f"/products/{created['id']}").status == 404
    assert request(service.port, "GET", "/products/sku/R-1").status == 404
    assert json.loads(request(service.port, "GET", "/products?q=routed").body)["items"] == []
    with replica.admin() as conn:
        conn.execute("SELECT pg_wal_replay_resume()")
    _wait("the read sees the write once the standby replays it", lambda: _read(service, created["id"]) == created)
    # The same routes that missed it before now find it: each one does read the standby.
    assert request(service.port, "HEAD", f"/products/{created['id']}").status == 200
    assert request(service.port, "GET", "/products/sku/R-1").status == 200
    found = json.loads(request(service.port, "GET", "/products?q=routed").body)["items"]
    assert [item["id"] for item in found] == [created["id"]]


def _read(service: ServiceProcess, product_id: object) -> object:
    answer = request(service.port, "GET", f"/products/{product_id}")
    return json.loads(answer.body) if answer.status == 200 else None


def test_i16_a_write_answers_with_the_row_it_wrote_before_the_reader_has_it(
    pg: pgserver.PostgresServer, replica: pgserver.PostgresServer, service: ServiceProcess
) -> None:
    """A client needs no read-back after a write (which the reader might answer with the old row)."""
    with pg.admin() as conn:
        conn.execute("TRUNCATE products RESTART IDENTITY")
    created = _create(service, sku="W-1", name="Old name", price="10.00")
    _wait("the standby has the product", lambda: _read(service, created["id"]) == created)
    with replica.admin() as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        changed = request(
            service.port,
            "PATCH",
            f"/products/{created['id']}",
            headers=ADMIN,
            body=json.dumps({"name": "New name", "price": "12.50"}).encode(),
        )
        assert changed.status == 200, changed.text
        answer = json.loads(changed.body)
        with pg.admin() as conn:
            row = conn.execute(
                "SELECT id, sku, name, price::text, created_at, updated_at FROM products WHERE id = %s",
                (created["id"],),
            ).fetchone()
        assert row is not None
        assert (answer["id"], answer["sku"], answer["name"], answer["price"]) == row[:4]
        created_at, updated_at = row[4], row[5]
        assert isinstance(created_at, datetime) and isinstance(updated_at, datetime)
        assert (answer["created_at"], answer["updated_at"]) == (created_at.isoformat(), updated_at.isoformat())
        # Meanwhile the reader still serves the row as it was.
        assert _read(service, created["id"]) == created
    finally:
        with replica.admin() as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
    _wait("the reader catches up", lambda: _read(service, created["id"]) == answer)


def test_i16_ready_needs_the_reader_as_well_as_the_writer(db_env: dict[str, str], clean_db: None) -> None:
    # 127.0.0.3 on the database's port: nothing listens there, each connection attempt is refused
    # at once, and /ready gives up after its own READY_TIMEOUT_S (the reader ping retries until then).
    with make_client(
        {**db_env, "DB_READER_HOST": "127.0.0.3", "ADMIN_TOKEN": ADMIN_TOKEN}, pool_timeout_s=1.0
    ) as client:
        started = time.monotonic()
        ready = client.get("/ready")
        assert (ready.status_code, ready.json()) == (503, {"status": "unavailable"})
        assert time.monotonic() - started < READY_TIMEOUT_S + 3
        # What /ready reports: writes work, reads do not.
        assert client.post("/products", json=product(), headers=ADMIN).status_code == 201
        assert client.get("/products/1").status_code == 503
