"""Fixtures: one throwaway PostgreSQL for the session, the migrated schema, clients of the service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from catalog_api import migrate
from catalog_api.app import build_credentials, create_app
from catalog_api.config import Settings, load_settings
from devtools import pgserver
from tests.helpers import ADMIN_TOKEN, CANARY_ENV, ServiceProcess, running_postgres, start_service


@pytest.fixture(scope="session")
def pg() -> Iterator[pgserver.PostgresServer]:
    yield from running_postgres()


@pytest.fixture(scope="session")
def db_env(pg: pgserver.PostgresServer) -> dict[str, str]:
    """The contract's variables for the session database, migrated to head."""
    env = {**pg.env(), "LOG_LEVEL": "info"}
    settings = load_settings(env)
    migrate.upgrade(settings, build_credentials(settings))
    return env


@pytest.fixture
def clean_db(pg: pgserver.PostgresServer, db_env: dict[str, str]) -> None:
    with pg.admin() as conn:
        conn.execute("TRUNCATE products RESTART IDENTITY")


def make_client(env: dict[str, str], *, pool_timeout_s: float = 5.0) -> TestClient:
    return TestClient(create_app(load_settings(env), pool_timeout_s=pool_timeout_s), raise_server_exceptions=False)


@pytest.fixture
def settings(db_env: dict[str, str]) -> Settings:
    return load_settings({**db_env, "ADMIN_TOKEN": ADMIN_TOKEN})


@pytest.fixture
def client(db_env: dict[str, str], clean_db: None) -> Iterator[TestClient]:
    with make_client({**db_env, "ADMIN_TOKEN": ADMIN_TOKEN}) as test_client:
        yield test_client


@pytest.fixture
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def product(**overrides: Any) -> dict[str, Any]:
    """A valid create body."""
    body: dict[str, Any] = {"sku": "SKU-1", "name": "Red T-shirt", "category": "apparel", "price": "19.99"}
    body.update(overrides)
    return body


@pytest.fixture(scope="session")
def live_service(db_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The real entry point in a subprocess, as the container runs it."""
    log_path = Path(tmp_path_factory.mktemp("live")) / "service.log"
    # Canaries: variables outside the contract that no answer and no log line may ever contain.
    env = {**db_env, "ADMIN_TOKEN": ADMIN_TOKEN, **CANARY_ENV}
    service = start_service(env, log_path)
    try:
        yield service
    finally:
        service.stop()
