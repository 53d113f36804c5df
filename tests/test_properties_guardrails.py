"""The guardrails for settings only AWS validates: each refuses a broken copy of the real stack, through rules().

Every case edits one attribute of the synthesized JSON (a fresh parse of the session's
synthesis, so no new synth) and runs all guardrails over it, which proves the rule is both
correct and registered.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from shared.guardrails import check_final_snapshot, check_stack, rules
from tests.synth import Synthesis

Json = dict[str, Any]


def _refusals(synth: Synthesis, stack: str, type_: str, edit: Callable[[Json], None]) -> list[str]:
    document: Json = json.loads(synth.texts[stack])
    # One resource of the type, whichever comes first: the guardrails judge every one alike.
    body = next(iter(document["resource"][type_].values()))
    edit(body)
    return check_stack(document, rules())


def _container_edit(change: Callable[[Json], None]) -> Callable[[Json], None]:
    def edit(task: Json) -> None:
        (container,) = json.loads(task["container_definitions"])
        change(container)
        task["container_definitions"] = json.dumps([container])

    return edit


def _windows(backup: str, maintenance: str) -> Callable[[Json], None]:
    def edit(cluster: Json) -> None:
        cluster["preferred_backup_window"] = backup
        cluster["preferred_maintenance_window"] = maintenance

    return edit


@pytest.mark.parametrize(
    "backup,maintenance",
    [
        ("03:00-04:00", "sun:03:30-sun:04:30"),
        ("23:30-00:30", "wed:00:00-wed:01:00"),
        ("00:00-01:00", "sun:23:45-mon:00:30"),
    ],
    ids=["same-hour", "backup-across-midnight", "maintenance-across-the-week-end"],
)
def test_rds_backup_and_maintenance_windows_that_overlap_are_refused(
    synth: Synthesis, backup: str, maintenance: str
) -> None:
    errors = _refusals(synth, "data", "aws_rds_cluster", _windows(backup, maintenance))
    assert len(errors) == 1, errors
    assert f"preferred_backup_window {backup!r} overlaps preferred_maintenance_window {maintenance!r}" in errors[0]
    assert "The backup window and maintenance window must not overlap." in errors[0]


@pytest.mark.parametrize(
    "backup,maintenance,wrong",
    [
        ("2:00-3:00", "sun:03:30-sun:04:30", "preferred_backup_window '2:00-3:00'"),
        ("02:00-02:15", "sun:03:30-sun:04:30", "preferred_backup_window '02:00-02:15'"),
        ("02:00-03:00", "sun:03:30-04:30", "preferred_maintenance_window 'sun:03:30-04:30'"),
        ("02:00-03:00", "Sunday:03:30-Sunday:04:30", "preferred_maintenance_window 'Sunday:03:30-Sunday:04:30'"),
        ("02:00-03:00", "sun:03:30-sun:03:45", "preferred_maintenance_window 'sun:03:30-sun:03:45'"),
    ],
    ids=["backup-hour-digits", "backup-15-minutes", "maintenance-end-without-day", "day-names", "maintenance-15-min"],
)
def test_rds_windows_malformed_or_under_30_minutes_are_refused(
    synth: Synthesis, backup: str, maintenance: str, wrong: str
) -> None:
    errors = _refusals(synth, "data", "aws_rds_cluster", _windows(backup, maintenance))
    assert len(errors) == 1, errors
    assert errors[0].startswith("[R-08] aws_rds_cluster data/aurora/cluster: " + wrong)


def test_container_definition_field_ecs_does_not_know_is_refused(synth: Synthesis) -> None:
    def misspell(container: Json) -> None:
        container["stopTimeOut"] = container.pop("stopTimeout")

    errors = _refusals(synth, "app", "aws_ecs_task_definition", _container_edit(misspell))
    assert len(errors) == 1, errors
    assert "container 'api': stopTimeOut is not a field of an ECS container definition" in errors[0]


@pytest.mark.parametrize(
    "old,new,problem",
    [
        ("awslogs-stream-prefix", "awslogs-prefix", "lack awslogs-stream-prefix, name unknown awslogs-prefix"),
        ("awslogs-group", "awslogs-group-name", "lack awslogs-group, name unknown awslogs-group-name"),
        ("awslogs-region", None, "lack awslogs-region"),
    ],
)
def test_awslogs_options_missing_or_misspelt_are_refused(
    synth: Synthesis, old: str, new: str | None, problem: str
) -> None:
    def rename(container: Json) -> None:
        options = container["logConfiguration"]["options"]
        value = options.pop(old)
        if new:
            options[new] = value

    errors = _refusals(synth, "app", "aws_ecs_task_definition", _container_edit(rename))
    assert any(f"container 'api': awslogs options {problem};" in e for e in errors), errors


def test_awslogs_region_other_than_the_log_groups_is_refused(synth: Synthesis) -> None:
    def move(container: Json) -> None:
        container["logConfiguration"]["options"]["awslogs-region"] = "us-east-1"

    errors = _refusals(synth, "app", "aws_ecs_task_definition", _container_edit(move))
    assert len(errors) == 1, errors
    assert "awslogs-region 'us-east-1' is not 'eu-north-1', where this stack creates the log group" in errors[0]


def test_log_driver_that_delivers_nothing_on_fargate_is_refused(synth: Synthesis) -> None:
    def firelens(container: Json) -> None:
        container["logConfiguration"]["logDriver"] = "awsfirelens"

    errors = _refusals(synth, "app", "aws_ecs_task_definition", _container_edit(firelens))
    assert len(errors) == 1, errors
    assert "log driver 'awsfirelens' does not deliver logs here" in errors[0]


def test_stop_timeout_over_the_fargate_limit_is_refused(synth: Synthesis) -> None:
    def longer(container: Json) -> None:
        container["stopTimeout"] = 300

    errors = _refusals(synth, "app", "aws_ecs_task_definition", _container_edit(longer))
    assert len(errors) == 1 and "stopTimeout 300 is over Fargate's 120 s" in errors[0], errors


@pytest.mark.parametrize(
    "resource_id",
    [
        "service/${aws_ecs_cluster.cluster.arn}/${aws_ecs_service.service.name}",
        "${aws_ecs_cluster.cluster.name}/${aws_ecs_service.service.name}",
        "service/${aws_ecs_service.service.id}",
    ],
    ids=["cluster-arn", "no-service-type", "service-arn"],
)
def test_ecs_scalable_target_that_does_not_name_the_service_is_refused(synth: Synthesis, resource_id: str) -> None:
    def rename(target: Json) -> None:
        target["resource_id"] = resource_id

    errors = _refusals(synth, "app", "aws_appautoscaling_target", rename)
    assert len(errors) == 1, errors
    assert f"resource_id {resource_id!r} is not service/<cluster name>/<service name>" in errors[0]


def test_ecs_scalable_target_with_another_dimension_is_refused(synth: Synthesis) -> None:
    def dimension(target: Json) -> None:
        target["scalable_dimension"] = "ecs:service:desiredCount"

    errors = _refusals(synth, "app", "aws_appautoscaling_target", dimension)
    assert len(errors) == 1 and "scalable_dimension 'ecs:service:desiredCount'" in errors[0], errors


def test_health_check_timeout_not_under_the_interval_is_refused(synth: Synthesis) -> None:
    def slow(group: Json) -> None:
        group["health_check"]["timeout"] = group["health_check"]["interval"]

    errors = _refusals(synth, "app", "aws_lb_target_group", slow)
    assert len(errors) == 1 and "health check timeout 30 s is not smaller than its interval 30 s" in errors[0], errors


@pytest.mark.parametrize("matcher", ["200-599", "200,302,500", "ok"])
def test_health_check_matcher_outside_200_to_499_is_refused(synth: Synthesis, matcher: str) -> None:
    def widen(group: Json) -> None:
        group["health_check"]["matcher"] = matcher

    errors = _refusals(synth, "app", "aws_lb_target_group", widen)
    assert len(errors) == 1 and f"health check matcher {matcher!r} is not HTTP codes" in errors[0], errors


def test_p07_cluster_leaving_skip_final_snapshot_unset_is_refused() -> None:
    # The provider's default is false: destroy then needs a final_snapshot_identifier.
    document = {"resource": {"aws_rds_cluster": {"db": {"engine": "aurora-postgresql"}}}}
    (error,) = check_final_snapshot(document)
    assert error.startswith("[P-07] aws_rds_cluster db: skip_final_snapshot is false")
