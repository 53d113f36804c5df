"""AppStack requirements: Fargate service on Spot behind an ALB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.synth import Synthesis


def _container(synth: Synthesis) -> dict[str, Any]:
    task = synth.one("app", "aws_ecs_task_definition")
    containers = json.loads(task["container_definitions"])
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def test_r03_task_is_exactly_1_vcpu_2_gb_awsvpc(synth: Synthesis) -> None:
    task = synth.one("app", "aws_ecs_task_definition")
    assert (task["cpu"], task["memory"]) == ("1024", "2048")
    assert task["network_mode"] == "awsvpc"
    assert task["requires_compatibilities"] == ["FARGATE"]
    assert task["runtime_platform"]["cpu_architecture"] == "X86_64", "Fargate Spot is x86_64 only"


def test_r03_container_port_3000(synth: Synthesis) -> None:
    container = _container(synth)
    assert container["portMappings"] == [{"containerPort": 3000, "protocol": "tcp"}]
    service = synth.one("app", "aws_ecs_service")
    assert service["load_balancer"][0]["container_port"] == 3000
    assert service["load_balancer"][0]["container_name"] == container["name"]


def test_r03_private_subnets_without_public_ip(synth: Synthesis) -> None:
    network = synth.one("app", "aws_ecs_service")["network_configuration"]
    assert network["assign_public_ip"] is False
    assert len(network["subnets"]) == 2
    assert all("aws_subnetnetwork_private-" in s for s in network["subnets"])


def test_r03_circuit_breaker_rollback_and_grace_period(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}
    assert service["deployment_controller"] == {"type": "ECS"}
    assert service["health_check_grace_period_seconds"] >= 60


def test_r04_fargate_spot_strategy_without_launch_type(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    assert "launch_type" not in service, "launch_type with a strategy fails at apply (F-4)"
    providers = [s["capacity_provider"] for s in service["capacity_provider_strategy"]]
    assert "FARGATE_SPOT" in providers
    association = synth.one("app", "aws_ecs_cluster_capacity_providers")
    assert set(association["capacity_providers"]) == {"FARGATE", "FARGATE_SPOT"}
    assert set(providers) <= set(association["capacity_providers"])


def test_r05_db_connection_in_environment_password_as_secret(production_synth: Synthesis) -> None:
    container = _container(production_synth)
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert environment["DB_HOST"].startswith("${data.terraform_remote_state.cross-stack-reference-input-data")
    assert environment["DB_PORT"] == "5432"
    assert environment["DB_NAME"] == "catalog"
    assert not any("PASSWORD" in name for name in environment)
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["DB_PASSWORD"].endswith(":password::")
    assert "master_user_secret0secret_arn" in secrets["DB_PASSWORD"]


# hold with a [domain] zone too, where the listeners move to HTTPS (S-07).
BOTH_SYNTHS = pytest.mark.parametrize("synthesis_name", ["synth", "domain_synth"])


@BOTH_SYNTHS
def test_r06_alb_target_group_health_check(request: pytest.FixtureRequest, synthesis_name: str) -> None:
    synth: Synthesis = request.getfixturevalue(synthesis_name)
    # Two groups (a release's tasks register in the one production traffic is not using): both alike.
    groups = synth.resources("app", "aws_lb_target_group").values()
    assert len(groups) == 2
    for group in groups:
        assert (group["port"], group["protocol"], group["target_type"]) == (3000, "HTTP", "ip")
        check = group["health_check"]
        assert check["path"] == "/health"
        assert check["interval"] == 30
        assert check["unhealthy_threshold"] == 2
        assert int(group["deregistration_delay"]) < 120


@pytest.mark.parametrize(
    ("synthesis_name", "port", "protocol"), [("synth", 80, "HTTP"), ("domain_synth", 443, "HTTPS")]
)
def test_r06_http_listener_forwards_to_target_group(
    request: pytest.FixtureRequest, synthesis_name: str, port: int, protocol: str
) -> None:
    synth: Synthesis = request.getfixturevalue(synthesis_name)
    listeners = {body["port"]: (name, body) for name, body in synth.resources("app", "aws_lb_listener").items()}
    name, listener = listeners[port]
    assert listener["protocol"] == protocol
    action = listener["default_action"][0]
    service = synth.one("app", "aws_ecs_service")
    assert action["type"] == "forward"
    assert action["target_group_arn"] == service["load_balancer"][0]["target_group_arn"]
    assert f"aws_lb_listener.{name}" in service["depends_on"], "service waits for the listener"


def test_r07_autoscaling_2_to_10_on_cpu_70(synth: Synthesis) -> None:
    target = synth.one("app", "aws_appautoscaling_target")
    assert (target["min_capacity"], target["max_capacity"]) == (2, 10)
    assert target["scalable_dimension"] == "ecs:service:DesiredCount"
    policy = synth.named("app", "aws_appautoscaling_policy", "catalog-api-cpu-tracking-dev")
    config = policy["target_tracking_scaling_policy_configuration"]
    assert config["predefined_metric_specification"]["predefined_metric_type"] == "ECSServiceAverageCPUUtilization"
    assert config["target_value"] == 70


def test_r07_terraform_does_not_fight_autoscaling(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    assert "desired_count" in service["lifecycle"]["ignore_changes"]


@BOTH_SYNTHS
def test_r11_alb_ingress_from_cloudfront_prefix_list_only(request: pytest.FixtureRequest, synthesis_name: str) -> None:
    synth: Synthesis = request.getfixturevalue(synthesis_name)
    prefix_list = synth.data_sources("app", "aws_ec2_managed_prefix_list")
    assert [p["name"] for p in prefix_list.values()] == ["com.amazonaws.global.cloudfront.origin-facing"]
    alb_sg = "${aws_security_group.alb_sg_"
    ingress = [
        r
        for r in synth.resources("app", "aws_vpc_security_group_ingress_rule").values()
        if r["security_group_id"].startswith(alb_sg)
    ]
    assert len(ingress) == 1
    assert ingress[0]["prefix_list_id"].startswith("${data.aws_ec2_managed_prefix_list.")
    assert "cidr_ipv4" not in ingress[0]


def test_r11_tasks_reachable_on_3000_from_alb_only(synth: Synthesis) -> None:
    task_ingress = [
        r
        for r in synth.resources("app", "aws_vpc_security_group_ingress_rule").values()
        if "app-sg" in r["security_group_id"]
    ]
    assert len(task_ingress) == 1
    rule = task_ingress[0]
    assert (rule["from_port"], rule["to_port"]) == (3000, 3000)
    assert rule["referenced_security_group_id"].startswith("${aws_security_group.alb_sg_")


def test_r11_execution_role_reads_only_the_db_secret(synth: Synthesis) -> None:
    task = synth.one("app", "aws_ecs_task_definition")
    execution_role = task["execution_role_arn"].removesuffix(".arn}").removeprefix("${")
    policies = synth.resources("app", "aws_iam_role_policy").values()
    execution = [
        s for p in policies if p["role"] == f"${{{execution_role}.id}}" for s in json.loads(p["policy"])["Statement"]
    ]
    secret_reads = [s for s in execution if "secretsmanager" in json.dumps(s["Action"])]
    assert len(secret_reads) == 1
    assert secret_reads[0]["Action"] == "secretsmanager:GetSecretValue"
    assert secret_reads[0]["Resource"].endswith("master_user_secret0secret_arn}")
    statements = [s for p in policies for s in json.loads(p["policy"])["Statement"]]
    assert not any(s["Resource"] == "*" and s["Action"] != "ecr:GetAuthorizationToken" for s in statements)
    # The one managed policy is AWS's for the role ECS moves release traffic with; no task role has one.
    attachments = list(synth.resources("app", "aws_iam_role_policy_attachment").values())
    assert [a["policy_arn"] for a in attachments] == [
        "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"
    ]
    service = synth.one("app", "aws_ecs_service")
    release_role = service["load_balancer"][0]["advanced_configuration"]["role_arn"].removesuffix(".arn}")
    assert attachments[0]["role"] == release_role + ".name}"


def test_r11_separate_task_and_execution_roles(synth: Synthesis) -> None:
    task = synth.one("app", "aws_ecs_task_definition")
    assert task["task_role_arn"] != task["execution_role_arn"]
    ecs_roles = {
        f"${{aws_iam_role.{name}.arn}}"
        for name, role in synth.resources("app", "aws_iam_role").items()
        if json.loads(role["assume_role_policy"])["Statement"][0]["Principal"] == {"Service": "ecs-tasks.amazonaws.com"}
    }
    assert ecs_roles == {task["task_role_arn"], task["execution_role_arn"]}


def test_r12_container_logs_and_container_insights(synth: Synthesis) -> None:
    logging = _container(synth)["logConfiguration"]
    assert logging["logDriver"] == "awslogs"
    assert logging["options"]["awslogs-group"] == synth.ref("app", "aws_cloudwatch_log_group", "name")
    cluster = synth.one("app", "aws_ecs_cluster")
    assert {"name": "containerInsights", "value": "enabled"} in cluster["setting"]


def test_r12_alb_access_logs_to_app_owned_bucket(synth: Synthesis) -> None:
    alb = synth.one("app", "aws_lb")
    logs = alb["access_logs"]
    assert logs["enabled"] is True
    assert logs["bucket"].startswith("${aws_s3_bucket.alb-logs_bucket_")
    policy = json.loads(synth.one("app", "aws_s3_bucket_policy")["policy"])
    writers = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert writers[0]["Principal"] == {"AWS": "${data.aws_elb_service_account.elb-account.arn}"}
    assert writers[0]["Resource"].endswith("/alb/*")
    assert any("aws_s3_bucket_policy" in d for d in alb["depends_on"]), "ALB waits for the bucket policy"


def test_placeholder_answers_health_on_3000(placeholder_synth: Synthesis) -> None:
    # Stock nginx listens on 80 and has no /health; the placeholder is given a server block
    # that listens on the container port and answers GET /health with 200.
    container = _container(placeholder_synth)
    (conf,) = (e["value"] for e in container["environment"] if e["name"] == "PLACEHOLDER_NGINX_CONF")
    assert "listen 3000;" in conf and "location = /health {" in conf
    assert container["command"][-1].startswith(
        "printf '%s' \"$PLACEHOLDER_NGINX_CONF\" > /etc/nginx/conf.d/default.conf"
    )
    assert container["portMappings"] == [{"containerPort": 3000, "protocol": "tcp"}]


def test_r04_on_demand_base_option_keeps_spot_for_the_rest() -> None:
    """The resilience option of R-04, synthesized through the real construct and guardrails."""
    import cdktf
    from cdktf import Aspects, TerraformStack
    from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import CloudwatchMetricAlarm
    from cdktf_cdktf_provider_aws.lb_listener_rule import LbListenerRule, LbListenerRuleAction
    from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup
    from cdktf_cdktf_provider_aws.provider import AwsProvider
    from cdktf_cdktf_provider_aws.sns_topic import SnsTopic

    from shared.components.fargate_service import (
        CanaryRelease,
        DatabaseConnection,
        FargateService,
        FargateServiceProps,
    )
    from shared.guardrails import Guardrails
    from shared.naming import Naming

    app = cdktf.Testing.app()
    stack = TerraformStack(app, "on-demand")
    AwsProvider(stack, "aws", region="eu-north-1")
    cdktf.LocalBackend(stack, path="state.tfstate")
    # Stand-ins for what the app layer's load balancer and alarms provide (S-03 guardrails check them).
    alternate = LbTargetGroup(stack, "tg2", name="catalog-api-tg2-dev", port=3000, protocol="HTTP", target_type="ip")
    keep = cdktf.TerraformResourceLifecycle(ignore_changes=["action"])
    rules = [
        LbListenerRule(
            stack,
            name,
            listener_arn="arn:listener",
            action=[LbListenerRuleAction(type="forward")],
            condition=[],
            lifecycle=keep,
        )
        for name in ("production-rule", "test-rule")
    ]
    alarm = CloudwatchMetricAlarm(
        stack, "alarm", alarm_name="catalog-api-release-5xx-a-dev", comparison_operator="GreaterThanThreshold",
        evaluation_periods=1,
    )  # fmt: skip
    FargateService(
        stack,
        "api",
        props=FargateServiceProps(
            naming=Naming(project="catalog-api", suffix="dev"),
            region="eu-north-1",
            subnet_ids=["subnet-a", "subnet-b"],
            security_group_id="sg-app",
            target_group_arn="arn:tg",
            request_count_label="app/alb/1/targetgroup/tg/2",
            load_balancer_ready=[SnsTopic(stack, "stand-in-for-the-listener")],
            release=CanaryRelease(
                alternate_target_group_arn=alternate.arn,
                production_listener_rule_arn=rules[0].arn,
                test_listener_rule_arn=rules[1].arn,
                rollback_alarm_names=[alarm.alarm_name],
            ),
            database=DatabaseConnection(
                host="db",
                reader_host="db-ro",
                port=5432,
                name="catalog",
                secret_arn="arn:secret",
                security_group_id="sg-db",
            ),
            image="123456789012.dkr.ecr.eu-north-1.amazonaws.com/catalog-api@sha256:" + "0" * 64,
            repository_arn="arn:aws:ecr:eu-north-1:123456789012:repository/catalog-api",
            admin_token_secret_arn="arn:token",
            on_demand_base=3,
        ),
    )
    Aspects.of(stack).add(Guardrails())
    app.synth()
    document = json.loads((Path(app.outdir) / "stacks" / "on-demand" / "cdk.tf.json").read_text())
    (service,) = document["resource"]["aws_ecs_service"].values()
    assert "launch_type" not in service
    assert service["capacity_provider_strategy"] == [
        {"base": 3, "capacity_provider": "FARGATE", "weight": 0},
        {"capacity_provider": "FARGATE_SPOT", "weight": 1},
    ]
