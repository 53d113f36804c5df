"""Aurora refuses connections without TLS, and the plan checks the instance class is orderable (R-08)."""

from __future__ import annotations

from tests.synth import Synthesis


def test_r08_aurora_refuses_connections_without_tls(synth: Synthesis) -> None:
    group = synth.one("data", "aws_rds_cluster_parameter_group")
    parameters = {p["name"]: p for p in group["parameter"]}
    assert parameters["rds.force_ssl"]["value"] == "1"
    # Accepted for static and dynamic parameters alike.
    assert parameters["rds.force_ssl"]["apply_method"] == "pending-reboot"
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["db_cluster_parameter_group_name"] == synth.ref("data", "aws_rds_cluster_parameter_group", "name")


def test_r08_instance_class_is_checked_orderable_for_the_looked_up_version_at_plan_time(synth: Synthesis) -> None:
    (lookup,) = synth.data_sources("data", "aws_rds_orderable_db_instance").values()
    assert lookup["engine"] == "aurora-postgresql"
    assert lookup["engine_version"] == synth.ref_data("data", "aws_rds_engine_version", "version_actual")
    (wanted,) = lookup["preferred_instance_classes"]
    (postcondition,) = lookup["lifecycle"]["postcondition"]
    assert postcondition["condition"] == f'${{self.instance_class == "{wanted}"}}'
    assert "instance_class" in postcondition["error_message"]
    # The class checked is the class every instance is created with.
    instances = synth.resources("data", "aws_rds_cluster_instance")
    assert len(instances) >= 2
    assert {i["instance_class"] for i in instances.values()} == {wanted}


def test_p04_alarm_when_the_rotation_rule_cannot_start_the_redeploy(synth: Synthesis) -> None:
    (rule_name, rule) = next(
        (name, body)
        for name, body in synth.resources("app", "aws_cloudwatch_event_rule").items()
        if "Secret Label Updated" in body["event_pattern"]
    )
    alarms = [
        a
        for a in synth.resources("app", "aws_cloudwatch_metric_alarm").values()
        if a.get("namespace") == "AWS/Events" and a.get("metric_name") == "FailedInvocations"
    ]
    (alarm,) = alarms
    assert alarm["dimensions"] == {"RuleName": f"${{aws_cloudwatch_event_rule.{rule_name}.name}}"}
    assert alarm["statistic"] == "Sum" and alarm["threshold"] == 1
    assert alarm["comparison_operator"] == "GreaterThanOrEqualToThreshold" and alarm["evaluation_periods"] == 1
    assert alarm["alarm_actions"] and alarm["alarm_actions"] == alarm["ok_actions"]
    assert rule["name"]
