"""Alarms in the layer that owns each resource, one alarm topic, one request-path dashboard."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.synth import Synthesis

TOPIC_FROM_NETWORK = "${data.terraform_remote_state.cross-stack-reference-input-network.outputs.cross-stack-output-aws_sns_topicalarm-topic_"

# (layer, alarm kind) -> (namespace, metric, statistic, comparison, threshold)
EXPECTED = {
    ("app", "alb-5xx"): ("AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", "GreaterThanOrEqualToThreshold", 10),
    ("app", "target-5xx"): ("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", "GreaterThanOrEqualToThreshold", 10),
    ("app", "unhealthy-hosts"): ("AWS/ApplicationELB", "UnHealthyHostCount", "Maximum", "GreaterThanOrEqualToThreshold", 1),
    ("app", "p99-latency"): ("AWS/ApplicationELB", "TargetResponseTime", "p99", "GreaterThanOrEqualToThreshold", 2),
    ("app", "ecs-cpu"): ("AWS/ECS", "CPUUtilization", "Average", "GreaterThanOrEqualToThreshold", 85),
    ("app", "ecs-memory"): ("AWS/ECS", "MemoryUtilization", "Average", "GreaterThanOrEqualToThreshold", 85),
    ("app", "running-tasks"): ("ECS/ContainerInsights", "RunningTaskCount", "Minimum", "LessThanThreshold", 2),
    ("app", "rotation-redeploy-failed"): ("AWS/States", "ExecutionsFailed", "Sum", "GreaterThanOrEqualToThreshold", 1),
    ("app", "rotation-redeploy-not-started"): ("AWS/Events", "FailedInvocations", "Sum", "GreaterThanOrEqualToThreshold", 1),
    ("data", "db-cpu"): ("AWS/RDS", "CPUUtilization", "Average", "GreaterThanOrEqualToThreshold", 80),
    ("data", "db-memory"): ("AWS/RDS", "FreeableMemory", "Average", "LessThanOrEqualToThreshold", 256 * 1024 * 1024),
    ("data", "db-connections"): ("AWS/RDS", "DatabaseConnections", "Maximum", "GreaterThanOrEqualToThreshold", 300),
    ("data", "db-replica-lag"): ("AWS/RDS", "AuroraReplicaLagMaximum", "Maximum", "GreaterThanOrEqualToThreshold", 1000),
}  # fmt: skip
# Metric-math alarms (5xx rate and p99 per target group, judged above a request floor), asserted in tests/test_release.py.
MATH_ALARMS = {("app", f"release-{kind}-{group}") for kind in ("5xx", "p99") for group in ("a", "b")}


def _alarms(synth: Synthesis, layer: str) -> dict[str, dict[str, Any]]:
    return {a["alarm_name"]: a for a in synth.resources(layer, "aws_cloudwatch_metric_alarm").values()}


@pytest.mark.parametrize("layer,kind", list(EXPECTED), ids=[k for _, k in EXPECTED])
def test_alarm_metric_threshold_and_action(synth: Synthesis, layer: str, kind: str) -> None:
    namespace, metric, statistic, comparison, threshold = EXPECTED[(layer, kind)]
    alarm = _alarms(synth, layer)[f"catalog-api-{kind}-dev"]
    assert (alarm["namespace"], alarm["metric_name"]) == (namespace, metric)
    assert alarm.get("statistic", alarm.get("extended_statistic")) == statistic
    assert alarm["comparison_operator"] == comparison
    assert alarm["threshold"] == threshold
    assert len(alarm["alarm_actions"]) == 1 and alarm["alarm_actions"][0].startswith(TOPIC_FROM_NETWORK)
    assert alarm["ok_actions"] == alarm["alarm_actions"]


def test_every_alarm_is_expected_and_in_its_owning_layer(synth: Synthesis) -> None:
    found = {
        (layer, name.removeprefix("catalog-api-").removesuffix("-dev"))
        for layer in ("network", "data", "app", "edge")
        for name in _alarms(synth, layer)
    }
    assert found == set(EXPECTED) | MATH_ALARMS


def test_alarm_dimensions_point_at_the_real_resources(synth: Synthesis) -> None:
    app = _alarms(synth, "app")
    assert app["catalog-api-alb-5xx-dev"]["dimensions"] == {"LoadBalancer": synth.ref("app", "aws_lb", "arn_suffix")}
    target = app["catalog-api-unhealthy-hosts-dev"]["dimensions"]
    primary = synth.one("app", "aws_ecs_service")["load_balancer"][0]["target_group_arn"]
    assert target["TargetGroup"] == primary.replace(".arn}", ".arn_suffix}")
    assert app["catalog-api-ecs-cpu-dev"]["dimensions"] == {
        "ClusterName": synth.ref("app", "aws_ecs_cluster", "name"),
        "ServiceName": synth.ref("app", "aws_ecs_service", "name"),
    }
    cluster = synth.one("data", "aws_rds_cluster")["cluster_identifier"]
    for alarm in _alarms(synth, "data").values():
        assert alarm["dimensions"] == {"DBClusterIdentifier": cluster}


def test_one_alarm_topic_with_optional_email(synth: Synthesis, variant_synth: Synthesis) -> None:
    topic = synth.one("network", "aws_sns_topic")
    assert topic["name"] == "catalog-api-alarms-dev"
    assert synth.resources("network", "aws_sns_topic_subscription") == {}, "no e-mail unless ALARM_EMAIL is set"
    subscription = variant_synth.one("network", "aws_sns_topic_subscription")
    assert (subscription["protocol"], subscription["endpoint"]) == ("email", "oncall@example.com")
    policy = json.loads(synth.one("network", "aws_sns_topic_policy")["policy"])
    assert policy["Statement"][0]["Principal"] == {"Service": "cloudwatch.amazonaws.com"}


def test_dashboard_follows_the_request_path(synth: Synthesis) -> None:
    dashboard = synth.one("edge", "aws_cloudwatch_dashboard")
    assert dashboard["dashboard_name"] == "catalog-api-request-path-dev"
    widgets = json.loads(dashboard["dashboard_body"])["widgets"]
    namespaces = [{m[0] for m in w["properties"]["metrics"]} for w in widgets]
    assert namespaces == [{"AWS/CloudFront"}, {"AWS/ApplicationELB"}, {"AWS/ECS", "ECS/ContainerInsights"}, {"AWS/RDS"}]
    assert widgets[0]["properties"]["region"] == "us-east-1", "CloudFront metrics live in us-east-1"
    assert synth.ref("edge", "aws_cloudfront_distribution", "id") in widgets[0]["properties"]["metrics"][0]
    assert "catalog-api-aurora-dev" in widgets[3]["properties"]["metrics"][0]
