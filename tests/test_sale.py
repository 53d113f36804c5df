"""S-04: sale windows become scheduled capacity; tasks track requests; Aurora readers autoscale."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import main
from shared.config import load_config
from tests.conftest import VARIANT
from tests.synth import Synthesis
from tests.test_config import refusal

SCHEDULED = "aws_appautoscaling_scheduled_action"
# The windows of tests/environments/variant.toml and its [scaling] bounds.
VARIANT_SALES = {
    "black-friday": ("2099-11-27T08:00:00", "2099-11-30T23:00:00", 20, 60, 4),
    "boxing-day": ("2099-12-26T06:30:00", "2099-12-27T06:30:00", 8, 30, 2),
}
VARIANT_TASKS = (3, 12)
VARIANT_MAX_READERS = 5
# service/contract.json start_within_seconds 90 + ALB health checks 2 x 30 s + 120 s placement, in whole minutes.
TASK_LEAD = timedelta(minutes=5)
# The readers' lead: an assumption written down in docs/sales.md, asserted on the schedules as such.
READER_LEAD = timedelta(minutes=30)
NOW = datetime(2027, 1, 1, tzinfo=UTC)


def _actions(synth: Synthesis, stack: str) -> dict[str, dict[str, object]]:
    return {action["name"]: action for action in synth.resources(stack, SCHEDULED).values()}


def _at(text: str, minus: timedelta = timedelta(0)) -> str:
    moment = datetime.fromisoformat(text) - minus
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def _capacity(action: dict[str, object]) -> tuple[int, int]:
    target = action["scalable_target_action"]
    assert isinstance(target, dict)
    return int(target["min_capacity"]), int(target["max_capacity"])


def _on_target(synth: Synthesis, stack: str, actions: tuple[dict[str, object], ...]) -> None:
    for action in actions:
        for attribute in ("service_namespace", "scalable_dimension", "resource_id"):
            assert action[attribute] == synth.ref(stack, "aws_appautoscaling_target", attribute), attribute


# --- what a sale window makes ---------------------------------------------------------------


def test_s04_sale_raises_tasks_a_start_budget_early_and_restores_them_at_the_end(variant_synth: Synthesis) -> None:
    actions = _actions(variant_synth, "app")
    target = variant_synth.one("app", "aws_appautoscaling_target")
    assert len(actions) == 2 * len(VARIANT_SALES)
    for name, (starts, ends, low, high, _readers) in VARIANT_SALES.items():
        raised = actions[f"catalog-api-tasks-{name}-raise-prod-eu-canary-1"]
        restored = actions[f"catalog-api-tasks-{name}-restore-prod-eu-canary-1"]
        assert raised["schedule"] == _at(starts, TASK_LEAD) and raised["timezone"] == "UTC"
        assert _capacity(raised) == (low, high)
        assert restored["schedule"] == _at(ends) and restored["timezone"] == "UTC"
        assert _capacity(restored) == VARIANT_TASKS
        _on_target(variant_synth, "app", (raised, restored))
    assert (target["service_namespace"], target["scalable_dimension"]) == ("ecs", "ecs:service:DesiredCount")


def test_s04_sale_raises_the_reader_floor_a_reader_creation_early_and_restores_it(variant_synth: Synthesis) -> None:
    actions = _actions(variant_synth, "data")
    assert len(actions) == 2 * len(VARIANT_SALES)
    for name, (starts, ends, _low, _high, readers) in VARIANT_SALES.items():
        raised = actions[f"catalog-api-readers-{name}-raise-prod-eu-canary-1"]
        restored = actions[f"catalog-api-readers-{name}-restore-prod-eu-canary-1"]
        assert raised["schedule"] == _at(starts, READER_LEAD) and raised["timezone"] == "UTC"
        assert _capacity(raised) == (readers, VARIANT_MAX_READERS)
        assert restored["schedule"] == _at(ends) and restored["timezone"] == "UTC"
        assert _capacity(restored) == (1, VARIANT_MAX_READERS)
        _on_target(variant_synth, "data", (raised, restored))


def test_s04_no_sale_no_scheduled_action(synth: Synthesis) -> None:
    assert not synth.resources("app", SCHEDULED) and not synth.resources("data", SCHEDULED)


def test_s04_a_deploy_inside_a_raised_window_keeps_the_sales_bounds() -> None:
    from tests.synth import synthesize_config

    config = load_config(VARIANT)
    # 20 minutes before Black Friday: the readers are raised (30-minute lead), the tasks not yet (5).
    before = synthesize_config(config, now=datetime(2099, 11, 27, 7, 40, tzinfo=UTC))
    tasks = before.one("app", "aws_appautoscaling_target")
    readers = before.one("data", "aws_appautoscaling_target")
    assert (tasks["min_capacity"], tasks["max_capacity"]) == VARIANT_TASKS
    assert (readers["min_capacity"], readers["max_capacity"]) == (4, VARIANT_MAX_READERS)
    during = synthesize_config(config, now=datetime(2099, 11, 28, 12, tzinfo=UTC))
    tasks = during.one("app", "aws_appautoscaling_target")
    assert (tasks["min_capacity"], tasks["max_capacity"]) == (20, 60)
    assert during.one("data", "aws_appautoscaling_target")["min_capacity"] == 4
    # The restore at the end still goes back to [scaling]'s bounds, not the raised ones.
    restore = _actions(during, "app")["catalog-api-tasks-black-friday-restore-prod-eu-canary-1"]
    assert _capacity(restore) == VARIANT_TASKS
    # The too-few-tasks alarm keeps [scaling]'s floor: after the restore it must not fire.
    floors = [
        alarm["threshold"]
        for alarm in during.resources("app", "aws_cloudwatch_metric_alarm").values()
        if alarm.get("metric_name") == "RunningTaskCount"
    ]
    assert floors == [VARIANT_TASKS[0]]
    after = synthesize_config(config, now=datetime(2099, 11, 30, 23, tzinfo=UTC))
    assert after.one("app", "aws_appautoscaling_target")["min_capacity"] == VARIANT_TASKS[0]
    assert after.one("data", "aws_appautoscaling_target")["min_capacity"] == 1


def test_s04_task_lead_time_follows_the_service_start_budget(tmp_path: Path) -> None:
    assert main.task_lead() == TASK_LEAD
    (tmp_path / "service").mkdir()
    contract = json.loads((main.ROOT / "service" / "contract.json").read_text())
    (tmp_path / "service" / "contract.json").write_text(json.dumps({**contract, "start_within_seconds": 400}))
    # 400 + 60 + 120 = 580 s: ten minutes.
    assert main.task_lead(tmp_path) == timedelta(minutes=10)
    shutil.rmtree(tmp_path / "service")


# --- requests per target ------------------------------------------------------------------

CAPACITY_DOC = Path(__file__).resolve().parent.parent / "service" / "docs" / "capacity.md"


def _measured_list_calls_per_task() -> int:
    found = re.findall(r"one task carries about \*\*([\d,]+) list calls/s\*\*", CAPACITY_DOC.read_text())
    assert len(found) == 1, "service/docs/capacity.md states the per-task list capacity once"
    return int(found[0].replace(",", ""))


def test_s04_tasks_track_alb_requests_per_target_of_the_primary_target_group(synth: Synthesis) -> None:
    policy = synth.named("app", "aws_appautoscaling_policy", "catalog-api-request-tracking-dev")
    cpu = synth.named("app", "aws_appautoscaling_policy", "catalog-api-cpu-tracking-dev")
    config = policy["target_tracking_scaling_policy_configuration"]
    metric = config["predefined_metric_specification"]
    assert metric["predefined_metric_type"] == "ALBRequestCountPerTarget"
    (balancer,) = synth.one("app", "aws_ecs_service")["load_balancer"]
    primary = balancer["target_group_arn"].removesuffix(".arn}") + ".arn_suffix}"
    assert metric["resource_label"] == f"{synth.ref('app', 'aws_lb', 'arn_suffix')}/{primary}"
    # The measured list calls/s per task at 70 % CPU (the lower call), per minute: the figure
    # service/docs/capacity.md gives, so a new measurement there and the target move together.
    assert config["target_value"] == _measured_list_calls_per_task() * 60
    assert policy["resource_id"] == cpu["resource_id"]
    assert config.get("disable_scale_in") in (None, False)
    cpu_config = cpu["target_tracking_scaling_policy_configuration"]
    assert config["scale_in_cooldown"] > cpu_config["scale_in_cooldown"] > config["scale_out_cooldown"]


# --- reader autoscaling -------------------------------------------------------------------


def test_s04_readers_autoscale_on_reader_cpu_from_a_floor_of_one(synth: Synthesis, variant_synth: Synthesis) -> None:
    target = synth.one("data", "aws_appautoscaling_target")
    assert target["service_namespace"] == "rds"
    assert target["scalable_dimension"] == "rds:cluster:ReadReplicaCount"
    assert target["resource_id"] == f"cluster:{synth.ref('data', 'aws_rds_cluster', 'cluster_identifier')}"
    assert (target["min_capacity"], target["max_capacity"]) == (1, 3)
    assert variant_synth.one("data", "aws_appautoscaling_target")["max_capacity"] == VARIANT_MAX_READERS
    instances = [f"aws_rds_cluster_instance.{name}" for name in synth.resources("data", "aws_rds_cluster_instance")]
    assert set(instances) <= set(target["depends_on"]), "registered once the writer and reader exist"
    policy = synth.one("data", "aws_appautoscaling_policy")
    config = policy["target_tracking_scaling_policy_configuration"]
    assert config["predefined_metric_specification"]["predefined_metric_type"] == "RDSReaderAverageCPUUtilization"
    assert policy["resource_id"] == synth.ref("data", "aws_appautoscaling_target", "resource_id")
    assert policy["policy_type"] == "TargetTrackingScaling"
    assert config["scale_in_cooldown"] > config["scale_out_cooldown"]


def test_s04_destroy_deletes_the_readers_autoscaling_added_before_the_cluster(synth: Synthesis) -> None:
    (name, cleanup), *others = synth.resources("data", "terraform_data").items()
    assert not others
    (provisioner,) = cleanup["provisioner"]
    command = provisioner["local-exec"]
    assert command["when"] == "destroy" and command["command"] == "python3 scripts/autoscaled_readers.py"
    assert command["environment"] == {
        "AWS_REGION": "eu-north-1",
        "CLUSTER_ID": "catalog-api-aurora-dev",
        "KEEP": "catalog-api-aurora-dev-1,catalog-api-aurora-dev-2",
    }
    identifiers = {i["identifier"] for i in synth.resources("data", "aws_rds_cluster_instance").values()}
    assert set(command["environment"]["KEEP"].split(",")) == identifiers
    # Destroyed in reverse: the scalable target (nothing adds readers any more), then this, then the cluster.
    assert cleanup["depends_on"] == [f"aws_rds_cluster.{next(iter(synth.resources('data', 'aws_rds_cluster')))}"]
    assert f"terraform_data.{name}" in synth.one("data", "aws_appautoscaling_target")["depends_on"]


def test_s04_data_layer_exports_the_reader_endpoint(synth: Synthesis) -> None:
    output = synth.stacks["data"]["output"]["db_reader_endpoint"]
    assert output["value"] == synth.ref("data", "aws_rds_cluster", "reader_endpoint")


def test_s04_the_api_reads_from_the_data_layers_reader_endpoint(production_synth: Synthesis) -> None:
    (container,) = json.loads(production_synth.one("app", "aws_ecs_task_definition")["container_definitions"])
    environment = {e["name"]: e["value"] for e in container["environment"]}
    remote = "${data.terraform_remote_state.cross-stack-reference-input-data.outputs."
    assert environment["DB_READER_HOST"].startswith(remote), environment["DB_READER_HOST"]
    output = environment["DB_READER_HOST"].removeprefix(remote).removesuffix("}")
    value = production_synth.stacks["data"]["output"][output]["value"]
    assert value == production_synth.ref("data", "aws_rds_cluster", "reader_endpoint")
    assert environment["DB_HOST"] != environment["DB_READER_HOST"]


# --- configuration ------------------------------------------------------------------------

BASE_TEXT = 'suffix = "t"\nregion = "eu-north-1"\n[scaling]\nmax_readers = 4\n'


def _sale(name: str = "black-friday", values: dict[str, object] | None = None, **more: object) -> str:
    fields = {
        "starts": "2027-11-26T08:00:00Z",
        "ends": "2027-11-29T08:00:00Z",
        "min_tasks": 10,
        "max_tasks": 40,
        "min_readers": 3,
        **(values or {}),
        **more,
    }
    lines = [f"name = {json.dumps(name)}"]
    lines += [f"{key} = {value if key in {'starts', 'ends'} and 'T' not in str(value) else json.dumps(value)}"
              for key, value in fields.items()]  # fmt: skip
    return "[[sale]]\n" + "\n".join(lines) + "\n"


def _environ(tmp_path: Path, *sales: str) -> dict[str, str]:
    (tmp_path / "x.toml").write_text(BASE_TEXT + "".join(sales), encoding="utf-8")
    return {"ENV": "x", "CATALOG_ENVIRONMENTS_DIR": str(tmp_path)}


def _refused(tmp_path: Path, *sales: str, now: datetime = NOW) -> str:
    from shared.config import ConfigError

    with pytest.raises(ConfigError) as raised:
        load_config(_environ(tmp_path, *sales), now=now)
    message = str(raised.value)
    assert "\n" not in message and str(tmp_path) in message, message
    return message


def test_s04_sale_windows_are_read_in_utc_and_in_order(tmp_path: Path) -> None:
    environ = _environ(
        tmp_path,
        _sale("boxing-day", starts="2027-12-26T06:30:00Z", ends="2027-12-27T06:30:00Z"),
        # A TOML date-time works as well as a string.
        '[[sale]]\nname = "black-friday"\nstarts = 2027-11-26T08:00:00Z\nends = 2027-11-29T08:00:00+00:00\n'
        "min_tasks = 10\nmax_tasks = 40\nmin_readers = 4\n",
    )
    config = load_config(environ, now=NOW)
    assert [sale.name for sale in config.sales] == ["black-friday", "boxing-day"]
    first = config.sales[0]
    assert first.starts == datetime(2027, 11, 26, 8, tzinfo=UTC) and first.ends == datetime(2027, 11, 29, 8, tzinfo=UTC)
    assert (first.min_tasks, first.max_tasks, first.min_readers, config.max_readers) == (10, 40, 4, 4)


def test_s04_overlapping_sales_are_refused_naming_both(tmp_path: Path) -> None:
    message = _refused(tmp_path, _sale("a"), _sale("b", starts="2027-11-28T08:00:00Z", ends="2027-11-30T08:00:00Z"))
    assert "[[sale]] 'b'" in message and "overlaps [[sale]] 'a'" in message, message


def test_s04_a_sale_starting_within_the_reader_lead_of_the_previous_end_is_refused(tmp_path: Path) -> None:
    # 'b' starts 20 minutes after 'a' ends: its readers would be raised before 'a' restores them.
    late = _sale("b", starts="2027-11-29T08:20:00Z", ends="2027-11-30T08:00:00Z")
    assert "overlaps [[sale]] 'a'" in _refused(tmp_path, _sale("a"), late)
    on_time = _sale("b", starts="2027-11-29T08:30:00Z", ends="2027-11-30T08:00:00Z")
    assert len(load_config(_environ(tmp_path, _sale("a"), on_time), now=NOW).sales) == 2


def test_s04_inverted_sale_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, _sale(ends="2027-11-26T08:00:00Z"))
    assert "[[sale]] 'black-friday' is inverted: ends (2027-11-26T08:00:00Z) must be after starts" in message


def test_s04_past_sale_is_refused(tmp_path: Path) -> None:
    message = _refused(tmp_path, _sale(), now=datetime(2027, 11, 29, 8, tzinfo=UTC))
    assert "[[sale]] 'black-friday' is past: it ended 2027-11-29T08:00:00Z" in message
    # One second before its end it is still accepted.
    assert load_config(_environ(tmp_path, _sale()), now=datetime(2027, 11, 29, 7, 59, 59, tzinfo=UTC)).sales


OUT_OF_LIMIT = {
    "min_tasks 0": ({"min_tasks": 0}, "min_tasks = 0 is not allowed: 1 to the sale's max_tasks (40)"),
    "min over max": ({"min_tasks": 41}, "min_tasks = 41 is not allowed: 1 to the sale's max_tasks (40)"),
    "max over 100": ({"max_tasks": 101}, "max_tasks = 101 is not allowed: 1 to 100"),
    "readers 0": ({"min_readers": 0}, "min_readers = 0 is not allowed: 1 to [scaling] max_readers (4"),
    "readers over ceiling": ({"min_readers": 5}, "min_readers = 5 is not allowed: 1 to [scaling] max_readers (4"),
    "not utc": ({"starts": "2027-11-26T08:00:00+01:00"}, "starts = '2027-11-26T08:00:00+01:00' is not in UTC"),
    "no zone": ({"ends": "2027-11-29T08:00:00"}, "ends = '2027-11-29T08:00:00' is not a UTC date and time"),
    "not a number": ({"max_tasks": "40"}, "max_tasks = '40' is a string; expected an integer"),
    "unknown key": ({"max_reader": 2}, "unknown key 'max_reader'"),
    "max_tasks 0": ({"min_tasks": 1, "max_tasks": 0}, "max_tasks = 0 is not allowed: 1 to 100"),
}


@pytest.mark.parametrize("values,reason", OUT_OF_LIMIT.values(), ids=list(OUT_OF_LIMIT))
def test_s04_out_of_limit_sale_is_refused_naming_it(tmp_path: Path, values: dict[str, object], reason: str) -> None:
    message = _refused(tmp_path, _sale(values=values))
    assert "[[sale]] 'black-friday'" in message and reason in message, message


def test_s04_sale_max_tasks_below_the_on_demand_base_is_refused(tmp_path: Path) -> None:
    text = BASE_TEXT.replace("[scaling]\n", "[scaling]\non_demand_base = 3\n") + _sale(min_tasks=1, max_tasks=2)
    (tmp_path / "x.toml").write_text(text)
    from shared.config import ConfigError

    # A fixed "now": the sale must not turn into a past one when the calendar passes it.
    with pytest.raises(ConfigError) as raised:
        load_config({"ENV": "x", "CATALOG_ENVIRONMENTS_DIR": str(tmp_path)}, now=NOW)
    message = str(raised.value)
    assert "[[sale]] 'black-friday': max_tasks = 2 is not allowed: at least [scaling] on_demand_base (3)" in message


def test_s04_sale_name_is_checked_and_unique(tmp_path: Path) -> None:
    assert "[[sale]] #1: name = 'Black Friday' is not allowed" in _refused(tmp_path, _sale("Black Friday"))
    later = _sale(starts="2027-12-26T06:30:00Z", ends="2027-12-27T06:30:00Z")
    assert "[[sale]] 'black-friday' is named twice" in _refused(tmp_path, _sale(), later)


def test_s04_max_readers_is_limited_to_auroras_fifteen_replicas(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('suffix = "t"\nregion = "eu-north-1"\n[scaling]\nmax_readers = 16\n')
    message = refusal({"ENV": "x", "CATALOG_ENVIRONMENTS_DIR": str(tmp_path)})
    assert "scaling.max_readers = 16 is not allowed: an integer from 1 to 15" in message


def test_s04_variant_environment_carries_its_sales() -> None:
    assert [sale.name for sale in load_config(VARIANT).sales] == list(VARIANT_SALES)
