"""Production safety (SPEC section 6, P-01 to P-07 and P-09), asserted on the synthesized Terraform JSON."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from typing import Any

import pytest

from tests.conftest import API_IMAGE
from tests.synth import ROOT, Synthesis

Json = dict[str, Any]


def _container(synth: Synthesis) -> Json:
    (container,) = json.loads(synth.one("app", "aws_ecs_task_definition")["container_definitions"])
    result: Json = container
    return result


def _statements(synth: Synthesis, stack: str, role_kind: str) -> list[Json]:
    """Every statement of the inline policies attached to the role named ``catalog-api-<role_kind>-<suffix>``."""
    roles = {name for name, body in synth.resources(stack, "aws_iam_role").items() if f"-{role_kind}-" in body["name"]}
    assert len(roles) == 1, f"one {role_kind} role, found {sorted(roles)}"
    (role,) = roles
    return [
        statement
        for policy in synth.resources(stack, "aws_iam_role_policy").values()
        if policy["role"] == f"${{aws_iam_role.{role}.id}}"
        for statement in json.loads(policy["policy"])["Statement"]
    ]


# P-01 ---------------------------------------------------------------------------------------


def test_p01_engine_version_resolved_from_aws_at_plan_time(synth: Synthesis) -> None:
    (name, source), *rest = synth.data_sources("data", "aws_rds_engine_version").items()
    assert rest == []
    assert source["engine"] == "aurora-postgresql"
    assert source["parameter_group_family"] == "aurora-postgresql16", "major 16 or later (R-08)"
    assert source["default_only"] is True, "AWS's default minor of the family, which AWS keeps offered"
    # A preferred list fails the plan once none of its versions is offered: the P-01 failure again.
    assert "preferred_versions" not in source and "version" not in source
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["engine_version"] == f"${{data.aws_rds_engine_version.{name}.version_actual}}"
    group = synth.one("data", "aws_rds_cluster_parameter_group")
    assert group["family"] == f"${{data.aws_rds_engine_version.{name}.parameter_group_family}}"


def test_p01_a_limitless_version_fails_the_plan_not_the_create(synth: Synthesis) -> None:
    cluster = synth.one("data", "aws_rds_cluster")
    (precondition,) = cluster["lifecycle"]["precondition"]
    version = synth.ref_data("data", "aws_rds_engine_version", "version_actual").removeprefix("${").removesuffix("}")
    assert precondition["condition"] == f'${{!strcontains({version}, "limitless")}}'


def test_p01_aws_applied_upgrade_never_plans_a_downgrade(synth: Synthesis) -> None:
    cluster = synth.one("data", "aws_rds_cluster")
    assert "engine_version" in cluster["lifecycle"]["ignore_changes"]
    assert cluster["allow_major_version_upgrade"] is False
    for instance in synth.resources("data", "aws_rds_cluster_instance").values():
        assert "engine_version" not in instance, "instances follow the cluster; a literal here would drift"


# P-02 ---------------------------------------------------------------------------------------


def test_p02_placeholder_gets_no_credential_and_no_database_setting(placeholder_synth: Synthesis) -> None:
    container = _container(placeholder_synth)
    assert container["image"].startswith("public.ecr.aws/")
    assert "secrets" not in container
    names = {e["name"] for e in container["environment"]}
    assert names == {"PLACEHOLDER_NGINX_CONF"}, "nothing but its own fixed configuration"


def test_p02_placeholder_echoes_nothing_and_viewers_cannot_change_health(placeholder_synth: Synthesis) -> None:
    container = _container(placeholder_synth)
    (conf,) = (e["value"] for e in container["environment"] if e["name"] == "PLACEHOLDER_NGINX_CONF")
    lines = [line.strip() for line in conf.splitlines()]
    # The one variable read is the method, in a test; no answer or header carries a variable, so
    # no response can contain request data, headers or environment.
    assert [line for line in lines if "$" in line] == ["if ($request_method !~ ^(GET|HEAD)$) {"]
    assert "listen 3000;" in lines
    health = conf.split("location = /health {", 1)[1].split("\n    }", 1)[0]
    # `limit_except` would act after `return` has answered (the rewrite phase runs first); an `if` does not.
    assert "limit_except" not in conf
    assert health.index("return 405") < health.index('return 200 \'{"status":"ok"}\';'), "non-GET refused first"
    assert sorted(line.split()[1] for line in lines if line.startswith("return ")) == ["200", "404", "405"]
    assert "proxy_pass" not in conf and "autoindex" not in conf and "ssi" not in conf


def test_p02_placeholder_task_role_has_no_permission(placeholder_synth: Synthesis) -> None:
    # Any container can fetch its task role's credentials from the ECS credentials endpoint.
    task_role = placeholder_synth.one("app", "aws_ecs_task_definition")["task_role_arn"].removesuffix(".arn}") + ".id}"
    assert not [p for p in placeholder_synth.resources("app", "aws_iam_role_policy").values() if p["role"] == task_role]
    assert not [
        a
        for a in placeholder_synth.resources("app", "aws_iam_role_policy_attachment").values()
        if a["role"] == task_role
    ]


def test_p02_api_image_gets_the_database_secret_as_ecs_secrets_only(production_synth: Synthesis) -> None:
    container = _container(production_synth)
    assert container["image"] == API_IMAGE
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert set(secrets) == {"DB_USER", "DB_PASSWORD"}
    assert secrets["DB_PASSWORD"].endswith(":password::")
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert not any("PASSWORD" in name or name.endswith("_TOKEN") for name in environment)


# P-03 ---------------------------------------------------------------------------------------


def test_p03_platform_owns_an_immutable_scanned_ecr_repository(synth: Synthesis) -> None:
    repository = synth.one("app", "aws_ecr_repository")
    assert repository["name"] == "catalog-api-images-dev"
    assert repository["image_tag_mutability"] == "IMMUTABLE"
    assert repository["image_scanning_configuration"] == {"scan_on_push": True}
    assert repository["encryption_configuration"] == [{"encryption_type": "KMS"}]
    rules = json.loads(synth.one("app", "aws_ecr_lifecycle_policy")["policy"])["rules"]
    # Only interrupted pushes expire: a count rule could expire the digest ECS is running.
    assert [r["selection"]["tagStatus"] for r in rules] == ["untagged"]
    outputs = synth.stacks["app"]["output"]
    assert outputs["image_repository_url"]["value"] == synth.ref("app", "aws_ecr_repository", "repository_url")


def test_p03_execution_role_pulls_from_the_platform_repository_only(synth: Synthesis) -> None:
    statements = _statements(synth, "app", "ecs-exec")
    pulls = [s for s in statements if "ecr:BatchGetImage" in s["Action"]]
    assert len(pulls) == 1
    assert pulls[0]["Resource"] == synth.ref("app", "aws_ecr_repository", "arn")


def test_p03_every_image_comes_through_ecr(
    synth: Synthesis, production_synth: Synthesis, placeholder_synth: Synthesis
) -> None:
    # Built from source: the platform's repository by the digest the push produced.
    built = _container(synth)["image"]
    assert built == synth.ref("app", "aws_ecr_repository", "repository_url") + "@" + synth.ref_data(
        "app", "aws_ecr_image", "image_digest"
    )
    for synthesis in (production_synth, placeholder_synth):
        image = _container(synthesis)["image"]
        assert image.startswith("public.ecr.aws/") or ".dkr.ecr." in image.split("/")[0], image
        assert "docker.io" not in image


# P-04 ---------------------------------------------------------------------------------------


def test_p04_rotation_of_the_db_secret_forces_a_new_deployment(synth: Synthesis) -> None:
    rule = synth.one("app", "aws_cloudwatch_event_rule")
    pattern = json.loads(rule["event_pattern"])
    assert pattern["source"] == ["aws.secretsmanager"]
    assert pattern["detail-type"] == ["Secret Label Updated"]
    assert pattern["detail"] == {"labelUpdated": ["AWSCURRENT"]}
    (secret,) = pattern["resources"]
    assert "master_user_secret0secret_arn" in secret, "the RDS-managed secret from the data layer"
    target = synth.one("app", "aws_cloudwatch_event_target")
    assert target["arn"] == synth.ref("app", "aws_sfn_state_machine", "arn")
    machine = synth.one("app", "aws_sfn_state_machine")
    (state,) = json.loads(machine["definition"])["States"].values()
    assert state["Resource"] == "arn:aws:states:::aws-sdk:ecs:updateService"
    assert state["Parameters"]["ForceNewDeployment"] is True
    assert state["Parameters"]["Service"] == synth.ref("app", "aws_ecs_service", "id")
    assert state["Retry"][0]["MaxAttempts"] >= 3


def test_p04_redeploy_roles_can_do_nothing_else(synth: Synthesis) -> None:
    (machine_statement,) = _statements(synth, "app", "rotation-sfn")
    assert machine_statement["Action"] == "ecs:UpdateService"
    assert machine_statement["Resource"] == synth.ref("app", "aws_ecs_service", "id")
    (events_statement,) = _statements(synth, "app", "rotation-events")
    assert events_statement["Action"] == "states:StartExecution"
    assert events_statement["Resource"] == synth.ref("app", "aws_sfn_state_machine", "arn")


def test_p04_api_can_reread_the_rotated_secret(production_synth: Synthesis) -> None:
    environment = {e["name"]: e["value"] for e in _container(production_synth)["environment"]}
    secret = next(s["valueFrom"] for s in _container(production_synth)["secrets"] if s["name"] == "DB_PASSWORD")
    assert environment["DB_SECRET_ARN"] == secret.removesuffix(":password::")
    (statement,) = _statements(production_synth, "app", "ecs-task")
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert sorted(statement["Resource"]) == sorted(
        [environment["DB_SECRET_ARN"], production_synth.ref("app", "aws_secretsmanager_secret", "arn")]
    )


def test_p04_a_failed_redeploy_pages_someone(synth: Synthesis) -> None:
    alarms = [
        a for a in synth.resources("app", "aws_cloudwatch_metric_alarm").values() if a.get("namespace") == "AWS/States"
    ]
    assert len(alarms) == 1
    assert alarms[0]["metric_name"] == "ExecutionsFailed"
    assert alarms[0]["dimensions"] == {"StateMachineArn": synth.ref("app", "aws_sfn_state_machine", "arn")}
    assert alarms[0]["alarm_actions"] and alarms[0]["threshold"] == 1


# P-05 ---------------------------------------------------------------------------------------


def test_p05_alb_is_internal_in_the_private_subnets(synth: Synthesis) -> None:
    alb = synth.one("app", "aws_lb")
    assert alb["internal"] is True
    assert len(alb["subnets"]) == 2
    assert all("cross-stack-output-aws_subnetnetwork_private-" in s for s in alb["subnets"])


def test_p05_cloudfront_reaches_the_alb_through_a_vpc_origin(synth: Synthesis) -> None:
    vpc_origin = synth.one("edge", "aws_cloudfront_vpc_origin")
    (endpoint,) = vpc_origin["vpc_origin_endpoint_config"]
    assert endpoint["arn"].startswith("${data.terraform_remote_state.cross-stack-reference-input-app.outputs.")
    assert "aws_lbalb" in endpoint["arn"] and endpoint["arn"].endswith("arn}")
    assert endpoint["http_port"] == 80
    (origin,) = synth.one("edge", "aws_cloudfront_distribution")["origin"]
    assert origin["vpc_origin_config"]["vpc_origin_id"] == synth.ref("edge", "aws_cloudfront_vpc_origin", "id")
    assert "custom_origin_config" not in origin, "no path to the ALB over the internet"


def test_p05_vpc_origin_survives_slow_creates_and_replacement(synth: Synthesis) -> None:
    vpc_origin = synth.one("edge", "aws_cloudfront_vpc_origin")
    assert vpc_origin["timeouts"] == {"create": "30m", "update": "30m", "delete": "30m"}
    (settings,) = synth.resources("edge", "terraform_data")
    assert vpc_origin["lifecycle"] == {
        "create_before_destroy": True,
        "replace_triggered_by": [f"terraform_data.{settings}"],
    }


# P-06 ---------------------------------------------------------------------------------------


def test_r04_service_waits_for_its_capacity_providers(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    association = synth.ref("app", "aws_ecs_cluster_capacity_providers", "id").removeprefix("${").removesuffix(".id}")
    assert association in service["depends_on"]


def test_p06_one_on_demand_task_by_default_rest_on_spot(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    assert service["capacity_provider_strategy"] == [
        {"base": 1, "capacity_provider": "FARGATE", "weight": 0},
        {"capacity_provider": "FARGATE_SPOT", "weight": 1},
    ]


def test_p06_on_demand_base_is_a_setting_down_to_zero(production_synth: Synthesis) -> None:
    service = production_synth.one("app", "aws_ecs_service")
    assert service["capacity_provider_strategy"] == [{"capacity_provider": "FARGATE_SPOT", "weight": 1}]


# P-07 ---------------------------------------------------------------------------------------


def test_p07_default_environment_stays_fully_destroyable(synth: Synthesis) -> None:
    cluster = synth.one("data", "aws_rds_cluster")
    assert (cluster["deletion_protection"], cluster["skip_final_snapshot"]) == (False, True)
    assert "final_snapshot_identifier" not in cluster
    assert synth.one("app", "aws_lb")["enable_deletion_protection"] is False
    assert synth.one("app", "aws_ecr_repository")["force_delete"] is True
    assert synth.one("app", "aws_secretsmanager_secret")["recovery_window_in_days"] == 0


def test_p07_protected_environment_keeps_database_alb_and_images(production_synth: Synthesis) -> None:
    cluster = production_synth.one("data", "aws_rds_cluster")
    assert cluster["deletion_protection"] is True
    assert cluster["skip_final_snapshot"] is False
    assert cluster["final_snapshot_identifier"] == "catalog-api-aurora-final-prod"
    assert production_synth.one("app", "aws_lb")["enable_deletion_protection"] is True
    assert production_synth.one("app", "aws_ecr_repository")["force_delete"] is False
    assert production_synth.one("app", "aws_secretsmanager_secret")["recovery_window_in_days"] == 7


def _make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in {"CONFIRM", "ENV", "MAKEFLAGS", "MAKELEVEL"}} | env
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("target", ["destroy", "destroy-data", "destroy-network"])
def test_p07_destroy_without_confirm_prints_one_line_and_runs_nothing(target: str) -> None:
    result = _make(target)
    assert result.returncode != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert (
        f"refused: make {target} deletes the 'dev' environment's resources; run it again with CONFIRM=dev" in lines[0]
    )


def test_p07_destroy_with_the_wrong_confirm_is_refused() -> None:
    result = _make("destroy-app", "CONFIRM=prod")
    assert result.returncode != 0
    assert "CONFIRM='prod' does not name this environment; make destroy-app needs CONFIRM=dev" in result.stderr


def test_p07_destroy_with_confirm_goes_on_to_preflight() -> None:
    result = _make("-n", "destroy-app", "CONFIRM=dev")
    assert result.returncode == 0, result.stderr
    assert "scripts/preflight.py" in result.stdout and "cdktf destroy app" in result.stdout


@pytest.mark.parametrize("target", ["destroy", "destroy-edge", "destroy-app", "destroy-network"])
def test_p07_destroy_of_a_protected_environment_is_refused_before_anything_is_deleted(target: str) -> None:
    result = _make(target, "ENV=prod", "CONFIRM=prod")
    assert result.returncode != 0
    assert result.stdout == "", "nothing ran: no preflight, no synth, no Terraform"
    (line,) = result.stderr.strip().splitlines()
    assert (
        "[protection] deletion_protection = true in environments/prod.toml: "
        "set it to false and deploy (make deploy ENV=prod) before destroying"
    ) in line
    assert line.startswith("Makefile:") and f"refused: make {target} " in line


def test_p07_protection_turned_on_by_an_override_names_the_variable() -> None:
    result = _make("-n", "destroy", "CONFIRM=dev", DELETION_PROTECTION="true", CATALOG_OVERRIDES="DELETION_PROTECTION")
    assert result.returncode != 0
    assert "DELETION_PROTECTION=true (named in CATALOG_OVERRIDES): set it to false and deploy" in result.stderr


def test_p07_protection_turned_off_lets_the_confirmed_destroy_go_on() -> None:
    result = _make(
        "-n",
        "destroy",
        "ENV=prod",
        "CONFIRM=prod",
        DELETION_PROTECTION="false",
        CATALOG_OVERRIDES="DELETION_PROTECTION",
    )
    assert result.returncode == 0, result.stderr
    assert "cdktf destroy $layer" in result.stdout


# P-09 ---------------------------------------------------------------------------------------


def _web_acl_rules(synth: Synthesis) -> dict[str, Json]:
    return {rule["name"]: rule for rule in synth.one("edge", "aws_wafv2_web_acl")["rule"]}


def test_p09_common_rule_set_only_counts_bodies_over_8_kb(synth: Synthesis) -> None:
    common = _web_acl_rules(synth)["AWSManagedRulesCommonRuleSet"]
    overrides = common["statement"]["managed_rule_group_statement"]["rule_action_override"]
    assert {"name": "SizeRestrictions_BODY", "action_to_use": {"count": {}}} in overrides


def test_p09_bodies_are_limited_at_what_waf_inspects(synth: Synthesis) -> None:
    rule = _web_acl_rules(synth)["body-over-inspection-limit"]
    constraint = rule["statement"]["size_constraint_statement"]
    assert constraint["comparison_operator"] == "GT"
    assert constraint["size"] == 16 * 1024, "legitimate 8-16 KB writes pass; nothing passes half-inspected"
    assert constraint["field_to_match"] == {"body": {"oversize_handling": "MATCH"}}
    assert rule["action"] == {"block": {}}


def test_waf_logs_never_hold_the_bearer_token(synth: Synthesis) -> None:
    logging = synth.one("edge", "aws_wafv2_web_acl_logging_configuration")
    redacted = [field["single_header"]["name"] for field in logging["redacted_fields"]]
    assert "authorization" in redacted and "cookie" in redacted


# Edge caching of catalog reads (the API's Cache-Control decides) -------------------------


def test_catalog_reads_cached_at_the_edge_as_the_api_says(synth: Synthesis) -> None:
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    # The internal paths' behaviors answer 404 at the edge (tests/test_edge_origin.py); the rest reach the origin.
    internal = {"/ready", "/ready/*", "/openapi.json"}
    behaviors = {
        b["path_pattern"]: b for b in distribution["ordered_cache_behavior"] if b["path_pattern"] not in internal
    }
    assert set(behaviors) == {"/products", "/products/*"}
    for behavior in behaviors.values():
        # UseOriginCacheControlHeaders-QueryStrings (AWS managed cache policies page).
        assert behavior["cache_policy_id"] == "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
        assert behavior["cached_methods"] == ["GET", "HEAD"]
        assert "forwarded_values" not in behavior
    for path in ("/health", "/", "/ready"):
        assert not any(fnmatch.fnmatchcase(path, pattern) for pattern in behaviors), path
    # Everything else, /health included, goes through the uncached default behavior.
    assert distribution["default_cache_behavior"]["cache_policy_id"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
