"""Properties of every network path: security group rules as narrow as the flow, and one port end to end.

Rules are compared by the security groups they join, resolved across layers: a rule in the
app layer that names the data layer's group through remote state is matched with the rule
the data layer holds for the same pair.
"""

from __future__ import annotations

import json
import re
from typing import Any

from tests.synth import STACKS, Synthesis

Json = dict[str, Any]
Group = tuple[str, str]
"""A security group as (layer that owns it, logical name)."""

# The only flows allowed to leave for a CIDR, each with the reason it cannot name a group.
DOCUMENTED_INTERNET_EGRESS = {
    ("0.0.0.0/0", 443): "tasks call AWS APIs (ECR, Secrets Manager, CloudWatch Logs) and the registry through NAT",
}
_REMOTE = re.compile(r"\$\{data\.terraform_remote_state\.cross-stack-reference-input-(\w+)\.outputs\.([\w-]+)\}")
_LOCAL_GROUP = re.compile(r"\$\{aws_security_group\.([\w-]+)\.id\}")


def _group(synth: Synthesis, stack: str, value: str) -> Group:
    """The security group a rule attribute names, following remote-state outputs to their producer."""
    remote = _REMOTE.fullmatch(value)
    if remote:
        producer, output = remote.groups()
        return _group(synth, producer, synth.stacks[producer]["output"][output]["value"])
    local = _LOCAL_GROUP.fullmatch(value)
    assert local, f"{stack}: {value!r} is not a reference to a security group"
    return stack, local.group(1)


def _rules(synth: Synthesis, direction: str) -> list[tuple[str, str, Json]]:
    type_ = f"aws_vpc_security_group_{direction}_rule"
    return [(stack, name, body) for stack in STACKS for name, body in synth.resources(stack, type_).items()]


def test_no_security_group_egress_wider_than_needed(synth: Synthesis) -> None:
    egress = _rules(synth, "egress")
    assert egress
    for stack, name, rule in egress:
        where = f"{stack}/{name}"
        assert rule["ip_protocol"] == "tcp", f"{where}: every protocol allowed"
        assert rule["from_port"] == rule["to_port"], f"{where}: a port range instead of one port"
        if "referenced_security_group_id" in rule:
            continue
        destination = (rule.get("cidr_ipv4"), rule["from_port"])
        assert destination in DOCUMENTED_INTERNET_EGRESS, f"{where}: egress to {destination} is not documented"
        assert not {"cidr_ipv6", "prefix_list_id"} & set(rule), where


def test_every_ingress_rule_admits_one_port_from_a_group_or_prefix_list(synth: Synthesis) -> None:
    ingress = _rules(synth, "ingress")
    assert ingress
    for stack, name, rule in ingress:
        where = f"{stack}/{name}"
        assert rule["ip_protocol"] == "tcp", where
        assert rule["from_port"] == rule["to_port"], f"{where}: a port range instead of one port"
        sources = {"referenced_security_group_id", "prefix_list_id", "cidr_ipv4", "cidr_ipv6"} & set(rule)
        assert len(sources) == 1 and sources <= {"referenced_security_group_id", "prefix_list_id"}, where


def test_security_group_rules_between_groups_pair_up_across_layers(synth: Synthesis) -> None:
    # Terraform-managed groups have no default egress: a flow needs egress on its source and
    # ingress on its target, on the same port, or it is silently dropped.
    def flows(direction: str) -> set[tuple[Group, Group, int]]:
        found = set()
        for stack, _, rule in _rules(synth, direction):
            if "referenced_security_group_id" not in rule:
                continue
            own = _group(synth, stack, rule["security_group_id"])
            other = _group(synth, stack, rule["referenced_security_group_id"])
            source, target = (own, other) if direction == "egress" else (other, own)
            found.add((source, target, rule["from_port"]))
        return found

    egress, ingress = flows("egress"), flows("ingress")
    assert egress, "the ALB and the tasks reach their targets through group-to-group rules"
    assert egress - ingress == set(), "egress that no ingress admits"
    assert ingress - egress == set(), "ingress that no egress sends"


def test_security_groups_carry_no_inline_rules(synth: Synthesis) -> None:
    # Inline rules and separate rule resources on one group fight each other on every apply.
    for stack in STACKS:
        for type_ in ("aws_security_group", "aws_default_security_group"):
            for name, group in synth.resources(stack, type_).items():
                assert "ingress" not in group and "egress" not in group, f"{stack}/{name}"


def test_container_port_matches_port_env_target_group_and_security_groups(
    synth: Synthesis, production_synth: Synthesis
) -> None:
    for synthesis in (synth, production_synth):
        task = synthesis.one("app", "aws_ecs_task_definition")
        (container,) = json.loads(task["container_definitions"])
        (mapping,) = container["portMappings"]
        port = mapping["containerPort"]
        environment = {e["name"]: e["value"] for e in container["environment"]}
        if "PORT" in environment:
            assert environment["PORT"] == str(port), "the API listens where ECS maps"
        else:
            assert f"listen {port};" in environment["PLACEHOLDER_NGINX_CONF"], "the placeholder listens where ECS maps"
        service = synthesis.one("app", "aws_ecs_service")
        assert [lb["container_port"] for lb in service["load_balancer"]] == [port]
        group = synthesis.primary_target_group()
        assert group["port"] == port and group["health_check"]["port"] == "traffic-port"
        (tasks_group,) = service["network_configuration"]["security_groups"]
        (alb_group,) = synthesis.one("app", "aws_lb")["security_groups"]
        tasks, alb = _group(synthesis, "app", tasks_group), _group(synthesis, "app", alb_group)
        into_tasks = [
            r
            for stack, _, r in _rules(synthesis, "ingress")
            if _group(synthesis, stack, r["security_group_id"]) == tasks
        ]
        out_of_alb = [
            r for stack, _, r in _rules(synthesis, "egress") if _group(synthesis, stack, r["security_group_id"]) == alb
        ]
        assert into_tasks and out_of_alb
        assert {(r["from_port"], r["to_port"]) for r in into_tasks + out_of_alb} == {(port, port)}
        listener = synthesis.production_listener()
        into_alb = [
            r for stack, _, r in _rules(synthesis, "ingress") if _group(synthesis, stack, r["security_group_id"]) == alb
        ]
        assert {(r["from_port"], r["to_port"]) for r in into_alb} == {(listener["port"], listener["port"])}
