"""A Secrets Manager secret whose value AWS generates and Terraform never stores, e.g. the API's admin token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cdktf import TerraformStack
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct

# An ephemeral resource is opened on every plan and apply and never written to state or plan
# (Terraform >= 1.10); a write-only argument is sent to the provider and never stored (>= 1.11).
# https://developer.hashicorp.com/terraform/language/resources/ephemeral and
# https://developer.hashicorp.com/terraform/language/resources/ephemeral/write-only, read 2026-11-29.
# No terraform.required_version for it: checkov 3.3's JSON parser fails on that string
# ("this method receives only dicts") and would then check nothing in the layer; Terraform
# 1.11.4 parses the ephemeral block (tests/test_edge_origin.py runs its init offline).
# The AWS provider's ephemeral resource calling GetRandomPassword
# (internal/service/secretsmanager/random_password_ephemeral.go); cdktf 0.21 generates no
# class for ephemeral resources, so the block is written with the stack's override escape hatch.
EPHEMERAL_TYPE = "aws_secretsmanager_random_password"


@dataclass(frozen=True, kw_only=True)
class GeneratedSecretProps:
    """Inputs of a ``GeneratedSecret``."""

    name: str
    """Secret name, e.g. catalog-api-admin-token-dev."""
    description: str
    """What the secret is for."""
    length: int = 48
    """Characters of the generated value (letters and digits). Default: 48."""
    recovery_window_days: int = 0
    """Days a deleted secret can be restored; 0 deletes at once so destroy/recreate works (F-6). Default: 0."""
    value_version: int = 1
    """Raise it to have the next apply write a new random value (rotation on purpose). Default: 1."""


class GeneratedSecret(Construct):
    """The value comes from Secrets Manager's GetRandomPassword and never reaches Terraform state.

    An ephemeral ``aws_secretsmanager_random_password`` feeds the write-only
    ``secret_string_wo`` of the secret version: the provider sends it to PutSecretValue and
    keeps only ``secret_string_wo_version`` in state. The ephemeral resource draws a new
    value on every run, but the provider writes only when the version number changes, so a
    plan never rotates the token behind the API's back and never needs GetSecretValue.
    """

    def __init__(self, scope: Construct, id: str, *, props: GeneratedSecretProps) -> None:
        super().__init__(scope, id)
        if not 0 <= props.recovery_window_days <= 30 or props.recovery_window_days in range(1, 7):
            raise ValueError(f"recovery_window_days={props.recovery_window_days} is not allowed: 0 or 7-30 (F-6)")
        if props.value_version < 1:
            raise ValueError(f"value_version={props.value_version} is not allowed: a whole number from 1")
        stack = TerraformStack.of(self)
        # Terraform identifiers: letters, digits, underscores and dashes.
        random_name = re.sub(r"[^A-Za-z0-9_-]", "_", self.node.path)
        stack.add_override(
            f"ephemeral.{EPHEMERAL_TYPE}.{random_name}",
            {"password_length": props.length, "exclude_punctuation": True, "include_space": False},
        )
        secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.name,
            description=props.description,
            recovery_window_in_days=props.recovery_window_days,
        )
        SecretsmanagerSecretVersion(
            self,
            "value",
            secret_id=secret.id,
            secret_string_wo=f"${{ephemeral.{EPHEMERAL_TYPE}.{random_name}.random_password}}",
            secret_string_wo_version=props.value_version,
        )
        self.arn: str = secret.arn
