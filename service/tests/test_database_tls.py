"""DB_SSLMODE=verify-full, as the platform sets it: the database is authenticated, not only encrypted.

A throwaway PostgreSQL serves a certificate for 127.0.0.1 signed by a stand-in for Amazon RDS's
CA (devtools.tls); the service trusts the bundle named by DB_SSLROOTCERT, as the image does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from devtools import pgserver, tls
from devtools.pgserver import free_port
from tests.helpers import ADMIN_TOKEN, SERVICE_DIR, request, running_postgres, start_service
from tests.test_read_pool import _with_pool

# Until the first migration retry is logged: a connection attempt, not the whole start budget.
FIRST_ATTEMPT_BUDGET_S = 45.0


@pytest.fixture(scope="module")
def rds_ca() -> tls.Authority:
    return tls.authority("stand-in Amazon RDS CA")


@pytest.fixture(scope="module")
def tls_pg(rds_ca: tls.Authority) -> Iterator[pgserver.PostgresServer]:
    """A server whose certificate names 127.0.0.1 only, signed by the stand-in RDS CA; migrated to head."""
    for server in running_postgres():
        certificate, key = tls.server_certificate(rds_ca, dns_names=(), ip_addresses=("127.0.0.1",))
        tls.enable_tls(server, certificate_pem=certificate, key_pem=key)
        settings = load_settings(server.env())
        migrate.upgrade(settings, build_credentials(settings))
        yield server


def _verify_full_env(server: pgserver.PostgresServer, bundle: Path, *, host: str = "127.0.0.1") -> dict[str, str]:
    return {
        **server.env(),
        "DB_HOST": host,
        "DB_SSLMODE": "verify-full",
        "DB_SSLROOTCERT": str(bundle),
        "ADMIN_TOKEN": ADMIN_TOKEN,
        "LOG_LEVEL": "info",
    }


def _first_migration_retry(env: dict[str, str], log_path: Path) -> tuple[dict[str, object], bool]:
    """Start `serve`; return its first migrate_retry log record and whether /health ever answered."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PORT": str(free_port()), **env}
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "catalog_api", "serve"], cwd=SERVICE_DIR, env=full_env, stdout=out, stderr=out
        )
    served = False
    try:
        deadline = time.monotonic() + FIRST_ATTEMPT_BUDGET_S
        while time.monotonic() < deadline and process.poll() is None:
            for line in log_path.read_text(errors="replace").splitlines():
                record = json.loads(line) if line.startswith("{") else {}
                if record.get("event") == "migrate_retry":
                    try:
                        served = request(int(full_env["PORT"]), "GET", "/health", timeout=1).status == 200
                    except OSError:
                        served = False
                    return record, served
            time.sleep(0.1)
        raise AssertionError(f"no migrate_retry within {FIRST_ATTEMPT_BUDGET_S} s: {log_path.read_text()[-1500:]}")
    finally:
        process.kill()
        process.wait(timeout=10)


def test_i15_verify_full_serves_when_the_database_certificate_chains_to_the_bundle_and_names_the_host(
    tls_pg: pgserver.PostgresServer, rds_ca: tls.Authority, tmp_path: Path
) -> None:
    bundle = tls.write_bundle(rds_ca, tmp_path / "rds-ca-bundle.pem")
    service = start_service(_verify_full_env(tls_pg, bundle), tmp_path / "service.log")
    try:
        assert request(service.port, "GET", "/products").status == 200
        assert request(service.port, "GET", "/ready").status == 200
        with tls_pg.admin() as conn:
            rows = conn.execute(
                "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'catalog-api'"
            ).fetchall()
        assert rows, "the service holds no database connection"
        assert all(row[0] for row in rows)
    finally:
        service.stop()


def test_i15_verify_full_refuses_a_database_whose_certificate_another_ca_signed(
    tls_pg: pgserver.PostgresServer, tmp_path: Path
) -> None:
    stranger = tls.write_bundle(tls.authority("some other CA"), tmp_path / "other-bundle.pem")
    record, served = _first_migration_retry(_verify_full_env(tls_pg, stranger), tmp_path / "service.log")
    assert "certificate verify failed" in str(record.get("reason")), record
    # Guards the start order: migrations, which need the verified connection, run before uvicorn listens.
    assert not served, "the service listened without a verified database"


def test_i15_verify_full_refuses_a_host_name_the_database_certificate_does_not_hold(
    tls_pg: pgserver.PostgresServer, rds_ca: tls.Authority, tmp_path: Path
) -> None:
    # localhost reaches the same server, but the certificate names 127.0.0.1 only: only the
    # host-name check can refuse it (the chain is the trusted one).
    bundle = tls.write_bundle(rds_ca, tmp_path / "rds-ca-bundle.pem")
    record, served = _first_migration_retry(
        _verify_full_env(tls_pg, bundle, host="localhost"), tmp_path / "service.log"
    )
    assert "does not match host name" in str(record.get("reason")), record
    # Guards the start order: migrations, which need the verified connection, run before uvicorn listens.
    assert not served, "the service listened without a verified database"


def _read_pool_serves(env: dict[str, str]) -> bool:
    """Whether the reads' pool (asyncpg) gets a connection it may use under these settings."""
    return _with_pool(env, lambda pool: pool.ping(10.0))


def test_i16_the_read_pool_checks_the_database_certificate_as_libpq_does(
    tls_pg: pgserver.PostgresServer, rds_ca: tls.Authority, tmp_path: Path
) -> None:
    """Reads travel on asyncpg, not libpq: its TLS settings are built from DB_SSLMODE/DB_SSLROOTCERT
    to mean the same (catalog_api/readpool.py, ssl_context)."""
    bundle = tls.write_bundle(rds_ca, tmp_path / "rds-ca-bundle.pem")
    stranger = tls.write_bundle(tls.authority("some other CA"), tmp_path / "other-bundle.pem")
    assert _read_pool_serves(_verify_full_env(tls_pg, bundle))
    assert not _read_pool_serves(_verify_full_env(tls_pg, stranger)), "verify-full took another CA's certificate"
    assert not _read_pool_serves(_verify_full_env(tls_pg, bundle, host="localhost")), "verify-full took a wrong host"
    # verify-ca checks the chain, not the name.
    assert _read_pool_serves({**_verify_full_env(tls_pg, bundle, host="localhost"), "DB_SSLMODE": "verify-ca"})
    assert not _read_pool_serves({**_verify_full_env(tls_pg, stranger), "DB_SSLMODE": "verify-ca"})
    # require with a CA file checks the chain too, as libpq's does for compatibility.
    assert not _read_pool_serves({**_verify_full_env(tls_pg, stranger), "DB_SSLMODE": "require"})
    without_bundle = {k: v for k, v in _verify_full_env(tls_pg, bundle).items() if k != "DB_SSLROOTCERT"}
    assert _read_pool_serves({**without_bundle, "DB_SSLMODE": "require"})
