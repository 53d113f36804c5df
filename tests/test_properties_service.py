"""Properties of the API service: health, deployments, scaling, draining, its secrets and the ALB in front."""

from __future__ import annotations

import json
import re
from typing import Any

from tests.synth import ROOT, Synthesis

Json = dict[str, Any]
# Fargate sends SIGKILL at most 120 s after SIGTERM, and Spot's notice is 2 minutes.
FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120
# The JSON keys of the RDS-managed master secret and the variable each one feeds.
RDS_SECRET_KEYS = {"DB_USER": "username", "DB_PASSWORD": "password"}
# libpq modes that refuse a plaintext connection; "prefer" and "allow" fall back to it silently.
TLS_SSLMODES = {"require", "verify-ca", "verify-full"}


def _container(synth: Synthesis) -> Json:
    (container,) = json.loads(synth.one("app", "aws_ecs_task_definition")["container_definitions"])
    result: Json = container
    return result


def test_health_check_counts_only_2xx_as_healthy(synth: Synthesis) -> None:
    # A task answering 404 for /health (wrong image, wrong path) or 401 must not receive traffic.
    matcher = synth.primary_target_group()["health_check"]["matcher"]
    codes = [int(code) for part in matcher.split(",") for code in part.split("-")]
    assert codes and all(200 <= code <= 299 for code in codes), matcher


def test_service_starts_at_the_autoscaling_minimum(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    target = synth.one("app", "aws_appautoscaling_target")
    assert service["desired_count"] == target["min_capacity"] <= target["max_capacity"]


def test_rolling_deployment_never_drops_below_the_running_count(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    assert service["deployment_minimum_healthy_percent"] >= 100, "new tasks start before old ones stop"
    assert service["deployment_maximum_percent"] > 100, "room to start the new tasks"


def test_scale_in_waits_longer_than_scale_out(synth: Synthesis) -> None:
    policy = synth.named("app", "aws_appautoscaling_policy", "catalog-api-cpu-tracking-dev")
    config = policy["target_tracking_scaling_policy_configuration"]
    assert config["scale_in_cooldown"] > config["scale_out_cooldown"], (
        "scale-in as eager as scale-out: the service flaps after a spike"
    )


def test_stop_timeout_outlasts_connection_draining_within_the_spot_notice(synth: Synthesis) -> None:
    stop = _container(synth).get("stopTimeout")
    draining = int(synth.primary_target_group()["deregistration_delay"])
    assert isinstance(stop, int), "without stopTimeout ECS kills the task 30 s after SIGTERM"
    assert draining <= stop <= FARGATE_MAX_STOP_TIMEOUT_SECONDS


def test_ecs_secrets_read_keys_the_rds_managed_secret_has(production_synth: Synthesis) -> None:
    container = _container(production_synth)
    environment = {e["name"]: e["value"] for e in container["environment"]}
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert set(secrets) == set(RDS_SECRET_KEYS)
    for name, value in secrets.items():
        match = re.fullmatch(r"(.+):(\w+)::", value)
        assert match, value
        assert match.groups() == (environment["DB_SECRET_ARN"], RDS_SECRET_KEYS[name]), name


def test_database_connection_requires_tls(production_synth: Synthesis) -> None:
    environment = {e["name"]: e["value"] for e in _container(production_synth)["environment"]}
    assert environment["DB_SSLMODE"] in TLS_SSLMODES


def test_i15_the_api_authenticates_aurora_with_the_ca_bundle_its_image_carries(
    synth: Synthesis, production_synth: Synthesis
) -> None:
    contract = json.loads((ROOT / "service" / "contract.json").read_text())
    # The bundle's path is the image's own setting (service/contract.json image_environment).
    assert "DB_SSLROOTCERT" in contract["image_environment"]
    for synthesis in (synth, production_synth):
        environment = {e["name"]: e["value"] for e in _container(synthesis)["environment"]}
        # verify-full checks the chain and the endpoint's name: an address inside the VPC that
        # answers for the cluster endpoint cannot read the password at login (require would let it).
        assert environment["DB_SSLMODE"] == "verify-full"
        # The task definition never overrides the image's own settings.
        assert not set(contract["image_environment"]) & set(environment)


def test_alb_drops_malformed_header_fields(synth: Synthesis) -> None:
    # Header names a proxy and the API could read differently are a request smuggling aid.
    assert synth.one("app", "aws_lb")["drop_invalid_header_fields"] is True


def test_alb_access_logs_go_where_the_bucket_policy_lets_elb_write(synth: Synthesis) -> None:
    logs = synth.one("app", "aws_lb")["access_logs"]
    bucket = re.fullmatch(r"\$\{aws_s3_bucket\.([\w-]+)\.bucket\}", logs["bucket"])
    assert bucket, logs["bucket"]
    (policy,) = [
        json.loads(p["policy"])
        for p in synth.resources("app", "aws_s3_bucket_policy").values()
        if p["bucket"] == f"${{aws_s3_bucket.{bucket.group(1)}.id}}"
    ]
    writes = [
        s["Resource"]
        for s in policy["Statement"]
        if s["Effect"] == "Allow" and s["Principal"] == {"AWS": "${data.aws_elb_service_account.elb-account.arn}"}
    ]
    # ELB writes <prefix>/AWSLogs/<account>/…; creating the ALB fails if that is not allowed.
    assert f"${{aws_s3_bucket.{bucket.group(1)}.arn}}/{logs['prefix']}/*" in writes


def test_admin_token_is_long_and_never_regenerated_by_a_plan(synth: Synthesis) -> None:
    from tests.test_secret_state import secret_leaks

    (step,) = [
        body
        for body in synth.resources("app", "terraform_data").values()
        if body["provisioner"][0]["local-exec"]["command"] == "python3 scripts/secret_value.py"
    ]
    assert int(step["provisioner"][0]["local-exec"]["environment"]["SECRET_LENGTH"]) >= 32
    # Only a new secret or a raised version writes a new value: both are constants, not expressions
    # that could change on every plan.
    assert step["triggers_replace"]["version"].isdigit()
    assert secret_leaks(synth) == []
