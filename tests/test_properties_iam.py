"""Properties of every IAM document the project writes: role policies, trust policies, bucket and topic policies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from tests.synth import Json, Synthesis

Statement = dict[str, Any]

# Wildcards a statement may keep, each with the reason no narrower resource exists.
DOCUMENTED_WILDCARD_RESOURCES = {
    ("ecr:GetAuthorizationToken", "*"): "ECR's authorization token is per account; the action takes no resource ARN",
}
# AWS managed policies the project attaches, each with the reason an inline policy would not do.
DOCUMENTED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": "AWS's policy for the Enhanced Monitoring role",
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers": (
        "AWS's policy for the role ECS shifts release traffic with; AWS adds the calls new ECS features make"
    ),
}
# The one service role whose service documents no confused-deputy condition key for assuming it
# (a condition the service does not send would make it fail): ECS's infrastructure role for load
# balancers, named by the service's advanced_configuration.role_arn. AWS's trust policy names no
# condition; only principals with iam:PassRole in this account can hand it to a service.
POLICY_ATTRIBUTES = {
    "aws_iam_role_policy": "policy",
    "aws_iam_policy": "policy",
    "aws_iam_role": "assume_role_policy",
    "aws_s3_bucket_policy": "policy",
    "aws_sns_topic_policy": "policy",
}


def _listed(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


# The CI deploy and plan roles and the workload boundary (bootstrap, when a GitHub repository is
# set) are built from shared/data/iam_actions.toml on ARN patterns, not references; their scope
# is asserted in tests/test_iam_table.py and tests/test_bootstrap.py, its limits are listed in
# docs/deployment.md.
CI_ROLE_POLICIES = ("github_deploy", "github_plan", "github_workload-boundary")


def _statements(synth: Synthesis, bootstrap: Json, *, ci_roles: bool = True) -> Iterator[tuple[str, Statement]]:
    """(where, statement) of every policy document in the four layers and the bootstrap stack."""
    resources = [*synth.all_resources()]
    resources += [
        ("bootstrap", type_, name, body)
        for type_, items in bootstrap.get("resource", {}).items()
        for name, body in items.items()
        if ci_roles or not name.startswith(CI_ROLE_POLICIES)
    ]
    for stack, type_, name, body in resources:
        attribute = POLICY_ATTRIBUTES.get(type_)
        if attribute is None:
            continue
        for index, statement in enumerate(json.loads(body[attribute])["Statement"]):
            yield f"{stack}/{type_}.{name}[{index}]", statement


def test_iam_statements_never_use_wildcard_resources_except_documented(synth: Synthesis, bootstrap_stack: Json) -> None:
    checked = 0
    for where, statement in _statements(synth, bootstrap_stack, ci_roles=False):
        if statement["Effect"] != "Allow" or "Resource" not in statement:
            continue
        actions = _listed(statement["Action"])
        for resource in _listed(statement["Resource"]):
            checked += 1
            documented = len(actions) == 1 and (actions[0], resource) in DOCUMENTED_WILDCARD_RESOURCES
            # Anchored on a resource of this project: its ARN, or a path below it.
            assert resource.startswith("${") or documented, f"{where}: {actions} on {resource!r}"
    assert checked >= 8


def test_allow_statements_never_use_wildcard_actions(synth: Synthesis, bootstrap_stack: Json) -> None:
    # Deny statements may (the TLS-only deny covers s3:*); an Allow names each action it needs.
    allows = [(w, s) for w, s in _statements(synth, bootstrap_stack, ci_roles=False) if s["Effect"] == "Allow"]
    assert allows
    for where, statement in allows:
        wide = [action for action in _listed(statement["Action"]) if "*" in action]
        assert not wide, f"{where}: {wide}"


def test_service_principals_are_limited_to_this_account(synth: Synthesis, bootstrap_stack: Json) -> None:
    # The confused-deputy guard: a service acting for another account cannot use the grant.
    services = [
        (w, s)
        for w, s in _statements(synth, bootstrap_stack)
        if isinstance(s.get("Principal"), dict) and "Service" in s["Principal"]
    ]
    roles = sum(1 for _, type_, _, _ in synth.all_resources() if type_ == "aws_iam_role")
    assert len(services) == roles + 1, "every service role's trust policy and the alarm topic's policy"
    release_role = synth.one("app", "aws_ecs_service")["load_balancer"][0]["advanced_configuration"]["role_arn"]
    exempt = "app/" + release_role.removeprefix("${").removesuffix(".arn}") + "[0]"
    assert exempt in {where for where, _ in services}
    for where, statement in services:
        if where == exempt:
            continue
        keys = {key for condition in statement.get("Condition", {}).values() for key in condition}
        assert keys & {"aws:SourceAccount", "aws:SourceArn"}, f"{where}: {statement['Principal']} for any account"


def test_only_documented_aws_managed_policies_are_attached(synth: Synthesis) -> None:
    attached = [
        (f"{stack}/{name}", body["policy_arn"])
        for stack, type_, name, body in synth.all_resources()
        if type_ == "aws_iam_role_policy_attachment"
    ]
    assert attached
    for where, arn in attached:
        assert arn in DOCUMENTED_MANAGED_POLICIES, f"{where}: {arn}"
