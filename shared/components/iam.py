"""The account id and service roles, shared by every construct of a stack."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from shared.components.policy import Statement, policy_document, service_trust

_ACCOUNT = "account"


def account_id(scope: Construct) -> str:
    """The deploying account's id, read by one aws_caller_identity data source per stack."""
    stack = TerraformStack.of(scope)
    existing = stack.node.try_find_child(_ACCOUNT)
    source = cast(DataAwsCallerIdentity, existing) if existing else DataAwsCallerIdentity(stack, _ACCOUNT)
    return source.account_id


@dataclass(frozen=True, kw_only=True)
class InlinePolicy:
    """The one inline policy a service role is written with."""

    id: str
    """Construct id of the aws_iam_role_policy, e.g. execution-policy."""
    name: str
    """Policy name inside the role, e.g. pull-log-read-db-secret."""
    statements: Sequence[Statement]
    """Its statements; every Resource names what the role may touch."""


def service_role(
    scope: Construct,
    id: str,
    *,
    name: str,
    service: str,
    permissions_boundary: str | None,
    policy: InlinePolicy | None = None,
) -> IamRole:
    """A role only ``service`` can assume, only on behalf of this account (confused-deputy guard), with its policy.

    ``permissions_boundary`` is the ARN of the policy that caps it (the CI deploy role may
    create roles only with it); None for none.
    """
    role = IamRole(
        scope,
        id,
        name=name,
        assume_role_policy=service_trust(service, source_account=account_id(scope)),
        permissions_boundary=permissions_boundary,
    )
    if policy is not None:
        IamRolePolicy(scope, policy.id, name=policy.name, role=role.id, policy=policy_document(list(policy.statements)))
    return role
