"""S-06 / issue 15 finding 1: the CI roles follow the layers through the reviewed table
shared/data/iam_actions.toml, and every role the deploy role may create carries the
workload permissions boundary."""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from shared import iam_table
from shared.config import Config, DomainConfig
from tests.synth import Json, Synthesis, synthesize
from tests.test_bootstrap import GITHUB, _synthesize_bootstrap

ACCOUNT = "${data.aws_caller_identity.account.account_id}"
# Read-only calls by IAM's own naming, written here rather than taken from the code under test.
READ_ONLY_VERBS = ("Describe", "Get", "List", "Check", "Validate")
# Rows for types no layer contains yet; none: a row without a type is stale.
PENDING: set[str] = set()
# Workload-role actions that come from AWS managed policies rather than the synthesized JSON.
MANAGED_POLICY_ACTIONS = {
    # AmazonRDSEnhancedMonitoringRole (IAM console / AWS managed policy reference, read 2026-11-29).
    "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole": [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "logs:DescribeLogStreams",
        "logs:GetLogEvents",
    ],
    # AmazonECSInfrastructureRolePolicyForLoadBalancers (AWS managed policy reference, read 2026-11-29).
    "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers": [
        "elasticloadbalancing:DescribeListeners",
        "elasticloadbalancing:DescribeRules",
        "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:RegisterTargets",
        "elasticloadbalancing:DeregisterTargets",
        "elasticloadbalancing:ModifyListener",
        "elasticloadbalancing:ModifyRule",
    ],
}
ROLE_WRITES_NEEDING_THE_BOUNDARY = (
    "iam:CreateRole",
    "iam:PutRolePermissionsBoundary",
    "iam:PutRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:AttachRolePolicy",
    "iam:DetachRolePolicy",
)


@pytest.fixture(scope="module")
def rows() -> tuple[iam_table.Row, ...]:
    return iam_table.load()


@pytest.fixture(scope="module")
def every_synthesis(
    synth: Synthesis, variant_synth: Synthesis, production_synth: Synthesis, domain_synth: Synthesis
) -> list[Synthesis]:
    """The default, every tests/environments file, environments/prod.toml and a production-shaped config."""
    lock = synthesize({"ENV": "dynamodb-lock", "CATALOG_ENVIRONMENTS_DIR": "tests/environments"})
    prod = synthesize({"ENV": "prod"})
    return [synth, variant_synth, production_synth, lock, prod, domain_synth]


def _types(synthesis: Synthesis) -> set[str]:
    found: set[str] = set()
    for doc in synthesis.stacks.values():
        found |= set(doc.get("resource", {}))
        found |= {f"data.{t}" for t in doc.get("data", {})}
        found |= {f"ephemeral.{t}" for t in doc.get("ephemeral", {})}
        backend = doc["terraform"]["backend"]
        if "s3" in backend:
            found.add("backend.s3")
            if backend["s3"].get("dynamodb_table"):
                found.add("backend.s3.dynamodb_table")
    return found


def test_s06_every_synthesized_type_has_a_row(
    rows: tuple[iam_table.Row, ...], every_synthesis: list[Synthesis]
) -> None:
    synthesized = set().union(*(_types(s) for s in every_synthesis))
    tabled = {row.type for row in rows}
    assert not synthesized - tabled, f"add rows to shared/data/iam_actions.toml for {sorted(synthesized - tabled)}"
    assert tabled - synthesized == PENDING, "a row for a type no layer contains (remove it or list it as pending)"
    assert len(synthesized) >= 60


def test_s06_each_row_names_a_source_and_star_grants_say_why(rows: tuple[iam_table.Row, ...]) -> None:
    assert len({row.type for row in rows}) == len(rows), "one row per type"
    for row in rows:
        assert row.source.strip(), row.type
        if row.type.startswith(("aws_", "data.aws_")):
            # The provider's service code at 6.25.0, or an AWS page (Service Authorization Reference, a guide).
            assert "internal/service/" in row.source or "SAR" in row.source or "guide" in row.source, row.type
        for grant in row.grants:
            if grant.resources == ("*",):
                assert grant.star, row.type


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[[row]]\ntype = "aws_x"\nlayers = []\nsource = ""\nno_api = "none"\n', "aws_x: every row names its source"),
        (
            '[[row]]\ntype = "aws_x"\nlayers = []\nsource = "s"\n[[row.grant]]\nread = ["x:Get"]\nresources = ["*"]\n',
            'aws_x: resources = ["*"] needs a star = "why IAM cannot narrow it"',
        ),
        (
            '[[row]]\ntype = "aws_x"\nlayers = []\nsource = "s"\n[[row.grant]]\nread = ["x:Put"]\nresources = ["a"]\n',
            "aws_x: x:Put is not a read call",
        ),
        (
            '[[row]]\ntype = "aws_x"\nlayers = []\nsource = "s"\n[[row.grant]]\nread = ["x:Get"]\nresources = ["{acount}"]\n',
            "aws_x: unknown placeholder {acount}; allowed: account,",
        ),
    ],
)
def test_s06_a_malformed_row_is_refused_with_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "table.toml"
    path.write_text(text)
    with pytest.raises(iam_table.TableError) as error:
        iam_table.load(path)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


# ---------------------------------------------------------------- the roles built from the table

LOCKED = replace(GITHUB, state=replace(GITHUB.state, lock_table="acme-catalog-tflock", use_lockfile=False))
ZONE_ID = "Z0123456789ABCDEFGHIJ"
ZONED = replace(GITHUB, domain=DomainConfig(name="api.shop.example", hosted_zone_id=ZONE_ID, zone_name="shop.example"))
CI_CONFIGS = {"lockfile": GITHUB, "lock-table": LOCKED, "domain": ZONED}


@pytest.fixture(scope="module", params=list(CI_CONFIGS))
def ci_stack(request: pytest.FixtureRequest) -> Json:
    return _synthesize_bootstrap(CI_CONFIGS[request.param])


def _config_of(stack: Json) -> Config:
    if "aws_dynamodb_table" in stack["resource"]:
        return LOCKED
    return ZONED if ZONE_ID in json.dumps(stack) else GITHUB


def _ref(stack: Json, type_: str, attribute: str) -> str:
    (logical,) = stack["resource"][type_]
    return f"${{{type_}.{logical}.{attribute}}}"


def _boundary_arn(suffix: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:policy/catalog-api-workload-boundary-{suffix}"


def _placeholders(stack: Json, config: Config) -> iam_table.Placeholders:
    lock = stack["resource"].get("aws_dynamodb_table")
    return iam_table.Placeholders(
        region=config.region,
        global_region="us-east-1",
        account=ACCOUNT,
        project="catalog-api",
        suffix=config.environment_suffix,
        state_bucket=_ref(stack, "aws_s3_bucket", "arn"),
        state_prefix=config.environment_suffix,
        boundary=_boundary_arn(config.environment_suffix),
        lock_table=_ref(stack, "aws_dynamodb_table", "arn") if lock else None,
        zone=config.domain.hosted_zone_id if config.domain is not None else None,
    )


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _role_statements(stack: Json, role_name: str) -> Iterator[dict[str, Any]]:
    (logical,) = [n for n, r in stack["resource"]["aws_iam_role"].items() if r["name"] == role_name]
    policies = stack["resource"]["aws_iam_policy"]
    for attachment in stack["resource"]["aws_iam_role_policy_attachment"].values():
        if f"aws_iam_role.{logical}." not in attachment["role"]:
            continue
        (policy,) = [p for n, p in policies.items() if f"aws_iam_policy.{n}." in attachment["policy_arn"]]
        yield from json.loads(policy["policy"])["Statement"]


def _allows(statements: list[dict[str, Any]], action: str, resources: list[str], condition: Any) -> bool:
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        if not any(fnmatch.fnmatchcase(action, granted) for granted in _listed(statement["Action"])):
            continue
        if not set(resources) <= set(_listed(statement["Resource"])):
            continue
        given = statement.get("Condition")
        if resources == ["*"] and condition is None:
            if given and "eu-north-1" in given["StringEquals"]["aws:RequestedRegion"]:
                return True
        elif given == condition:
            return True
    return False


def _missing(stack: Json, config: Config, rows: tuple[iam_table.Row, ...], role: str, *, plan: bool) -> list[str]:
    placeholders = _placeholders(stack, config)
    values = placeholders.values()
    statements = list(_role_statements(stack, role))
    missing = []
    for row in rows:
        for grant in row.grants:
            rendered = iam_table._render(list(grant.resources), values)
            if any("None" in r for r in rendered):
                continue  # names the lock table or the zone, which this environment does not have
            condition = iam_table._render(grant.condition, values) if grant.condition else None
            for action in iam_table.actions(grant, plan=plan):
                if not _allows(statements, action, rendered, condition):
                    missing.append(f"{row.type}: {action} on {rendered}")
    return missing


def test_s06_deploy_role_has_every_action_a_row_requires(ci_stack: Json, rows: tuple[iam_table.Row, ...]) -> None:
    assert not _missing(ci_stack, _config_of(ci_stack), rows, "catalog-api-deploy-prod", plan=False)


def test_s06_plan_role_has_every_read_action_a_row_requires(ci_stack: Json, rows: tuple[iam_table.Row, ...]) -> None:
    assert not _missing(ci_stack, _config_of(ci_stack), rows, "catalog-api-plan-prod", plan=True)


def test_s06_the_roles_have_what_the_issue_found_missing(ci_stack: Json) -> None:
    deploy = list(_role_statements(ci_stack, "catalog-api-deploy-prod"))
    plan = list(_role_statements(ci_stack, "catalog-api-plan-prod"))
    rds = f"arn:aws:rds:eu-north-1:{ACCOUNT}"
    # IAM grants GetRandomPassword only on "*" (Service Authorization Reference, Secrets Manager).
    # The deploy stores the admin token's value with it; no plan calls it any more (no data
    # source or ephemeral resource draws a password), so the plan role does not need it.
    assert _allows(deploy, "secretsmanager:GetRandomPassword", ["*"], None)
    assert not _allows(plan, "secretsmanager:GetRandomPassword", ["*"], None)
    assert _allows(deploy, "rds:CreateDBInstance", [f"{rds}:pg:default*", f"{rds}:og:default*"], None)
    assert _allows(deploy, "rds:CreateDBClusterSnapshot", [f"{rds}:cluster-snapshot:catalog-api-*-prod"], None)
    assert _allows(plan, "application-autoscaling:ListTagsForResource", ["*"], None)


def test_s06_plan_role_reads_only_and_never_a_secret_value(ci_stack: Json) -> None:
    lock_objects = f"{_ref(ci_stack, 'aws_s3_bucket', 'arn')}/prod/*.tflock"
    statements = list(_role_statements(ci_stack, "catalog-api-plan-prod"))
    assert statements
    for statement in statements:
        assert statement["Effect"] == "Allow"
        actions = _listed(statement["Action"])
        assert not [a for a in actions if fnmatch.fnmatchcase("secretsmanager:GetSecretValue", a)], statement
        writes = [a for a in actions if not a.split(":", 1)[1].startswith(READ_ONLY_VERBS)]
        if writes:
            lock_table = ci_stack["resource"].get("aws_dynamodb_table")
            allowed = [lock_objects] + ([_ref(ci_stack, "aws_dynamodb_table", "arn")] if lock_table else [])
            assert set(_listed(statement["Resource"])) <= set(allowed), statement


def test_s06_role_policies_fit_the_managed_policy_quota(ci_stack: Json) -> None:
    policies = [p for n, p in ci_stack["resource"]["aws_iam_policy"].items() if n.startswith("github_")]
    assert len(policies) >= 4, "the deploy and plan roles' policies"
    for policy in policies:
        # IAM's quota: 6,144 characters of a managed policy without whitespace (IAM user guide,
        # "IAM and AWS STS quotas", read 2026-11-29); the account id counts 12, any other token 120.
        text = json.dumps(json.loads(policy["policy"]), separators=(",", ":"))
        text = text.replace("${data.aws_caller_identity.account.account_id}", "0" * 12)
        text = re.sub(r"\$\{[^}]+\}", "x" * 120, text)
        assert len(text) <= 6144, len(text)
    for role in ("catalog-api-deploy-prod", "catalog-api-plan-prod"):
        (logical,) = [n for n, r in ci_stack["resource"]["aws_iam_role"].items() if r["name"] == role]
        attached = [a for a in ci_stack["resource"]["aws_iam_role_policy_attachment"].values() if logical in a["role"]]
        assert len(attached) <= 10, "IAM's default quota of managed policies per role"


# ---------------------------------------------------------------- the permissions boundary


def test_s06_deploy_role_writes_roles_only_with_the_boundary(ci_stack: Json) -> None:
    boundary = _boundary_arn("prod")
    statements = list(_role_statements(ci_stack, "catalog-api-deploy-prod"))
    covered: set[str] = set()
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions = _listed(statement["Action"])
        writes = {a for a in ROLE_WRITES_NEEDING_THE_BOUNDARY for g in actions if fnmatch.fnmatchcase(a, g)}
        if writes:
            covered |= writes
            assert statement["Condition"]["StringEquals"]["iam:PermissionsBoundary"] == boundary, statement
        assert not any(a.startswith(("iam:CreatePolicy", "iam:DeletePolicy", "iam:SetDefault")) for a in actions)
        assert "iam:DeleteRolePermissionsBoundary" not in actions
    assert covered == set(ROLE_WRITES_NEEDING_THE_BOUNDARY)
    denies = {s["Sid"]: s for s in statements if s["Effect"] == "Deny"}
    assert denies["NeverTheBoundaryPolicy"]["Resource"] == boundary
    assert {"iam:CreatePolicyVersion", "iam:DeletePolicy", "iam:SetDefaultPolicyVersion"} <= set(
        denies["NeverTheBoundaryPolicy"]["Action"]
    )
    assert denies["NeverDropTheBoundary"]["Action"] == "iam:DeleteRolePermissionsBoundary"


def _layer_roles(synthesis: Synthesis) -> list[tuple[str, Json]]:
    return [(f"{stack}/{name}", body) for stack, t, name, body in synthesis.all_resources() if t == "aws_iam_role"]


def test_s06_every_layer_role_carries_the_boundary_bootstrap_creates(
    variant_synth: Synthesis, bootstrap_stack: Json
) -> None:
    suffix = "prod-eu-canary-1"  # tests/environments/variant.toml, which sets github_repository
    (policy,) = [p for p in bootstrap_stack["resource"]["aws_iam_policy"].values() if "boundary" in p["name"]]
    assert policy["name"] == f"catalog-api-workload-boundary-{suffix}"
    roles = _layer_roles(variant_synth)
    assert len(roles) >= 6
    for where, role in roles:
        assert role.get("permissions_boundary") == _boundary_arn(suffix), where


def test_s06_no_boundary_without_a_ci_deploy_role(synth: Synthesis) -> None:
    # Nothing creates the policy then: a boundary would make every CreateRole fail.
    assert all("permissions_boundary" not in role for _, role in _layer_roles(synth))


def test_s06_boundary_allows_every_action_the_workload_roles_use(
    variant_synth: Synthesis, bootstrap_stack: Json
) -> None:
    (policy,) = [p for p in bootstrap_stack["resource"]["aws_iam_policy"].values() if "boundary" in p["name"]]
    allowed = [a for s in json.loads(policy["policy"])["Statement"] for a in _listed(s["Action"])]
    used: list[tuple[str, str]] = []
    for stack, type_, name, body in variant_synth.all_resources():
        if type_ == "aws_iam_role_policy":
            for statement in json.loads(body["policy"])["Statement"]:
                used += [(f"{stack}/{name}", a) for a in _listed(statement["Action"])]
        if type_ == "aws_iam_role_policy_attachment":
            used += [(f"{stack}/{name}", a) for a in MANAGED_POLICY_ACTIONS[body["policy_arn"]]]
    assert len(used) >= 10
    outside = [(where, a) for where, a in used if not any(fnmatch.fnmatchcase(a, g) for g in allowed)]
    assert not outside, f"the workload boundary would cut these: {outside}"


def test_s06_boundary_names_only_this_projects_resources(bootstrap_stack: Json) -> None:
    (policy,) = [p for p in bootstrap_stack["resource"]["aws_iam_policy"].values() if "boundary" in p["name"]]
    for statement in json.loads(policy["policy"])["Statement"]:
        assert "*" not in "".join(_listed(statement["Action"])), statement
        for resource in _listed(statement["Resource"]):
            if resource == "*":
                assert all(
                    a.split(":", 1)[1].startswith(("Describe", "GetAuthorizationToken"))
                    for a in _listed(statement["Action"])
                )
            else:
                assert any(m in resource for m in ("catalog-api-", "/catalog-api/", ":RDS*", "rds!cluster-")), resource


def test_s06_docs_state_the_tables_size(rows: tuple[iam_table.Row, ...]) -> None:
    types, actions, reads = iam_table.summary(rows)
    root = Path(__file__).resolve().parents[1]
    for doc in ("docs/deployment.md", "docs/security.md"):
        text = " ".join((root / doc).read_text().split())
        assert f"{types} types" in text, doc
        assert f"{actions} distinct" in text and f"{reads} of them read calls" in text, doc


def test_s06_a_sensitive_call_goes_to_the_deploy_role_only() -> None:
    # No row has one today (no layer manages a secret version); a future row must still never
    # hand the pull-request plan role a call that returns a secret value.
    grant = iam_table.Grant(
        read=("secretsmanager:DescribeSecret",),
        write=("secretsmanager:PutSecretValue",),
        sensitive=("secretsmanager:GetSecretValue",),
        resources=("arn:aws:secretsmanager:{region}:{account}:secret:{name}-*",),
    )
    assert iam_table.actions(grant, plan=True) == ("secretsmanager:DescribeSecret",)
    assert "secretsmanager:GetSecretValue" in iam_table.actions(grant, plan=False)


# AWS CLI calls the deploy path's scripts make with the deploying credentials (the CI deploy role).
_CLI_CALL = re.compile(r'"(ecr|secretsmanager|rds|acm|s3api|sts)",\s*"([a-z][a-z-]*)"')
# CLI commands whose IAM action is not their own name.
_CLI_ACTIONS = {
    ("ecr", "get-login-password"): "ecr:GetAuthorizationToken",
    ("rds", "wait"): "rds:DescribeDBInstances",
    ("sts", "get-caller-identity"): None,  # needs no permission (SAR: AWS STS)
}


def test_s06_every_aws_cli_call_of_the_deploy_scripts_is_in_the_table(rows: tuple[iam_table.Row, ...]) -> None:
    granted = {
        action.lower()
        for row in rows
        for grant in row.grants
        for action in (*grant.read, *grant.write, *grant.sensitive)
    }
    calls = {
        (service, command)
        for script in sorted((Path(__file__).resolve().parents[1] / "scripts").glob("*.py"))
        for service, command in _CLI_CALL.findall(script.read_text())
    }
    assert ("acm", "list-certificates") in calls and ("secretsmanager", "put-secret-value") in calls
    missing = []
    for service, command in sorted(calls):
        action = _CLI_ACTIONS.get(
            (service, command), f"{'s3' if service == 's3api' else service}:{command.title().replace('-', '')}"
        )
        if action is not None and action.lower() not in granted:
            missing.append(f"aws {service} {command} -> {action}")
    assert missing == [], "add these to shared/data/iam_actions.toml"


def test_s06_the_deploy_role_writes_records_in_the_environments_own_zone_only(ci_stack: Json) -> None:
    statements = list(_role_statements(ci_stack, "catalog-api-deploy-prod"))
    writes = [
        resource
        for statement in statements
        if "route53:ChangeResourceRecordSets" in _listed(statement["Action"])
        for resource in _listed(statement["Resource"])
    ]
    zone = _config_of(ci_stack).domain
    if zone is None:
        assert writes == [], "no [domain] zone: no Route 53 record may be written"
    else:
        assert writes == [f"arn:aws:route53:::hostedzone/{ZONE_ID}"]


# A type's name token and the IAM service prefix of its own ARNs, where they differ.
TYPE_SERVICES = {
    "lb": {"elasticloadbalancing"},
    "db": {"rds"},
    "sfn": {"states"},
    "appautoscaling": {"application-autoscaling"},
    "cloudwatch": {"logs", "cloudwatch", "events"},
    "security": {"ec2"},
    "vpc": {"ec2"},
    "subnet": {"ec2"},
}


def _provider_regions(doc: Json) -> dict[str | None, str]:
    """Region of each AWS provider of a stack, by alias (None: the default provider)."""
    return {provider.get("alias"): provider["region"] for provider in doc["provider"]["aws"]}


def test_s06_every_row_covers_each_region_its_type_is_created_in(
    rows: tuple[iam_table.Row, ...], every_synthesis: list[Synthesis]
) -> None:
    # A grant on arn:aws:acm:{global}:… (us-east-1) does nothing for a certificate the app layer
    # requests in the deploy region: AccessDenied on the first CI apply with a [domain] zone.
    by_type = {row.type: row for row in rows}
    uncovered: set[str] = set()
    for synthesis in every_synthesis:
        for stack, type_, name, body in synthesis.all_resources():
            regions = _provider_regions(synthesis.stacks[stack])
            alias = body.get("provider", "aws").removeprefix("aws").removeprefix(".") or None
            region = regions[alias]
            placeholder = "{global}" if region == "us-east-1" and alias is not None else "{region}"
            for grant in by_type[type_].grants:
                # The type's own service (aws_acm_certificate: acm); a grant on another service's ARN
                # (a CloudFront distribution naming its us-east-1 web ACL) is about that resource.
                services = TYPE_SERVICES.get(type_.split("_")[1], {type_.split("_")[1]})
                regional = [
                    arn
                    for arn in grant.resources
                    if arn.count(":") >= 3 and arn.split(":")[2] in services and arn.split(":")[3]
                ]
                if regional and not any(arn.split(":")[3] in (placeholder, "*") for arn in regional):
                    uncovered.add(f"{type_} ({stack}/{name} in {region}): {', '.join(regional)}")
    assert not uncovered, sorted(uncovered)


def test_s06_each_row_names_every_layer_its_type_is_in(
    rows: tuple[iam_table.Row, ...], every_synthesis: list[Synthesis]
) -> None:
    layers: dict[str, set[str]] = {}
    for synthesis in every_synthesis:
        for stack, doc in synthesis.stacks.items():
            for type_ in doc.get("resource", {}):
                layers.setdefault(type_, set()).add(stack)
            for type_ in doc.get("data", {}):
                layers.setdefault(f"data.{type_}", set()).add(stack)
    missing = {row.type: sorted(layers[row.type] - set(row.layers)) for row in rows if row.type in layers}
    assert not {type_: stacks for type_, stacks in missing.items() if stacks}
