"""Migrations on a cluster of their own (roles are cluster-wide): up, privileges, down, up again."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import psycopg
import pytest
import sqlalchemy as sa

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import Settings, load_settings
from catalog_api.db import APP_ROLE, session_options
from devtools import pgserver
from devtools.pgserver import free_port
from tests.helpers import running_postgres


@pytest.fixture(scope="module")
def server() -> Iterator[pgserver.PostgresServer]:
    yield from running_postgres()


@pytest.fixture(scope="module")
def settings(server: pgserver.PostgresServer) -> Settings:
    return load_settings(server.env())


def _tables(server: pgserver.PostgresServer) -> set[str]:
    with server.admin() as conn:
        return {str(r[0]) for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _role_exists(server: pgserver.PostgresServer) -> bool:
    with server.admin() as conn:
        return conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", (APP_ROLE,)).fetchone() == (1,)


def test_up_down_up(server: pgserver.PostgresServer, settings: Settings) -> None:
    creds = build_credentials(settings)
    migrate.upgrade(settings, creds)
    assert _tables(server) == {"products", "alembic_version"}
    assert _role_exists(server)
    migrate.downgrade(settings, creds, "base")
    assert _tables(server) == {"alembic_version"}
    assert not _role_exists(server)
    migrate.upgrade(settings, creds)
    assert "products" in _tables(server)
    # At head already: a second upgrade (every task start) changes nothing and does not fail.
    migrate.upgrade(settings, creds)


def test_migrations_need_no_superuser(server: pgserver.PostgresServer) -> None:
    with server.admin() as conn:
        row = conn.execute(
            "SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = %s", (pgserver.MASTER_USER,)
        ).fetchone()
    assert row == (False, True)


def test_app_role_can_only_use_the_products_table(server: pgserver.PostgresServer, settings: Settings) -> None:
    migrate.upgrade(settings, build_credentials(settings))
    with psycopg.connect(server.conninfo(), options=session_options(), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)
        conn.execute("INSERT INTO products (sku, name, category, price) VALUES ('M-1', 'n', 'c', 1)")
        conn.execute("UPDATE products SET stock = 2 WHERE sku = 'M-1'")
        conn.execute("DELETE FROM products WHERE sku = 'M-1'")
        for statement in (
            "SELECT * FROM alembic_version",
            "DROP TABLE products",
            "TRUNCATE products",
            "ALTER TABLE products ADD COLUMN x int",
            "CREATE TABLE sneaky (id int)",
            "CREATE ROLE sneaky",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # A session that resets its role stays the restricted role: it was set at connection start.
        conn.execute("RESET ROLE")
        assert conn.execute("SELECT current_user").fetchone() == (APP_ROLE,)


def test_table_constraints_hold_even_without_the_api(server: pgserver.PostgresServer, settings: Settings) -> None:
    migrate.upgrade(settings, build_credentials(settings))
    with psycopg.connect(server.conninfo(), autocommit=True) as conn:
        for values in (
            "('bad sku', 'n', 'c', 1)",
            "('OK', '', 'c', 1)",
            "('OK', 'n', 'Bad', 1)",
            "('OK', 'n', 'c', -1)",
        ):
            with pytest.raises(psycopg.errors.CheckViolation):
                conn.execute(f"INSERT INTO products (sku, name, category, price) VALUES {values}")


def test_concurrent_upgrades_apply_once(server: pgserver.PostgresServer, settings: Settings) -> None:
    creds = build_credentials(settings)
    migrate.downgrade(settings, creds, "base")
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate.upgrade(settings, build_credentials(settings))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with server.admin() as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0002",)]


def test_upgrade_gives_up_after_its_deadline_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = replace(settings, db_port=free_port())
    started = time.monotonic()
    with pytest.raises(sa.exc.OperationalError, match="refused"):
        migrate.upgrade_with_retry(unreachable, build_credentials(unreachable), deadline_s=2.0)
    assert time.monotonic() - started < 10


def test_a_start_gives_up_when_another_session_holds_the_migration_lock(
    server: pgserver.PostgresServer, settings: Settings
) -> None:
    """A session that holds the lock and hangs must not keep a task waiting past its start budget."""
    outcome: list[BaseException | None] = []

    def start() -> None:
        try:
            migrate.upgrade_with_retry(settings, build_credentials(settings), deadline_s=2.0)
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - asserted on below
            outcome.append(exc)

    with server.admin() as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (migrate.ADVISORY_LOCK_KEY,))
        starter = threading.Thread(target=start, daemon=True)
        starter.start()
        # Far past the 2 s budget; the lock is released (and the thread freed) in any case below.
        starter.join(timeout=30)
        finished = not starter.is_alive()
    starter.join(timeout=30)
    assert finished, "the start was still waiting for the lock 30 s into a 2 s budget"
    assert len(outcome) == 1 and isinstance(outcome[0], migrate.MigrationLockTimeoutError), outcome
    assert "more than 2 s" in str(outcome[0])
    assert migrate.START_DEADLINE_S <= 90, "the start budget of CONTRACT.md"


def test_the_lock_timeout_ends_the_process_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from catalog_api import __main__ as entry

    def held(*_args: object, **_kwargs: object) -> None:
        raise migrate.MigrationLockTimeoutError("another session held the migration lock for more than 90 s; giving up")

    monkeypatch.setattr(migrate, "upgrade_with_retry", held)
    for name, value in {"DB_USER": "u", "DB_PASSWORD": "p", "DB_SSLMODE": "disable"}.items():
        monkeypatch.setenv(name, value)
    assert entry.main(["migrate"]) == 1
    lines = [line for line in capsys.readouterr().out.splitlines() if "migrate_lock_timeout" in line]
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
