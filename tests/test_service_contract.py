"""The app layer gives the API exactly what service/contract.json says it needs (the other side is service/tests)."""

from __future__ import annotations

import json
from typing import Any

from tests.synth import ROOT, Synthesis

CONTRACT: dict[str, Any] = json.loads((ROOT / "service" / "contract.json").read_text())


def _container(synth: Synthesis) -> dict[str, Any]:
    (container,) = json.loads(synth.one("app", "aws_ecs_task_definition")["container_definitions"])
    result: dict[str, Any] = container
    return result


def test_contract_port_is_the_container_target_group_and_security_group_port(production_synth: Synthesis) -> None:
    port = CONTRACT["port"]
    container = _container(production_synth)
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["PORT"] == str(port)
    assert container["portMappings"] == [{"containerPort": port, "protocol": "tcp"}]
    assert production_synth.primary_target_group()["port"] == port
    (service_lb,) = production_synth.one("app", "aws_ecs_service")["load_balancer"]
    assert service_lb["container_port"] == port


def test_contract_health_path_is_the_target_group_health_check(production_synth: Synthesis) -> None:
    check = production_synth.primary_target_group()["health_check"]
    assert check["path"] == CONTRACT["health_path"]
    assert check["matcher"] == "200"


def test_contract_environment_is_exactly_what_the_task_definition_sets(production_synth: Synthesis) -> None:
    names = {e["name"] for e in _container(production_synth)["environment"]}
    assert names == set(CONTRACT["environment"])
    assert CONTRACT["admin_token_secret_arn"] in names


def test_contract_secrets_come_from_the_rds_managed_secret_keys(production_synth: Synthesis) -> None:
    container = _container(production_synth)
    environment = {e["name"]: e["value"] for e in container["environment"]}
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert {
        name: value.removeprefix(environment["DB_SECRET_ARN"] + ":").removesuffix("::")
        for name, value in secrets.items()
    } == CONTRACT["secrets"]
    # The token is read by the task role, never injected: the execution role reads only the DB secret.
    assert CONTRACT["admin_token_secret"] not in secrets


def test_contract_task_role_allows_exactly_the_listed_actions(production_synth: Synthesis) -> None:
    task_role = production_synth.one("app", "aws_ecs_task_definition")["task_role_arn"].removesuffix(".arn}") + ".id}"
    statements = [
        statement
        for policy in production_synth.resources("app", "aws_iam_role_policy").values()
        if policy["role"] == task_role
        for statement in json.loads(policy["policy"])["Statement"]
    ]
    assert sorted({s["Action"] for s in statements}) == sorted(CONTRACT["task_role_actions"])


def test_contract_stop_timeout_is_the_containers(production_synth: Synthesis) -> None:
    assert _container(production_synth)["stopTimeout"] == CONTRACT["stop_timeout_seconds"]


def test_r03_grace_period_covers_the_services_cold_start(production_synth: Synthesis) -> None:
    # The listener can come up as late as start_within_seconds (migrations retrying against a
    # database that is still starting); a check failing just before that must not count.
    service = production_synth.one("app", "aws_ecs_service")
    interval = production_synth.primary_target_group()["health_check"]["interval"]
    assert service["health_check_grace_period_seconds"] >= CONTRACT["start_within_seconds"] + interval
