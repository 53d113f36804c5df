"""Alembic migrations, run as the master user before the service starts listening.

Every task runs `upgrade head` at start, before it listens, so none of a new version's tasks
passes a health check (and takes traffic) before the schema is at its head. A PostgreSQL
advisory lock makes concurrent starts (a deployment starts several tasks at once, beside the
old version's) apply each migration exactly once: the first task migrates, the others wait for
the lock, then find the head and do nothing. The whole upgrade is one transaction (see
migrations/env.py), so a failure leaves the schema as the previous release left it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from catalog_api.config import Settings
from catalog_api.credentials import CredentialSource, DbCredentials, is_auth_failure

log = logging.getLogger("catalog_api.migrate")

# Arbitrary but fixed: every task of every version must contend for the same lock.
ADVISORY_LOCK_KEY = 0x43415441_4C4F47  # "CATALOG"


VERSIONS_DIR = Path(__file__).resolve().parent / "migrations" / "versions"
# The start budget (`start_within_seconds` in CONTRACT.md): no wait for the lock outlasts it.
START_DEADLINE_S = 90.0
_LOCK_POLL_S = 0.5


class MigrationLockTimeoutError(RuntimeError):
    """Another session held the migration lock for longer than this start may wait."""


def alembic_config(extra_versions: Sequence[Path] = ()) -> Config:
    """The service's Alembic configuration; `extra_versions` adds folders of revisions (tests, lint)."""
    cfg = Config()
    cfg.set_main_option("script_location", "catalog_api:migrations")
    if extra_versions:
        cfg.set_main_option("path_separator", "os")
        cfg.set_main_option("version_locations", os.pathsep.join(str(p) for p in (VERSIONS_DIR, *extra_versions)))
    return cfg


def _connect(settings: Settings, credentials: CredentialSource) -> psycopg.Connection[Any]:
    creds = credentials.ensure_sync()
    if creds is None:
        raise psycopg.OperationalError("no database credentials: DB_USER/DB_PASSWORD unset and the secret unreadable")

    def attempt(c: DbCredentials) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=settings.db_host,
            port=settings.db_port,
            dbname=settings.db_name,
            user=c.user,
            password=c.password,
            sslmode=settings.db_sslmode,
            sslrootcert=settings.db_sslrootcert,
            application_name="catalog-api-migrate",
            connect_timeout=5,
        )

    try:
        return attempt(creds)
    except psycopg.OperationalError as exc:
        if not is_auth_failure(exc):
            raise
        fresh = credentials.refresh_sync(creds)
        if fresh is None:
            raise
        return attempt(fresh)


@contextmanager
def _engine_connection(settings: Settings, credentials: CredentialSource) -> Iterator[sa.Connection]:
    # SQLAlchemy gets a ready psycopg connection: credentials never pass through a URL string.
    engine = sa.create_engine(
        "postgresql+psycopg://", creator=lambda: _connect(settings, credentials), poolclass=sa.pool.NullPool
    )
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def _wait_for_lock(connection: sa.Connection, lock_wait_s: float) -> None:
    # Polled rather than pg_advisory_lock, whose wait no lock_timeout bounds: a session that holds
    # the lock and hangs must not keep this task from starting (or failing) within its budget.
    deadline = time.monotonic() + lock_wait_s
    # Polled in autocommit, outside any transaction: CREATE INDEX CONCURRENTLY in the holder's
    # migration waits for every open transaction, and would hit its lock timeout behind the
    # tasks waiting here.
    default_level = connection.default_isolation_level
    connection.execution_options(isolation_level="AUTOCOMMIT")
    try:
        while not connection.execute(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}).scalar():
            if time.monotonic() >= deadline:
                raise MigrationLockTimeoutError(
                    f"another session held the migration lock for more than {lock_wait_s:g} s; giving up"
                )
            time.sleep(_LOCK_POLL_S)
    finally:
        connection.commit()
        connection.execution_options(isolation_level=default_level)


def run(
    settings: Settings,
    credentials: CredentialSource,
    action: Callable[[Config], None],
    *,
    lock_wait_s: float = START_DEADLINE_S,
) -> None:
    """Run one Alembic action under the advisory lock, on a connection of the master user."""
    with _engine_connection(settings, credentials) as connection:
        # Waits while another task migrates; that task's commit (or its death) releases the lock.
        _wait_for_lock(connection, lock_wait_s)
        # Committed here so that Alembic, not this session, owns the upgrade's transaction:
        # autocommit_block (CREATE INDEX CONCURRENTLY) needs that.
        connection.commit()
        try:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            action(cfg)
            connection.commit()
        except BaseException:
            # A failed statement leaves the session aborted; the lock goes with the connection.
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                connection.rollback()
            raise
        connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()


def _upgrade_action(revision: str) -> Callable[[Config], None]:
    def action(cfg: Config) -> None:
        connection: sa.Connection = cfg.attributes["connection"]
        current = MigrationContext.configure(connection).get_current_heads()
        connection.commit()
        known = {script.revision for script in ScriptDirectory.from_config(cfg).walk_revisions()}
        ahead = sorted(set(current) - known)
        if ahead:
            # A newer release migrated this database and this (older) version is starting again:
            # a rollback, or a replacement task of the version still serving. Expand/contract keeps
            # the newer schema compatible with this version, so it serves without migrating.
            log.warning(
                "database schema is ahead of this version; starting without migrating",
                extra={"fields": {"event": "migrate_skipped_newer_schema", "database_revisions": ahead}},
            )
            return
        command.upgrade(cfg, revision)

    return action


def upgrade(
    settings: Settings, credentials: CredentialSource, revision: str = "head", *, lock_wait_s: float = START_DEADLINE_S
) -> None:
    run(settings, credentials, _upgrade_action(revision), lock_wait_s=lock_wait_s)


def downgrade(settings: Settings, credentials: CredentialSource, revision: str) -> None:
    run(settings, credentials, lambda cfg: command.downgrade(cfg, revision))


def upgrade_with_retry(
    settings: Settings, credentials: CredentialSource, *, deadline_s: float = START_DEADLINE_S
) -> None:
    """At task start the database may still be coming up (or failing over), or a table lock may not
    be granted within the migration's lock timeout: retry until the deadline.

    90 s fits inside the platform's health-check grace period; after it the task exits non-zero
    and ECS replaces it (a broken release trips the deployment circuit breaker instead).
    """
    started = time.monotonic()
    delay = 1.0
    while True:
        try:
            upgrade(settings, credentials, lock_wait_s=max(deadline_s - (time.monotonic() - started), 0.0))
            log.info("migrations at head", extra={"fields": {"event": "migrated"}})
            return
        except (psycopg.OperationalError, sa.exc.OperationalError) as exc:
            elapsed = time.monotonic() - started
            # A statement over its timeout would only time out again: stop now.
            if elapsed + delay > deadline_s or isinstance(getattr(exc, "orig", exc), psycopg.errors.QueryCanceled):
                raise
            log.warning(
                "database not reachable, or a lock not granted in time, for migrations; retrying",
                extra={
                    "fields": {"event": "migrate_retry", "reason": str(exc).splitlines()[0][:300], "retry_in_s": delay}
                },
            )
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
