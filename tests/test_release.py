"""Shipping the API (S-01, S-02, S-03): built from service/, run by digest, released as a canary.

Every test reads the synthesized Terraform JSON, except the ones about the build context's
digest, which read files the way Docker does.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import main
from scripts import delivery
from shared.config import Config
from shared.guardrails import check_releases
from shared.image_source import context_files, is_excluded, parse_dockerignore, source_tag
from tests.synth import STACKS, Synthesis

ROOT = Path(__file__).resolve().parents[1]
Json = dict[str, Any]


def _container(synth: Synthesis) -> Json:
    (container,) = json.loads(synth.one("app", "aws_ecs_task_definition")["container_definitions"])
    result: Json = container
    return result


def _synthesize(config: Config, root: Path = ROOT) -> Synthesis:
    """The app with the image built from ``root``/service (a copy the test may edit)."""
    from cdktf import Testing

    from shared import provider_loader

    provider_loader.enable()
    app = Testing.app()
    main.build(app, config, image=main.image_choice(config, root=root))
    app.synth()
    outdir = Path(app.outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    texts = {n: (outdir / manifest["stacks"][n]["synthesizedStackPath"]).read_text() for n in STACKS}
    return Synthesis(stacks={n: json.loads(t) for n, t in texts.items()}, texts=texts, manifest=manifest)


@pytest.fixture(scope="module")
def service_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root holding a copy of service/'s build context, Dockerfile and tests."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(
        ROOT / "service",
        root / "service",
        ignore=shutil.ignore_patterns(
            ".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis"
        ),
    )
    return root


# S-01: the default deploys the API built from service/ --------------------------------------


def test_s01_default_task_definition_runs_the_api_built_from_service_by_digest(synth: Synthesis) -> None:
    container = _container(synth)
    repository = synth.ref("app", "aws_ecr_repository", "repository_url")
    assert container["image"] == f"{repository}@" + synth.ref_data("app", "aws_ecr_image", "image_digest")
    assert synth.one("app", "aws_ecr_repository")["name"] == "catalog-api-images-dev"
    # The digest is the one of the tag naming service/'s content, read after the push.
    (lookup,) = synth.data_sources("app", "aws_ecr_image").values()
    assert lookup["image_tag"] == "${local.image_source}"
    assert synth.stacks["app"]["locals"]["image_source"] == source_tag(ROOT / "service")
    assert lookup["repository_name"] == synth.ref("app", "aws_ecr_repository", "name")
    (publish_name,) = [n for n in synth.resources("app", "terraform_data") if n.startswith("api-image_publish")]
    assert lookup["depends_on"] == [f"terraform_data.{publish_name}"], "read after the push, not before"
    # The API's connection: plain settings from the data layer, the password as an ECS secret.
    environment = {e["name"]: e["value"] for e in container["environment"]}
    assert {"DB_HOST", "DB_PORT", "DB_NAME"} <= set(environment)
    assert "cross-stack-reference-input-data" in environment["DB_HOST"]
    assert (environment["DB_PORT"], environment["DB_NAME"]) == ("5432", "catalog")
    secrets = {s["name"]: s["valueFrom"] for s in container["secrets"]}
    assert secrets["DB_PASSWORD"] == environment["DB_SECRET_ARN"] + ":password::"
    assert "PLACEHOLDER_NGINX_CONF" not in environment


def test_s01_the_push_runs_only_when_the_content_or_the_repository_changes(synth: Synthesis) -> None:
    (publish,) = [
        body
        for body in synth.resources("app", "terraform_data").values()
        if body["provisioner"][0]["local-exec"]["command"] == "python3 scripts/publish_image.py"
    ]
    repository = synth.ref("app", "aws_ecr_repository", "repository_url")
    assert publish["triggers_replace"] == {"tag": "${local.image_source}", "repository": repository}
    ((kind, step),) = publish["provisioner"][0].items()
    assert kind == "local-exec"
    # Relative to cdktf.out/stacks/app/, the project root, as the local backend's path assumes.
    assert step["working_dir"] == "../../.."
    assert step["command"] == "python3 scripts/publish_image.py"
    assert (ROOT / "scripts" / "publish_image.py").is_file()
    assert step["environment"] == {
        "IMAGE_CONTEXT": "service",
        "IMAGE_TAG": "${local.image_source}",
        "REPOSITORY_URL": repository,
        "AWS_REGION": "eu-north-1",
    }


def test_s01_editing_a_file_under_service_changes_the_app_layer_and_no_other(service_copy: Path) -> None:
    before = _synthesize(Config(), service_copy)
    source = service_copy / "service" / "catalog_api" / "app.py"
    original = source.read_text()
    source.write_text(original + "\n# a new version\n")
    try:
        after = _synthesize(Config(), service_copy)
    finally:
        source.write_text(original)
    changed = [n for n in STACKS if before.stacks[n] != after.stacks[n]]
    assert changed == ["app"]
    assert before.stacks["app"]["locals"]["image_source"] != after.stacks["app"]["locals"]["image_source"]
    # Only the image source differs, so the layers reading the app layer are not listed.
    old, new = before.stacks["app"], after.stacks["app"]
    assert delivery.canonical_digest(old) != delivery.canonical_digest(new)
    assert delivery.interface_digest(old) == delivery.interface_digest(new)
    statuses = {
        name: delivery.LayerStatus(
            delivery.canonical_digest(after.stacks[name]),
            delivery.canonical_digest(before.stacks[name]),
            True,
            delivery.interface_digest(after.stacks[name]),
            delivery.interface_digest(before.stacks[name]),
        )
        for name in STACKS
    }
    dependencies = {name: tuple(after.manifest["stacks"][name].get("dependencies", ())) for name in STACKS}
    assert [name for name, _ in delivery.changed_layers(statuses, dependencies)] == ["app"]


@pytest.mark.parametrize(
    "path", ["tests/test_health.py", "README.md", "devtools/serve.py", "catalog_api/__pycache__/app.cpython-311.pyc"]
)
def test_s01_a_change_outside_the_build_context_never_rebuilds(service_copy: Path, path: str) -> None:
    before = source_tag(service_copy / "service")
    target = service_copy / "service" / path
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    original = target.read_bytes() if existed else b""
    target.write_bytes(original + b"\n# unrelated\n")
    try:
        assert source_tag(service_copy / "service") == before
    finally:
        target.write_bytes(original) if existed else target.unlink()


@pytest.mark.parametrize("path", ["Dockerfile", "requirements.txt", "catalog_api/migrations/env.py"])
def test_s01_a_change_to_what_the_image_holds_changes_the_tag(service_copy: Path, path: str) -> None:
    before = source_tag(service_copy / "service")
    target = service_copy / "service" / path
    original = target.read_bytes()
    target.write_bytes(original + b"\n")
    try:
        assert source_tag(service_copy / "service") != before
    finally:
        target.write_bytes(original)


def test_s01_build_context_is_what_dockerignore_lets_through() -> None:
    files = context_files(ROOT / "service")
    assert "requirements.txt" in files and "catalog_api/app.py" in files
    assert not [f for f in files if f.startswith(("tests/", "devtools/", ".venv/")) or "__pycache__" in f]
    # Docker's rules: last match wins, parents match, "**" spans directories, "!" re-includes.
    patterns = parse_dockerignore("*\n!keep/\nkeep/**/cache\n!keep/**/cache/wanted.txt\n# comment\n")
    assert is_excluded("other.txt", patterns)
    assert not is_excluded("keep/a/b.py", patterns)
    assert is_excluded("keep/x/y/cache/z", patterns)
    assert not is_excluded("keep/x/cache/wanted.txt", patterns)


# S-01: a prebuilt image, and the placeholder only on request --------------------------------


def test_s01_a_prebuilt_digest_is_run_as_named_with_no_build(production_synth: Synthesis) -> None:
    from tests.conftest import API_IMAGE

    assert _container(production_synth)["image"] == API_IMAGE
    assert not [n for n in production_synth.resources("app", "terraform_data") if n.startswith("api-image")]
    assert production_synth.data_sources("app", "aws_ecr_image") == {}
    assert "image_source" not in production_synth.stacks["app"].get("locals", {})


def test_s01_the_placeholder_runs_only_when_chosen(placeholder_synth: Synthesis, synth: Synthesis) -> None:
    assert _container(placeholder_synth)["image"].startswith("public.ecr.aws/docker/library/nginx:")
    assert not _container(synth)["image"].startswith("public.ecr.aws/")


# S-02: producer outputs never depend on a setting -------------------------------------------


def test_s02_every_producer_exports_the_same_outputs_under_every_setting(
    synth: Synthesis,
    placeholder_synth: Synthesis,
    production_synth: Synthesis,
    variant_synth: Synthesis,
    domain_synth: Synthesis,
    unzoned_domain_synth: Synthesis,
) -> None:
    # Built from source, the placeholder, a prebuilt digest with protection, every other option
    # (one NAT, no WAF, remote state, longest suffix, sale windows), a custom domain with and
    # without a zone, and a synth made while a sale window is raised: any single-layer deploy
    # order stays valid.
    from shared.config import load_config
    from tests.conftest import VARIANT
    from tests.synth import synthesize_config

    config = load_config(VARIANT)
    during_sale = synthesize_config(config, now=config.sales[0].starts)

    # The outputs a person reads (api_image) may show another value; their names stay too.
    def shape(synthesis: Synthesis, producer: str) -> dict[str, object]:
        outputs = synthesis.stacks[producer]["output"]
        return {name: body if name.startswith("cross-stack-output-") else None for name, body in outputs.items()}

    for producer in ("network", "data", "app"):
        reference = shape(synth, producer)
        assert any(name.startswith("cross-stack-output-") for name in reference), producer
        for other in (
            placeholder_synth,
            production_synth,
            variant_synth,
            domain_synth,
            unzoned_domain_synth,
            during_sale,
        ):
            assert shape(other, producer) == reference, producer


def test_s02_each_consumer_reads_every_value_it_is_given(synth: Synthesis, placeholder_synth: Synthesis) -> None:
    # The placeholder needs no database host, yet the app layer still reads it: otherwise the
    # data layer would stop exporting it at its next deploy.
    for synthesis in (synth, placeholder_synth):
        inputs = synthesis.stacks["app"]["locals"]["layer_inputs"]
        assert {"database_host", "database_secret_arn", "database_security_group_id"} <= set(inputs)
        assert all("cross-stack-reference-input-data" in inputs[k] for k in ("database_host", "database_secret_arn"))
        # Whatever a consumer reads from a producer anywhere, its inputs local reads too.
        for consumer in ("data", "app", "edge"):
            document = synthesis.stacks[consumer]
            read = re.compile(r"terraform_remote_state\.[^.]+\.outputs\.(cross-stack-output-[A-Za-z0-9_-]+)")
            everywhere = set(read.findall(json.dumps(document)))
            declared = set(read.findall(json.dumps(document["locals"]["layer_inputs"])))
            assert everywhere and everywhere == declared, consumer


# S-03: canary releases rolled back by alarms -------------------------------------------------


def test_s03_the_service_is_released_as_a_canary_with_alarm_rollback(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    assert service["deployment_controller"] == {"type": "ECS"}
    config = service["deployment_configuration"]
    assert config["strategy"] == "CANARY"
    assert config["canary_configuration"] == {"canary_percent": 10, "canary_bake_time_in_minutes": "3"}
    assert config["bake_time_in_minutes"] == "2"
    alarms = service["alarms"]
    assert (alarms["enable"], alarms["rollback"]) == (True, True)
    existing = {
        f"${{aws_cloudwatch_metric_alarm.{name}.alarm_name}}"
        for name in synth.resources("app", "aws_cloudwatch_metric_alarm")
    }
    assert len(alarms["alarm_names"]) == 4 and set(alarms["alarm_names"]) <= existing
    assert service["deployment_circuit_breaker"] == {"enable": True, "rollback": True}


def test_s03_rollback_alarms_watch_5xx_rate_and_p99_of_both_target_groups(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    by_ref = {
        f"${{aws_cloudwatch_metric_alarm.{name}.alarm_name}}": body
        for name, body in synth.resources("app", "aws_cloudwatch_metric_alarm").items()
    }
    watched: dict[str, set[str]] = {}
    expected = {
        ("HTTPCode_Target_5XX_Count", "Sum"): (
            "5xx-rate",
            "IF(requests >= 20, 100 * FILL(measured, 0) / requests, 0)",
            5,
        ),
        ("TargetResponseTime", "p99"): ("p99", "IF(requests >= 20, measured, 0)", 2),
    }
    for name in service["alarms"]["alarm_names"]:
        alarm = by_ref[name]
        queries = {q["id"]: q for q in alarm["metric_query"]}
        measured, requests = queries["measured"]["metric"], queries["requests"]["metric"]
        kind, expression, threshold = expected[(measured["metric_name"], measured["stat"])]
        assert (requests["metric_name"], requests["stat"]) == ("RequestCount", "Sum")
        assert measured["dimensions"] == requests["dimensions"], "judged against the same target group's traffic"
        # Judged only in minutes with real traffic: one slow or failing request from anyone at
        # night must not roll a release back.
        assert queries["judged"]["return_data"] is True and queries["judged"]["expression"] == expression
        assert alarm["threshold"] == threshold
        periods = {measured["period"], requests["period"]}
        assert alarm["evaluation_periods"] * max(periods) <= 3 * 60, "decides within the canary bake"
        watched.setdefault(measured["dimensions"]["TargetGroup"], set()).add(kind)
    groups = {f"${{aws_lb_target_group.{n}.arn_suffix}}" for n in synth.resources("app", "aws_lb_target_group")}
    assert watched == {group: {"5xx-rate", "p99"} for group in groups}


def test_s03_traffic_moves_through_weighted_rules_terraform_leaves_to_ecs(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    (balancer,) = service["load_balancer"]
    advanced = balancer["advanced_configuration"]
    groups = synth.resources("app", "aws_lb_target_group")
    assert len(groups) == 2 and advanced["alternate_target_group_arn"] != balancer["target_group_arn"]
    rules = synth.resources("app", "aws_lb_listener_rule")
    listeners = synth.resources("app", "aws_lb_listener")
    for key, weights in (("production_listener_rule", [100, 0]), ("test_listener_rule", [0, 100])):
        rule = rules[advanced[key].removeprefix("${aws_lb_listener_rule.").removesuffix(".arn}")]
        assert rule["lifecycle"] == {"ignore_changes": ["action"]}, "ECS owns the weights after creation"
        (action,) = rule["action"]
        targets = action["forward"]["target_group"]
        assert [t["arn"] for t in targets] == [balancer["target_group_arn"], advanced["alternate_target_group_arn"]]
        assert [t["weight"] for t in targets] == weights
        assert rule["condition"] == [{"path_pattern": {"values": ["/*"]}}]
    # Forward everywhere (ECS refuses listeners mixing forward with fixed-response or redirect).
    assert {a["type"] for listener in listeners.values() for a in listener["default_action"]} == {"forward"}
    for dependency in [*(f"aws_lb_listener_rule.{n}" for n in rules), *(f"aws_lb_listener.{n}" for n in listeners)]:
        assert dependency in service["depends_on"], "both target groups are attached before the service exists"


def test_s03_the_test_listener_is_reachable_from_nowhere(synth: Synthesis) -> None:
    production = synth.production_listener()
    (test_listener,) = [
        body for body in synth.resources("app", "aws_lb_listener").values() if body["port"] != production["port"]
    ]
    (alb_group,) = synth.one("app", "aws_lb")["security_groups"]
    group_id = alb_group.removeprefix("${").removesuffix("}")

    def ports(rule: Json) -> range:
        # No ports, or protocol -1 ("all"), opens every port.
        if str(rule.get("ip_protocol", rule.get("protocol", "tcp"))) == "-1" or "from_port" not in rule:
            return range(0, 65536)
        return range(int(rule["from_port"]), int(rule["to_port"]) + 1)

    into_alb: list[Json] = []
    for stack in STACKS:
        for rule in synth.resources(stack, "aws_vpc_security_group_ingress_rule").values():
            if group_id in str(rule["security_group_id"]):
                into_alb.append(rule)
        for rule in synth.resources(stack, "aws_security_group_rule").values():
            if rule.get("type") == "ingress" and group_id in str(rule["security_group_id"]):
                into_alb.append(rule)
        for name, group in synth.resources(stack, "aws_security_group").items():
            if f"aws_security_group.{name}.id" == group_id:
                into_alb.extend(group.get("ingress") or [])
    assert into_alb, "the production listener is reachable (from CloudFront)"
    assert all(production["port"] in ports(rule) for rule in into_alb)
    assert not [rule for rule in into_alb if test_listener["port"] in ports(rule)]


def test_s03_ecs_moves_release_traffic_with_aws_policy_on_a_role_only_ecs_assumes(synth: Synthesis) -> None:
    service = synth.one("app", "aws_ecs_service")
    role_ref = service["load_balancer"][0]["advanced_configuration"]["role_arn"]
    name = role_ref.removeprefix("${aws_iam_role.").removesuffix(".arn}")
    role = synth.resources("app", "aws_iam_role")[name]
    (statement,) = json.loads(role["assume_role_policy"])["Statement"]
    assert statement["Principal"] == {"Service": "ecs.amazonaws.com"}
    (attachment,) = synth.resources("app", "aws_iam_role_policy_attachment").values()
    assert attachment["role"] == f"${{aws_iam_role.{name}.name}}"


def test_s03_apply_waits_for_the_release_within_the_layer_budget(synth: Synthesis) -> None:
    # a layer deploys well under 15 minutes. The release part of an app deploy is at most
    # task start + health checks + canary bake + bake + draining; apply fails if it rolls back.
    service = synth.one("app", "aws_ecs_service")
    assert service["wait_for_steady_state"] is True
    config = service["deployment_configuration"]
    group = synth.primary_target_group()
    check = group["health_check"]
    start_and_checks = service["health_check_grace_period_seconds"] + check["interval"] * check["healthy_threshold"]
    release_seconds = (
        start_and_checks
        + 60 * int(config["canary_configuration"]["canary_bake_time_in_minutes"])
        + 60 * int(config["bake_time_in_minutes"])
        + int(group["deregistration_delay"])
    )
    assert release_seconds <= 10 * 60, release_seconds
    assert service["timeouts"] == {"create": "20m", "update": "20m"}


# S-03 guardrails: an inconsistent release setup is refused at synth --------------------------


def _broken(synth: Synthesis, edit: Any) -> list[str]:
    document: Json = json.loads(synth.texts["app"])
    (service,) = document["resource"]["aws_ecs_service"].values()
    edit(service, document)
    return check_releases(document)


def test_s03_guardrails_accept_the_real_release(synth: Synthesis) -> None:
    assert check_releases(json.loads(synth.texts["app"])) == []


BROKEN: Mapping[str, tuple[Any, str]] = {
    "no alternate target group": (
        lambda s, d: s["load_balancer"][0]["advanced_configuration"].pop("alternate_target_group_arn"),
        "alternate_target_group_arn: None is not a target group of this stack",
    ),
    "alternate is the primary": (
        lambda s, d: s["load_balancer"][0]["advanced_configuration"].update(
            alternate_target_group_arn=s["load_balancer"][0]["target_group_arn"]
        ),
        "is the primary target group",
    ),
    "production rule is a listener": (
        lambda s, d: s["load_balancer"][0]["advanced_configuration"].update(
            production_listener_rule=s["depends_on"][0].join(("${", ".arn}"))
        ),
        "is not a listener rule of this stack",
    ),
    "rule weights not left to ECS": (
        lambda s, d: d["resource"]["aws_lb_listener_rule"][
            s["load_balancer"][0]["advanced_configuration"]["production_listener_rule"].split(".")[1]
        ].pop("lifecycle"),
        "not in lifecycle.ignore_changes",
    ),
    "rollback alarm that does not exist": (
        lambda s, d: s["alarms"]["alarm_names"].append("catalog-api-release-typo-dev"),
        "rollback alarm 'catalog-api-release-typo-dev' is not an alarm of this stack",
    ),
    "alarms without rollback": (lambda s, d: s["alarms"].update(rollback=False), "without alarms {enable, rollback}"),
    "bake time over a day": (
        lambda s, d: s["deployment_configuration"].update(bake_time_in_minutes="1441"),
        "bake_time_in_minutes: '1441' is not 0 to 1440 minutes",
    ),
    "canary bake time negative": (
        lambda s, d: s["deployment_configuration"]["canary_configuration"].update(canary_bake_time_in_minutes="-1"),
        "canary_bake_time_in_minutes: '-1' is not 0 to 1440",
    ),
    "canary percent off the 0.1 grid": (
        lambda s, d: s["deployment_configuration"]["canary_configuration"].update(canary_percent=10.05),
        "canary_percent: 10.05 is not 0.1 to 100 in steps of 0.1",
    ),
    "no role for ECS": (
        lambda s, d: s["load_balancer"][0]["advanced_configuration"].update(role_arn="arn:aws:iam::1:role/x"),
        "role_arn: not a role of this stack",
    ),
    "another deployment controller": (
        lambda s, d: s.update(deployment_controller={"type": "CODE_DEPLOY"}),
        "needs deployment_controller type ECS",
    ),
}


@pytest.mark.parametrize("edit,message", BROKEN.values(), ids=list(BROKEN))
def test_s03_an_inconsistent_release_is_refused_with_the_resource_and_the_fix(
    synth: Synthesis, edit: Any, message: str
) -> None:
    errors = _broken(synth, edit)
    assert len(errors) == 1, errors
    assert errors[0].startswith("[S-03] aws_ecs_service app/api/service") and message in errors[0], errors[0]
