"""`make bootstrap`: the remote-state bucket (lock table only when asked), the GitHub OIDC deploy roles when a
repository is configured, and the settings it prints; all with its own local state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import main
from scripts import bootstrap
from shared import provider_loader
from shared.config import Config, StateConfig
from tests.synth import Json

GITHUB = Config(
    environment_suffix="prod",
    environment_name="prod",
    state=StateConfig(bucket="acme-catalog-tfstate-prod", bucket_region="eu-west-1"),
    github_repository="acme/catalog-api",
)


def _synthesize_bootstrap(config: Config) -> Json:
    provider_loader.enable()
    from cdktf import Testing

    app = Testing.app()
    main.build_bootstrap(app, config)
    app.synth()
    document: Json = json.loads((Path(app.outdir) / "stacks" / "bootstrap" / "cdk.tf.json").read_text())
    return document


@pytest.fixture(scope="module")
def stack() -> Json:
    """The bootstrap with every default: no state bucket configured yet, no lock table, no GitHub."""
    return _synthesize_bootstrap(Config())


@pytest.fixture(scope="module")
def github_stack() -> Json:
    """The bootstrap of a prod environment whose file names the bucket and the GitHub repository."""
    return _synthesize_bootstrap(GITHUB)


def _one(stack: Json, type_: str) -> Json:
    (body,) = stack["resource"][type_].values()
    return dict(body)


def _ref(stack: Json, type_: str, attribute: str) -> str:
    """The reference to ``attribute`` of the single ``type_`` resource."""
    (logical,) = stack["resource"][type_]
    return f"${{{type_}.{logical}.{attribute}}}"


def _policy(body: Json, key: str = "policy") -> Json:
    document: Json = json.loads(body[key])
    return document


def _role(stack: Json, name: str) -> Json:
    (role,) = [r for r in stack["resource"]["aws_iam_role"].values() if r["name"] == name]
    return dict(role)


def _statements(stack: Json, role_name: str) -> Iterator[dict[str, Any]]:
    """Every statement of the managed policies attached to ``role_name``."""
    policies = stack["resource"]["aws_iam_policy"]
    for attachment in stack["resource"]["aws_iam_role_policy_attachment"].values():
        role_ref = attachment["role"]
        if _role_logical(stack, role_name) not in role_ref:
            continue
        (logical,) = [n for n in policies if n in attachment["policy_arn"]]
        yield from _policy(policies[logical])["Statement"]


def _role_logical(stack: Json, name: str) -> str:
    (logical,) = [n for n, r in stack["resource"]["aws_iam_role"].items() if r["name"] == name]
    return f"aws_iam_role.{logical}."


def _as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def test_bootstrap_state_is_local_and_relative(stack: Json, github_stack: Json) -> None:
    assert stack["terraform"]["backend"] == {"local": {"path": "../../../.state/dev/bootstrap.tfstate"}}
    assert github_stack["terraform"]["backend"] == {"local": {"path": "../../../.state/prod/bootstrap.tfstate"}}, (
        "a configured state bucket must not move the bootstrap's own state into it"
    )


def test_state_bucket_versioned_encrypted_private_tls_only(stack: Json) -> None:
    bucket = _one(stack, "aws_s3_bucket")
    assert bucket["bucket"] == "catalog-api-tfstate-dev-${data.aws_caller_identity.account.account_id}"
    assert bucket["force_destroy"] is False, "destroying the bootstrap must not delete every layer's state"
    assert _one(stack, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    rule = _one(stack, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms", "state may hold secrets"
    assert rule["bucket_key_enabled"] is True
    block = _one(stack, "aws_s3_bucket_public_access_block")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    policy = _policy(_one(stack, "aws_s3_bucket_policy"))
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_bucket_named_and_placed_as_the_environment_file_says(github_stack: Json) -> None:
    assert _one(github_stack, "aws_s3_bucket")["bucket"] == "acme-catalog-tfstate-prod"
    assert github_stack["provider"]["aws"][0]["region"] == "eu-west-1"
    assert github_stack["output"]["state_bucket_region"]["value"] == "eu-west-1"


def test_no_lock_table_by_default(stack: Json, github_stack: Json) -> None:
    assert "aws_dynamodb_table" not in stack["resource"]
    assert "aws_dynamodb_table" not in github_stack["resource"]


def test_lock_table_only_when_asked_with_the_key_terraform_uses() -> None:
    document = _synthesize_bootstrap(Config(state=StateConfig(bucket="acme-state", lock_table="acme-tflock")))
    table = _one(document, "aws_dynamodb_table")
    assert table["name"] == "acme-tflock"
    assert table["hash_key"] == "LockID"
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["server_side_encryption"]["enabled"] is True
    assert document["output"]["state_lock_table"]["value"] == _ref(document, "aws_dynamodb_table", "name")


def test_outputs_are_the_environment_file_keys(stack: Json, github_stack: Json) -> None:
    assert set(stack["output"]) == {"state_bucket", "state_bucket_region"}
    assert stack["output"]["state_bucket_region"]["value"] == "eu-north-1"
    assert set(github_stack["output"]) == {"state_bucket", "state_bucket_region", "deploy_role_arn", "plan_role_arn"}


def test_no_github_provider_or_roles_without_a_repository(stack: Json) -> None:
    assert "aws_iam_openid_connect_provider" not in stack["resource"]
    assert "aws_iam_role" not in stack["resource"]


def test_github_oidc_provider_for_sts_without_a_thumbprint(github_stack: Json) -> None:
    provider = _one(github_stack, "aws_iam_openid_connect_provider")
    assert provider["url"] == "https://token.actions.githubusercontent.com"
    assert provider["client_id_list"] == ["sts.amazonaws.com"]
    assert "thumbprint_list" not in provider, "AWS trusts GitHub's endpoint through its CA library"


def test_deploy_role_trusts_only_main_and_the_environment(github_stack: Json) -> None:
    (statement,) = _policy(_role(github_stack, "catalog-api-deploy-prod"), "assume_role_policy")["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": _ref(github_stack, "aws_iam_openid_connect_provider", "arn")}
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                "repo:acme/catalog-api:ref:refs/heads/main",
                "repo:acme/catalog-api:environment:prod",
            ],
        }
    }


def test_plan_role_trusts_only_pull_requests_of_the_repository(github_stack: Json) -> None:
    (statement,) = _policy(_role(github_stack, "catalog-api-plan-prod"), "assume_role_policy")["Statement"]
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/catalog-api:pull_request"
    ]


def _granting(stack: Json, role_name: str, resource: str) -> list[str]:
    """Every action the role's Allow statements grant on exactly ``resource``."""
    return sorted(
        action
        for s in _statements(stack, role_name)
        if s["Effect"] == "Allow" and resource in _as_list(s["Resource"])
        for action in _as_list(s["Action"])
    )


def test_deploy_role_state_access_is_this_environments_objects_and_lock_files(github_stack: Json) -> None:
    bucket = _ref(github_stack, "aws_s3_bucket", "arn")
    assert _granting(github_stack, "catalog-api-deploy-prod", bucket) == ["s3:ListBucket"]
    assert _granting(github_stack, "catalog-api-deploy-prod", f"{bucket}/prod/*") == ["s3:GetObject", "s3:PutObject"]
    assert _granting(github_stack, "catalog-api-deploy-prod", f"{bucket}/prod/*.tflock") == [
        "s3:DeleteObject",
        "s3:GetObject",
        "s3:PutObject",
    ]
    by_sid = {s["Sid"]: s for s in _statements(github_stack, "catalog-api-deploy-prod") if "Sid" in s}
    assert by_sid["NeverTheStateBucketSettings"]["Effect"] == "Deny"


def test_deploy_role_resources_carry_the_project_prefix(github_stack: Json) -> None:
    bucket = _ref(github_stack, "aws_s3_bucket", "arn")
    # Names are catalog-api-*-prod (log groups /catalog-api/prod/); RDS names the master secret
    # rds!cluster-<id>; CloudFront ids and service-linked roles are generated; the default
    # pg:/og: groups are AWS's; ACM certificate ids and Route 53 change ids are generated, the
    # hosted zone is the one [domain] names by its id, and
    # Aurora Auto Scaling names the readers it adds application-autoscaling-<id>.
    project = ("catalog-api-", "/catalog-api/prod/", ":secret:rds!cluster-*", "aws-service-role/", ":pg:default*")
    generated = (
        ":distribution/*",
        ":vpcorigin/*",
        ":response-headers-policy/*",
        ":og:default*",
        "managedruleset/",
        ":certificate/*",
        ":::hostedzone/",
        ":::change/*",
        ":db:application-autoscaling-*",
    )
    for statement in _statements(github_stack, "catalog-api-deploy-prod"):
        if statement["Effect"] != "Allow":
            continue
        for arn in _as_list(statement["Resource"]):
            if arn == "*":
                assert statement["Condition"] == {
                    "StringEquals": {"aws:RequestedRegion": ["eu-north-1", "us-east-1"]}
                }, statement
                assert not any(a.startswith(("iam:", "s3:")) for a in _as_list(statement["Action"])), statement
            else:
                assert arn.startswith(bucket) or any(mark in arn for mark in (*project, *generated)), arn


def test_deploy_role_cannot_escalate_through_its_own_roles_or_admin_policies(github_stack: Json) -> None:
    statements = list(_statements(github_stack, "catalog-api-deploy-prod"))
    by_sid = {s["Sid"]: s for s in statements if "Sid" in s}
    deny = by_sid["NeverTheDeliveryRoles"]
    assert deny["Effect"] == "Deny" and deny["Action"] == "iam:*"
    assert {arn.rsplit("/", 1)[1] for arn in deny["Resource"]} == {"catalog-api-deploy-prod", "catalog-api-plan-prod"}
    (attach,) = [s for s in statements if "iam:AttachRolePolicy" in _as_list(s["Action"])]
    # AWS service-role policies and the one ECS release-traffic policy; never AdministratorAccess.
    assert attach["Condition"]["ArnLike"] == {
        "iam:PolicyARN": [
            "arn:aws:iam::aws:policy/service-role/*",
            "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers",
        ]
    }
    roles = "arn:aws:iam::${data.aws_caller_identity.account.account_id}:role/catalog-api-*-prod"
    assert {
        r
        for s in statements
        if s["Effect"] == "Allow" and s["Action"][0].startswith("iam:")
        for r in _as_list(s["Resource"])
    } <= {
        roles,
        *(
            f"arn:aws:iam::${{data.aws_caller_identity.account.account_id}}:role/aws-service-role/{service}/*"
            for service in (
                "ecs.amazonaws.com",
                "elasticloadbalancing.amazonaws.com",
                "rds.amazonaws.com",
                "ecs.application-autoscaling.amazonaws.com",
                "rds.application-autoscaling.amazonaws.com",
                "vpcorigin.cloudfront.amazonaws.com",
            )
        ),
    }


def test_plan_role_only_reads_apart_from_the_state_lock(github_stack: Json) -> None:
    for statement in _statements(github_stack, "catalog-api-plan-prod"):
        assert statement["Effect"] == "Allow"
        writes = [
            a
            for a in _as_list(statement["Action"])
            if not a.split(":", 1)[1].startswith(("Describe", "Get", "List", "Check", "Validate"))
        ]
        if writes:
            assert _as_list(statement["Resource"]) == [f"{_ref(github_stack, 'aws_s3_bucket', 'arn')}/prod/*.tflock"], (
                statement
            )


def test_settings_print_the_environment_file_keys_and_ci_variables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "ROOT", tmp_path)
    assert bootstrap.main(["check"], {}) == 0, "nothing deployed yet: go ahead"
    assert bootstrap.main(["settings"], {}) == 1, "no settings before the first bootstrap"
    path = tmp_path / ".state" / "dev" / "bootstrap.tfstate"
    path.parent.mkdir(parents=True)
    outputs = {
        "state_bucket": {"value": "catalog-api-tfstate-dev-123456789012"},
        "state_bucket_region": {"value": "eu-north-1"},
    }
    path.write_text(json.dumps({"resources": [{"type": "aws_s3_bucket"}], "outputs": outputs}))
    capsys.readouterr()
    assert bootstrap.main(["check"], {}) == 0, "bootstrapping again updates in place"
    assert "already bootstrapped" in capsys.readouterr().err
    assert bootstrap.main(["settings"], {}) == 0
    assert capsys.readouterr().out.splitlines() == [
        "# Remote state is ready. In environments/dev.toml:",
        "[state]",
        'bucket = "catalog-api-tfstate-dev-123456789012"',
        'bucket_region = "eu-north-1"',
    ]


def test_settings_name_the_github_variables_when_roles_exist() -> None:
    outputs = {
        "state_bucket": "b",
        "state_bucket_region": "eu-north-1",
        "deploy_role_arn": "arn:aws:iam::123456789012:role/catalog-api-deploy-prod",
        "plan_role_arn": "arn:aws:iam::123456789012:role/catalog-api-plan-prod",
    }
    lines = bootstrap.settings_lines(outputs, GITHUB)
    assert any(
        'environment "prod": AWS_DEPLOY_ROLE_ARN=arn:aws:iam::123456789012:role/catalog-api-deploy-prod' in line
        for line in lines
    )
    assert any("AWS_PLAN_ROLE_ARN=arn:aws:iam::123456789012:role/catalog-api-plan-prod" in line for line in lines)


def test_bootstrap_refuses_bad_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert bootstrap.main(["check"], {"CATALOG_OVERRIDES": "ENVIRONMENT_SUFFIX", "ENVIRONMENT_SUFFIX": "Bad"}) == 2
    assert "ENVIRONMENT_SUFFIX" in capsys.readouterr().err


def test_bootstrap_refuses_a_malformed_github_repository(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "load_config", lambda environ: Config(github_repository="https://github.com/acme"))
    assert bootstrap.main(["check"], {}) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line == (
        "configuration error: github_repository='https://github.com/acme' is not a GitHub repository: "
        "use owner/name (e.g. acme/catalog-api)"
    )
