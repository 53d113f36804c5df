"""The account id and service roles, shared by every construct of a stack."""

from __future__ import annotations

from typing import cast

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.data_aws_caller_identity import DataAwsCallerIdentity
from cdktf_cdktf_provider_aws.iam_role import IamRole
from constructs import Construct

from shared.components.policy import service_trust

_ACCOUNT = "account"


def account_id(scope: Construct) -> str:
    """The deploying account's id, read by one aws_caller_identity data source per stack."""
    stack = TerraformStack.of(scope)
    existing = stack.node.try_find_child(_ACCOUNT)
    source = cast(DataAwsCallerIdentity, existing) if existing else DataAwsCallerIdentity(stack, _ACCOUNT)
    return source.account_id


def service_role(scope: Construct, id: str, *, name: str, service: str) -> IamRole:
    """A role only ``service`` can assume, and only on behalf of this account (confused-deputy guard)."""
    return IamRole(scope, id, name=name, assume_role_policy=service_trust(service, source_account=account_id(scope)))
