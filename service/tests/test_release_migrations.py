"""S-03, migrations before traffic: once per release, before the task listens, all or nothing.

Each test starts from an empty schema on a cluster of its own module and adds test-only revisions
(tests/migration_examples/) after the service's own, the way a new release would.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import Settings, load_settings
from devtools import pgserver
from devtools.pgserver import free_port
from tests.helpers import ADMIN_TOKEN, SERVICE_DIR, request, running_postgres

EXAMPLES = Path(__file__).resolve().parent / "migration_examples"
# `python -m catalog_api ARGS` with extra version folders (argv[1], os.pathsep-separated): the
# service's real entry point, handed the revisions of a release that does not exist.
STARTER = (
    "import sys; from pathlib import Path; from catalog_api import migrate; from catalog_api.__main__ import main; "
    "base = migrate.alembic_config; "
    "migrate.alembic_config = lambda extra=(): base([Path(p) for p in sys.argv[1].split(__import__('os').pathsep)]); "
    "sys.exit(main(sys.argv[2:]))"
)


@pytest.fixture(scope="module")
def server() -> Iterator[pgserver.PostgresServer]:
    yield from running_postgres()


@pytest.fixture
def settings(server: pgserver.PostgresServer) -> Settings:
    with server.admin() as conn:
        conn.execute("DROP TABLE IF EXISTS products, product_notes, migration_runs, alembic_version CASCADE")
    return load_settings(server.env())


def _with_versions(monkeypatch: pytest.MonkeyPatch, *folders: str) -> None:
    base = migrate.alembic_config
    monkeypatch.setattr(migrate, "alembic_config", lambda extra=(): base([EXAMPLES / f for f in folders]))


def _start(server: pgserver.PostgresServer, folders: Sequence[str], *args: str, port: int = 0) -> subprocess.Popen[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        **server.env(),
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "PORT": str(port or free_port()),
    }
    versions = os.pathsep.join(str(EXAMPLES / f) for f in folders) or str(migrate.VERSIONS_DIR)
    return subprocess.Popen(
        [sys.executable, "-c", STARTER, versions, *args],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _waiting_for_advisory_lock(server: pgserver.PostgresServer, starters: int = 1) -> bool:
    # A starter polls pg_try_advisory_lock (its wait is bounded), so it queues in no pg_locks row:
    # its migration session's last statement is that poll.
    with server.admin() as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = 'catalog-api-migrate' AND query LIKE '%pg_try_advisory_lock%'"
        ).fetchone()
    return row is not None and row[0] == starters


def _version(server: pgserver.PostgresServer) -> list[tuple[object, ...]]:
    with server.admin() as conn:
        return conn.execute("SELECT version_num FROM alembic_version").fetchall()


def _schema(server: pgserver.PostgresServer) -> dict[str, list[tuple[object, ...]]]:
    """Everything a migration could have changed: tables, columns, indexes, constraints, version."""
    with server.admin() as conn:
        return {
            "tables": conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall(),
            "columns": conn.execute(
                "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
                " WHERE table_schema = 'public' ORDER BY 1, 2"
            ).fetchall(),
            "indexes": conn.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1"
            ).fetchall(),
            "constraints": conn.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
                " WHERE connamespace = 'public'::regnamespace ORDER BY 1"
            ).fetchall(),
            "version": conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            "rows": conn.execute("SELECT sku, stock FROM products ORDER BY sku").fetchall(),
        }


def _seed_out_of_stock_product(server: pgserver.PostgresServer) -> None:
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("INSERT INTO products (sku, name, category, price, stock) VALUES ('S-0', 'n', 'c', 1, 0)")


def test_s03_two_concurrent_starters_apply_each_migration_once(
    server: pgserver.PostgresServer, settings: Settings
) -> None:
    # Outside the migrations, owned by the user they run as: 0003 appends a row each time it runs.
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE TABLE migration_runs (revision text NOT NULL, at timestamptz DEFAULT clock_timestamp())")
    # Both starters are made to overlap: the test holds the lock until both wait for it, so a
    # loaded machine cannot run them one after the other and hide a missing lock.
    with psycopg.connect(server.conninfo(), autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.ADVISORY_LOCK_KEY,))
        starters = [_start(server, ["counted"], "migrate") for _ in range(2)]
        deadline = time.monotonic() + 60
        while not _waiting_for_advisory_lock(server, starters=2):
            assert all(p.poll() is None for p in starters) and time.monotonic() < deadline, "a starter never waited"
            time.sleep(0.1)
        holder.execute("SELECT pg_advisory_unlock(%s)", (migrate.ADVISORY_LOCK_KEY,))
    outputs = [p.communicate(timeout=60)[0] for p in starters]
    assert [p.returncode for p in starters] == [0, 0], outputs
    with server.admin() as conn:
        assert conn.execute("SELECT revision FROM migration_runs").fetchall() == [("0003",)]
    assert _version(server) == [("0003",)]
    # Both really started the upgrade: the one that waited found the head and did nothing.
    assert all('"event": "migrated"' in out for out in outputs), outputs


def test_s03_a_task_listens_only_after_the_migrations(server: pgserver.PostgresServer, settings: Settings) -> None:
    port = free_port()
    with psycopg.connect(server.conninfo(), autocommit=True) as holder:
        # Another task of the release is migrating: it holds the lock every starter needs.
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.ADVISORY_LOCK_KEY,))
        task = _start(server, [], "serve", port=port)
        try:
            deadline = time.monotonic() + 30
            while not _waiting_for_advisory_lock(server):
                assert task.poll() is None and time.monotonic() < deadline, "the task never waited for the lock"
                time.sleep(0.1)
            time.sleep(1)
            assert task.poll() is None
            assert not _listening(port), "the task listened while migrations were still running"
            holder.execute("SELECT pg_advisory_unlock(%s)", (migrate.ADVISORY_LOCK_KEY,))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not _listening(port):
                assert task.poll() is None, task.communicate()[0]
                time.sleep(0.1)
            assert request(port, "GET", "/health").status == 200
            assert _version(server) == [("0002",)]
        finally:
            task.terminate()
            task.communicate(timeout=30)


def test_s03_a_failed_migration_stops_the_task_before_it_listens_with_nothing_half_applied(
    server: pgserver.PostgresServer, settings: Settings
) -> None:
    migrate.upgrade(settings, build_credentials(settings))
    _seed_out_of_stock_product(server)
    before = _schema(server)
    port = free_port()
    # The release's 0003 expands (a column, a table); its 0004 then fails on the data it finds.
    task = _start(server, ["failing_release"], "serve", port=port)
    listened = False
    deadline = time.monotonic() + 60
    while task.poll() is None and time.monotonic() < deadline:
        listened = listened or _listening(port)
        time.sleep(0.05)
    output = task.communicate(timeout=30)[0]
    assert task.returncode == 1, output
    assert not listened
    assert '"event": "migrate_failed"' in output and "products_stock_not_negative" in output
    assert "Traceback" not in output
    assert _schema(server) == before


def test_s03_a_concurrent_index_revision_commits_the_revisions_before_it_and_runs_again(
    server: pgserver.PostgresServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The README's exception to the release's one transaction, as it really behaves."""
    migrate.upgrade(settings, build_credentials(settings))
    _seed_out_of_stock_product(server)
    _with_versions(monkeypatch, "expand", "broken_after_index")
    with pytest.raises(sa.exc.IntegrityError, match="products_stock_not_negative"):
        migrate.upgrade(settings, build_credentials(settings))
    schema = _schema(server)
    # 0003 was committed when 0004's autocommit block began; 0004's index was built outside any
    # transaction, but its version stamp rode in the transaction that 0005 then rolled back.
    assert schema["version"] == [("0003",)]
    assert any(column[:2] == ("products", "weight_g") for column in schema["columns"])
    assert not any(column[1] == "origin" for column in schema["columns"])
    assert _index_valid(server, "products_weight_idx")
    # So 0004 runs again on the next start: re-runnable by construction (DROP ... IF EXISTS first).
    with server.admin() as conn:
        conn.execute("UPDATE products SET stock = 1")
    migrate.upgrade(settings, build_credentials(settings))
    assert _version(server) == [("0005",)]
    assert _index_valid(server, "products_weight_idx")


def _index_valid(server: pgserver.PostgresServer, name: str) -> bool:
    with server.admin() as conn:
        row = conn.execute("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", (name,)).fetchone()
    return row == (True,)


def test_s03_an_older_version_starts_on_the_newer_schema_of_a_release(
    server: pgserver.PostgresServer,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A rollback, or a replacement task of the version still serving, after the release migrated."""
    with monkeypatch.context() as patched:
        _with_versions(patched, "expand")
        migrate.upgrade(settings, build_credentials(settings))
    assert _version(server) == [("0004",)]
    with caplog.at_level(logging.WARNING, logger="catalog_api.migrate"):
        migrate.upgrade(settings, build_credentials(settings))
    assert _version(server) == [("0004",)]
    assert any(getattr(r, "fields", {}).get("event") == "migrate_skipped_newer_schema" for r in caplog.records)


def test_s03_a_migration_waits_for_a_table_lock_at_most_its_lock_timeout(
    server: pgserver.PostgresServer, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(settings, build_credentials(settings))
    before = _schema(server)
    _with_versions(monkeypatch, "expand")
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            migrate.upgrade(settings, build_credentials(settings))
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            outcome.append(exc)

    # A long transaction of the version still serving holds a share lock on products.
    with psycopg.connect(server.conninfo()) as reader:
        reader.execute("SELECT count(*) FROM products")
        started = time.monotonic()
        thread = threading.Thread(target=run)
        thread.start()
        thread.join(timeout=20)
        waited = time.monotonic() - started
        reader.rollback()
    thread.join(timeout=30)
    assert waited < 15, "the migration queued behind the reader without a lock timeout"
    assert len(outcome) == 1 and isinstance(outcome[0], sa.exc.OperationalError), outcome
    assert "lock timeout" in str(outcome[0])
    assert _schema(server) == before
