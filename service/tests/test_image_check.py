"""The image built from the Dockerfile boots as the synthesized task definition says (devtools.image_check).

The build needs root, buildah and debootstrap (Debian). Without them the boot test is skipped
with the reason, unless IMAGE_CHECK_REQUIRED=1 (set it in CI), which turns the skip into a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools import image_check
from devtools.image_check import CheckFailedError
from devtools.pgserver import PostgresServer
from tests.helpers import SERVICE_DIR

REQUIRED = os.environ.get("IMAGE_CHECK_REQUIRED") == "1"
COLD_RUN_BUDGET_S = 1500
"""A cold run (debootstrap + build) took about 3.5 minutes on a loaded 2-core machine."""


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "needs root (buildah --isolation chroot, debootstrap)"
    missing = [tool for tool in ("buildah", "debootstrap") if shutil.which(tool) is None]
    return f"{', '.join(missing)} not installed (apt-get install -y buildah debootstrap)" if missing else None


def _stack(environment: list[dict[str, str]], secrets: list[dict[str, str]]) -> dict[str, Any]:
    container = {
        "name": "api",
        "essential": True,
        "portMappings": [{"containerPort": 3000, "protocol": "tcp"}],
        "environment": environment,
        "secrets": secrets,
    }
    return {"resource": {"aws_ecs_task_definition": {"api": {"container_definitions": json.dumps([container])}}}}


def _server() -> PostgresServer:
    return PostgresServer(
        root=SERVICE_DIR,
        port=54321,
        bindir=SERVICE_DIR,
        superuser_password="unused",
        master_password="master-pw",
    )


@pytest.mark.timeout(COLD_RUN_BUDGET_S)
def test_image_built_from_the_dockerfile_serves_health_list_and_token_write_with_the_task_definitions_settings() -> (
    None
):
    reason = _unavailable()
    if reason is not None:
        if REQUIRED:
            pytest.fail(f"IMAGE_CHECK_REQUIRED=1 but the image check cannot run: {reason}", pytrace=False)
        pytest.skip(f"image check NOT RUN: {reason}; IMAGE_CHECK_REQUIRED=1 makes this a failure")
    done = subprocess.run(
        [sys.executable, "-m", "devtools.image_check"],
        cwd=SERVICE_DIR,
        capture_output=True,
        text=True,
        timeout=COLD_RUN_BUDGET_S - 60,
        check=False,
    )
    assert done.returncode == 0, (done.stderr.strip().splitlines() or ["(no output)"])[-1]
    for line in ("GET /health -> 200", "-> 201", "GET /products -> 200", "uid 10001", "DB_SSLROOTCERT=", "passed"):
        assert line in done.stdout, done.stdout


def test_every_variable_the_task_definition_lists_is_passed_and_only_addresses_are_replaced(tmp_path: Path) -> None:
    stack = tmp_path / "cdk.tf.json"
    environment = [
        {"name": "PORT", "value": "3000"},
        {"name": "DB_HOST", "value": "${data.terraform_remote_state.data.outputs.endpoint}"},
        {"name": "DB_READER_HOST", "value": "${data.terraform_remote_state.data.outputs.reader_endpoint}"},
        {"name": "DB_PORT", "value": "5432"},
        {"name": "DB_NAME", "value": "catalog"},
        {"name": "DB_SSLMODE", "value": "require"},
        {"name": "AWS_REGION", "value": "eu-north-1"},
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "DB_SECRET_ARN", "value": "${data.terraform_remote_state.data.outputs.secret_arn}"},
        {"name": "ADMIN_TOKEN_SECRET_ARN", "value": "${aws_secretsmanager_secret.token.arn}"},
    ]
    secrets = [{"name": "DB_USER", "valueFrom": "x:username::"}, {"name": "DB_PASSWORD", "valueFrom": "x:password::"}]
    stack.write_text(json.dumps(_stack(environment, secrets)))
    definition = image_check.read_container_definition(stack)
    env, served = image_check.local_environment(definition, _server(), port=40000, secrets_port=40001)
    assert {e["name"] for e in environment} | {"DB_USER", "DB_PASSWORD"} <= set(env)
    assert (env["DB_HOST"], env["DB_READER_HOST"], env["DB_PORT"], env["PORT"]) == (
        "127.0.0.1",
        "127.0.0.1",
        "54321",
        "40000",
    )
    assert (env["DB_SSLMODE"], env["DB_NAME"], env["LOG_LEVEL"]) == ("require", "catalog", "info")
    assert (env["DB_USER"], env["DB_PASSWORD"]) == ("catalog_master", "master-pw")
    assert served[env["ADMIN_TOKEN_SECRET_ARN"]] == image_check.ADMIN_TOKEN
    assert json.loads(served[env["DB_SECRET_ARN"]]) == {"username": "catalog_master", "password": "master-pw"}
    assert "ADMIN_TOKEN" not in env, "the token must come through its secret's ARN, as on ECS"


@pytest.mark.parametrize(
    ("environment", "secrets", "message"),
    [
        ([{"name": "PLACEHOLDER_NGINX_CONF", "value": "server {}"}], [], "placeholder"),
        ([{"name": "FEATURE_URL", "value": "${aws_lb.x.dns_name}"}], [], "no local stand-in for FEATURE_URL"),
        ([], [{"name": "API_KEY", "valueFrom": "arn"}], "no local value for the injected secret API_KEY"),
    ],
)
def test_a_task_definition_the_check_cannot_reproduce_is_refused_by_name(
    tmp_path: Path, environment: list[dict[str, str]], secrets: list[dict[str, str]], message: str
) -> None:
    stack = tmp_path / "cdk.tf.json"
    stack.write_text(json.dumps(_stack(environment, secrets)))
    with pytest.raises(CheckFailedError, match=message):
        definition = image_check.read_container_definition(stack)
        image_check.local_environment(definition, _server(), port=40000, secrets_port=40001)
