"""Secret rotation: after the password changes in the database, the service re-reads the secret.

Secrets Manager is moto's in-process stand-in, so the service's real boto3 call path
(`get_secret_value` with the region from AWS_REGION) runs unchanged against it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from fastapi.testclient import TestClient
from moto import mock_aws

from catalog_api.app import create_app
from catalog_api.config import load_settings
from catalog_api.credentials import (
    CredentialError,
    CredentialSource,
    DbCredentials,
    SecretsManagerReader,
    parse_secret,
)
from devtools import pgserver
from tests.conftest import make_client

REGION = "eu-north-1"
ROLE = "rotating_master"


@pytest.fixture
def rotating_role(pg: pgserver.PostgresServer, db_env: dict[str, str]) -> Iterator[str]:
    """A login role standing in for the master user, so the session's master password stays put."""
    with pg.admin() as conn:
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")
        conn.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD 'first-password-1'")
        conn.execute(f"GRANT catalog_app TO {ROLE}")
    yield ROLE
    with pg.admin() as conn:
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'")
        conn.execute(f"DROP ROLE IF EXISTS {ROLE}")


def _rotate(pg: pgserver.PostgresServer, password: str) -> None:
    """What a rotation does to running tasks: a new password, and their connections eventually gone."""
    with pg.admin() as conn:
        conn.execute(f"ALTER ROLE {ROLE} PASSWORD '{password}'")
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{ROLE}'")


def _env(db_env: dict[str, str], arn: str | None) -> dict[str, str]:
    env = {**db_env, "DB_USER": ROLE, "DB_PASSWORD": "first-password-1", "AWS_REGION": REGION}
    if arn:
        env["DB_SECRET_ARN"] = arn
    return env


@mock_aws
def test_password_change_mid_run_is_survived_by_rereading_the_secret(
    pg: pgserver.PostgresServer, db_env: dict[str, str], rotating_role: str, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name="rds!cluster-catalog", SecretString=json.dumps({"username": ROLE, "password": "first-password-1"})
    )["ARN"]
    with make_client(_env(db_env, arn)) as client:
        assert client.get("/products").status_code == 200
        # The secret first, then the database: a connection the pool opens in the background
        # between the two steps would otherwise re-read a secret that still holds the old
        # password, and the rate limit would then keep the new one out for 10 s.
        secrets.put_secret_value(
            SecretId=arn, SecretString=json.dumps({"username": ROLE, "password": "second-password-2"})
        )
        _rotate(pg, "second-password-2")
        for _ in range(3):
            response = client.get("/products")
            assert response.status_code == 200, response.text
        assert client.get("/ready").status_code == 200
    reread = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "credentials_reread"]
    assert len(reread) == 1
    assert reread[0].fields["changed"] is True  # type: ignore[attr-defined]
    assert "second-password-2" not in caplog.text


@mock_aws
def test_a_secret_that_still_holds_the_rejected_password_gives_503_not_a_loop(
    pg: pgserver.PostgresServer, db_env: dict[str, str], rotating_role: str, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name="stale", SecretString=json.dumps({"username": ROLE, "password": "first-password-1"})
    )["ARN"]
    # The clock stands still: however slowly this machine runs the test, every failed login
    # falls inside one rate-limit window, so exactly one read is allowed.
    credentials = CredentialSource(
        DbCredentials(ROLE, "first-password-1"), SecretsManagerReader(arn, REGION), clock=lambda: 1000.0
    )
    app = create_app(load_settings(_env(db_env, arn)), credentials, pool_timeout_s=1.0)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/products").status_code == 200
        _rotate(pg, "unknown-to-the-secret")
        # Several requests, each a failed login of its own (reads and writes, both pools).
        for _ in range(4):
            response = client.get("/products")
            assert response.status_code == 503
            assert response.json()["error"] == "database_unavailable"
            assert "unknown-to-the-secret" not in response.text
        assert client.get("/ready").status_code == 503
    reads = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "credentials_reread"]
    failed = [r for r in caplog.records if getattr(r, "fields", {}).get("event") == "db_auth_failed"]
    assert len(failed) >= 4, "each request tried a login of its own"
    # Rate-limited: one read within the 10 s window, however many connection attempts failed.
    assert len(reads) == 1


def test_without_a_secret_arn_a_rotation_gives_503(
    pg: pgserver.PostgresServer, db_env: dict[str, str], rotating_role: str
) -> None:
    with make_client(_env(db_env, None), pool_timeout_s=1.0) as client:
        assert client.get("/products").status_code == 200
        _rotate(pg, "third-password-3")
        response = client.get("/products")
        assert response.status_code == 503
        assert client.get("/health").status_code == 200


@mock_aws
def test_startup_reads_the_secret_when_no_credentials_were_injected(
    pg: pgserver.PostgresServer, db_env: dict[str, str], rotating_role: str
) -> None:
    secrets = boto3.client("secretsmanager", region_name=REGION)
    arn = secrets.create_secret(
        Name="only-arn", SecretString=json.dumps({"username": ROLE, "password": "first-password-1"})
    )["ARN"]
    env = {k: v for k, v in _env(db_env, arn).items() if k not in ("DB_USER", "DB_PASSWORD")}
    with make_client(env) as client:
        assert client.get("/products").status_code == 200


@pytest.mark.parametrize(
    "secret",
    ["not json", "[]", '{"username": "u"}', '{"username": "", "password": "p"}', '{"username": 1, "password": "p"}'],
)
def test_unusable_secrets_are_refused_without_echoing_them(secret: str) -> None:
    with pytest.raises(CredentialError) as info:
        parse_secret(secret)
    assert str(info.value).startswith("the database secret ")
    assert '"' not in str(info.value)


def test_parse_secret_reads_the_rds_keys() -> None:
    creds = parse_secret('{"username": "admin", "password": "p@ss", "engine": "postgres"}')
    assert creds == DbCredentials("admin", "p@ss")
    assert "p@ss" not in repr(creds)


@pytest.mark.parametrize("failing", [True, False])
def test_refresh_is_rate_limited_and_single_flight(failing: bool) -> None:
    now = [100.0]
    calls: list[int] = []

    def reader() -> DbCredentials:
        calls.append(1)
        if failing:
            raise CredentialError("denied")
        return DbCredentials("u", f"p{len(calls)}")

    source = CredentialSource(DbCredentials("u", "p0"), reader, min_interval_s=10, clock=lambda: now[0])
    first = source.refresh_sync(DbCredentials("u", "p0"))
    second = source.refresh_sync(DbCredentials("u", "p0"))
    assert len(calls) == 1
    if failing:
        assert first is None and second is None
    else:
        # The second caller failed with the old password and gets the already re-read one.
        assert first == second == DbCredentials("u", "p1")
    now[0] += 11
    source.refresh_sync(source.current())
    assert len(calls) == 2


def test_auth_failure_is_recognised_from_libpq_text(pg: pgserver.PostgresServer, db_env: dict[str, str]) -> None:
    from catalog_api.credentials import is_auth_failure

    err: Any = None
    try:
        psycopg.connect(pg.conninfo(password="definitely-wrong"))
    except psycopg.OperationalError as exc:
        err = exc
    assert err is not None and is_auth_failure(err)
    assert not is_auth_failure(psycopg.OperationalError("connection refused"))


@mock_aws
def test_admin_token_is_read_from_its_secret_at_start() -> None:
    from catalog_api.config import load_settings
    from catalog_api.credentials import resolve_admin_token

    client = boto3.client("secretsmanager", region_name="eu-north-1")
    arn = client.create_secret(Name="catalog-api-admin-token-dev", SecretString="t" * 48 + "\n")["ARN"]
    settings = resolve_admin_token(
        load_settings({"DB_USER": "u", "DB_PASSWORD": "p", "ADMIN_TOKEN_SECRET_ARN": arn, "AWS_REGION": "eu-north-1"})
    )
    assert settings.admin_token == "t" * 48 and settings.writes_enabled
    assert "t" * 48 not in repr(settings)


@mock_aws
def test_an_unreadable_admin_token_secret_leaves_writes_disabled() -> None:
    from catalog_api.config import load_settings
    from catalog_api.credentials import resolve_admin_token

    arn = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:catalog-api-admin-token-dev-AbCdEf"
    settings = resolve_admin_token(load_settings({"DB_USER": "u", "DB_PASSWORD": "p", "ADMIN_TOKEN_SECRET_ARN": arn}))
    assert settings.admin_token is None and not settings.writes_enabled
