"""Requirements across all stacks: tags, names, destroyability, outputs, state and wiring."""

from __future__ import annotations

import re

from tests.synth import STACKS, Synthesis

NAME_ATTRIBUTES = ("name", "bucket", "identifier", "cluster_identifier", "family", "comment")
# Attributes that look like names but hold something else.
NOT_NAMES = {
    ("aws_rds_cluster_parameter_group", "family"),
    ("aws_cloudfront_response_headers_policy", "comment"),
    ("aws_cloudfront_function", "comment"),
}


def test_r14_default_tags_on_every_stack(synth: Synthesis) -> None:
    for stack in STACKS:
        providers = synth.stacks[stack]["provider"]["aws"]
        for provider in providers:
            tags = provider["default_tags"][0]["tags"]
            assert tags["Environment"] == "production", stack
            assert tags["Project"] == "catalog-api", stack
            assert tags["Layer"] == stack


def test_r14_no_resource_overrides_the_default_tags(synth: Synthesis) -> None:
    for stack, type_, name, body in synth.all_resources():
        tags = body.get("tags", {})
        assert "Environment" not in tags and "Project" not in tags, f"{stack}/{type_}.{name}"


def test_r15_every_resource_name_has_the_environment_suffix(synth: Synthesis) -> None:
    checked = 0
    for stack, type_, name, body in synth.all_resources():
        values = [body[a] for a in NAME_ATTRIBUTES if isinstance(body.get(a), str) and (type_, a) not in NOT_NAMES]
        if isinstance(body.get("tags"), dict) and "Name" in body["tags"]:
            values.append(body["tags"]["Name"])
        for value in values:
            if value.startswith("${") and value.endswith("}") and value.count("${") == 1:
                continue  # a reference to another resource's (already checked) name
            if type_ == "aws_iam_role_policy":
                continue  # inline policy names are scoped to their role
            checked += 1
            assert re.search(r"(-dev(-|/|$)|/dev/)", value), f"{stack}/{type_}.{name}: {value!r} lacks the suffix"
    assert checked > 30


def test_r15_suffix_follows_configuration(variant_synth: Synthesis) -> None:
    alb = variant_synth.one("app", "aws_lb")
    assert alb["name"] == "catalog-api-alb-prod-eu-canary-1"
    assert len(alb["name"]) == 32, "the longest allowed suffix fills the ALB name exactly (F-8)"
    assert variant_synth.one("data", "aws_rds_cluster")["cluster_identifier"] == "catalog-api-aurora-prod-eu-canary-1"


def test_r16_everything_destroyable(synth: Synthesis) -> None:
    for stack, type_, name, body in synth.all_resources():
        where = f"{stack}/{type_}.{name}"
        assert body.get("deletion_protection") in (None, False), where
        assert body.get("enable_deletion_protection") in (None, False), where
        assert not body.get("lifecycle", {}).get("prevent_destroy"), where
        if type_ == "aws_s3_bucket":
            assert body["force_destroy"] is True, where
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["skip_final_snapshot"] is True
    assert cluster["deletion_protection"] is False


def test_r17_outputs_url_alb_db_cluster(synth: Synthesis) -> None:
    def output(stack: str, name: str) -> str:
        value: str = synth.stacks[stack]["output"][name]["value"]
        return value

    assert output("edge", "cloudfront_url") == "https://" + synth.ref(
        "edge", "aws_cloudfront_distribution", "domain_name"
    )
    assert output("app", "alb_dns_name").endswith(".dns_name}")
    assert output("app", "ecs_cluster_name").startswith("${aws_ecs_cluster.")
    assert output("data", "db_endpoint").endswith(".endpoint}")


def test_r18_local_state_relative_per_stack(synth: Synthesis) -> None:
    paths = {}
    for stack in STACKS:
        backend = synth.stacks[stack]["terraform"]["backend"]
        assert list(backend) == ["local"], stack
        path = backend["local"]["path"]
        assert not path.startswith("/"), "local state path must be relative"
        assert path == f"../../../.state/dev/{stack}.tfstate"
        paths[stack] = path
    assert len(set(paths.values())) == 4


def test_r18_s3_state_encrypted_locked_key_per_stack(variant_synth: Synthesis) -> None:
    keys = set()
    for stack in STACKS:
        backend = variant_synth.stacks[stack]["terraform"]["backend"]
        assert list(backend) == ["s3"], stack
        s3 = backend["s3"]
        assert s3 == {
            "bucket": "acme-catalog-tfstate",
            "key": f"prod-eu-canary-1/{stack}.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            # S3-native locking (Terraform >= 1.10), the default; DynamoDB only when a lock table is set.
            "use_lockfile": True,
        }
        keys.add(s3["key"])
    assert len(keys) == 4


def test_r18_remote_state_reads_use_the_producer_backend(variant_synth: Synthesis) -> None:
    for stack, producers in {"data": ["network"], "app": ["data", "network"], "edge": ["app"]}.items():
        remote = variant_synth.stacks[stack]["data"]["terraform_remote_state"]
        for producer in producers:
            ref = remote[f"cross-stack-reference-input-{producer}"]
            assert ref["backend"] == "s3"
            assert ref["config"]["key"] == f"prod-eu-canary-1/{producer}.tfstate"
            assert ref["config"]["bucket"] == "acme-catalog-tfstate"


def test_cross_stack_dependencies_follow_the_layer_order(synth: Synthesis) -> None:
    dependencies = {name: sorted(stack["dependencies"]) for name, stack in synth.manifest["stacks"].items()}
    assert dependencies == {"network": [], "data": ["network"], "app": ["data", "network"], "edge": ["app"]}


def test_cross_stack_remote_state_in_each_consumer(synth: Synthesis) -> None:
    assert "data" not in synth.stacks["network"] or "terraform_remote_state" not in synth.stacks["network"]["data"]
    for stack, producers in {"data": {"network"}, "app": {"data", "network"}, "edge": {"app"}}.items():
        remote = synth.stacks[stack]["data"]["terraform_remote_state"]
        assert {name.removeprefix("cross-stack-reference-input-") for name in remote} == producers
        for ref in remote.values():
            assert ref["backend"] == "local" and not ref["config"]["path"].startswith("/")


def test_producers_export_what_consumers_read(synth: Synthesis) -> None:
    for stack in ("data", "app", "edge"):
        text = synth.texts[stack]
        for producer, output in re.findall(r"cross-stack-reference-input-(\w+)\.outputs\.([\w-]+)", text):
            assert output in synth.stacks[producer]["output"], f"{stack} reads {producer}.{output}, not exported"


def test_r12_every_log_group_has_a_retention(synth: Synthesis) -> None:
    groups = [(stack, body) for stack, type_, _, body in synth.all_resources() if type_ == "aws_cloudwatch_log_group"]
    assert len(groups) == 4, "flow logs, postgresql export, container logs, WAF logs"
    for stack, group in groups:
        assert group["retention_in_days"] == 30, f"{stack}: {group['name']}"
