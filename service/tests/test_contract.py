"""contract.json is what the service really does: the platform's tests read this file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from catalog_api.__main__ import GRACEFUL_SHUTDOWN_S
from catalog_api.app import READY_PATH
from catalog_api.config import ADMIN_TOKEN_MIN_LENGTH, load_settings
from catalog_api.middleware import HEALTH_PATH
from devtools import tls

CONTRACT: dict[str, Any] = json.loads((Path(__file__).resolve().parent.parent / "contract.json").read_text())


def test_contract_keeps_the_keys_the_platform_reads() -> None:
    for key in (
        "port",
        "health_path",
        "environment",
        "secrets",
        "admin_token_secret",
        "task_role_actions",
        "stop_timeout_seconds",
    ):
        assert key in CONTRACT


def test_port_and_paths_match_the_service() -> None:
    assert load_settings({"DB_USER": "u", "DB_PASSWORD": "p"}).port == CONTRACT["port"]
    assert CONTRACT["health_path"] == HEALTH_PATH
    assert CONTRACT["ready_path"] == READY_PATH


def test_every_contract_variable_is_read(tmp_path: Path) -> None:
    bundle = tls.write_bundle(tls.authority("stand-in"), tmp_path / "bundle.pem")
    env = {
        "PORT": "3001",
        "DB_HOST": "db.example.internal",
        "DB_READER_HOST": "db-ro.example.internal",
        "DB_PORT": "5433",
        "DB_NAME": "shop",
        "DB_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:rds!cluster-x",
        "DB_SSLMODE": "require",
        "AWS_REGION": "eu-north-1",
        "LOG_LEVEL": "warning",
        "DB_USER": "master",
        "DB_PASSWORD": "pw",
        "ADMIN_TOKEN": "t" * ADMIN_TOKEN_MIN_LENGTH,
        "ADMIN_TOKEN_SECRET_ARN": "arn:aws:secretsmanager:eu-north-1:123456789012:secret:catalog-api-admin-token-x",
        "DB_SSLROOTCERT": str(bundle),
    }
    names = (
        set(CONTRACT["environment"])
        | set(CONTRACT["secrets"])
        | {CONTRACT["admin_token_secret"]}
        | set(CONTRACT["image_environment"])
    )
    assert CONTRACT["admin_token_secret_arn"] in CONTRACT["environment"]
    assert names == set(env)
    settings = load_settings(env)
    assert (settings.port, settings.db_host, settings.db_port, settings.db_name) == (
        3001,
        "db.example.internal",
        5433,
        "shop",
    )
    assert (settings.db_secret_arn, settings.db_sslmode, settings.aws_region, settings.log_level) == (
        env["DB_SECRET_ARN"],
        "require",
        "eu-north-1",
        "warning",
    )
    assert (settings.db_user, settings.db_password, settings.writes_enabled) == ("master", "pw", True)
    assert settings.admin_token_secret_arn == env["ADMIN_TOKEN_SECRET_ARN"]
    assert settings.db_sslrootcert == env["DB_SSLROOTCERT"]
    assert settings.reader_host == "db-ro.example.internal"


def test_secret_keys_are_those_of_the_rds_managed_secret() -> None:
    assert CONTRACT["secrets"] == {"DB_USER": "username", "DB_PASSWORD": "password"}
    assert CONTRACT["admin_token_min_length"] == ADMIN_TOKEN_MIN_LENGTH


def test_drain_fits_inside_the_stop_timeout() -> None:
    assert CONTRACT["stop_timeout_seconds"] > GRACEFUL_SHUTDOWN_S + 10


def test_startup_budget_is_the_migration_retry_deadline() -> None:
    import inspect

    from catalog_api.migrate import upgrade_with_retry

    deadline = inspect.signature(upgrade_with_retry).parameters["deadline_s"].default
    assert deadline == CONTRACT["start_within_seconds"]
