"""Alembic migrations, run as the master user before the service starts listening.

Every task runs `upgrade head` at start; a PostgreSQL advisory lock makes concurrent starts
(a deployment starts several tasks at once) apply each migration exactly once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from catalog_api.config import Settings
from catalog_api.credentials import CredentialSource, DbCredentials, is_auth_failure

log = logging.getLogger("catalog_api.migrate")

# Arbitrary but fixed: every task of every version must contend for the same lock.
ADVISORY_LOCK_KEY = 0x43415441_4C4F47  # "CATALOG"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "catalog_api:migrations")
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


def run(settings: Settings, credentials: CredentialSource, action: Callable[[Config], None]) -> None:
    """Run one Alembic action under the advisory lock, on a connection of the master user."""
    with _engine_connection(settings, credentials) as connection:
        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
        try:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            action(cfg)
            connection.commit()
        finally:
            connection.execute(sa.text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()


def upgrade(settings: Settings, credentials: CredentialSource, revision: str = "head") -> None:
    run(settings, credentials, lambda cfg: command.upgrade(cfg, revision))


def downgrade(settings: Settings, credentials: CredentialSource, revision: str) -> None:
    run(settings, credentials, lambda cfg: command.downgrade(cfg, revision))


def upgrade_with_retry(settings: Settings, credentials: CredentialSource, *, deadline_s: float = 90.0) -> None:
    """At task start the database may still be coming up (or failing over): retry until the deadline.

    90 s fits inside the platform's health-check grace period; after it the task exits non-zero
    and ECS replaces it (a broken release trips the deployment circuit breaker instead).
    """
    started = time.monotonic()
    delay = 1.0
    while True:
        try:
            upgrade(settings, credentials)
            log.info("migrations at head", extra={"fields": {"event": "migrated"}})
            return
        except (psycopg.OperationalError, sa.exc.OperationalError) as exc:
            elapsed = time.monotonic() - started
            if elapsed + delay > deadline_s:
                raise
            log.warning(
                "database not reachable for migrations; retrying",
                extra={
                    "fields": {"event": "migrate_retry", "reason": str(exc).splitlines()[0][:300], "retry_in_s": delay}
                },
            )
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
