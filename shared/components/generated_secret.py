"""A Secrets Manager secret whose value AWS generates and Terraform never stores, e.g. the API's admin token."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from constructs import Construct

from shared.components.local_script import local_script

# Terraform never sees the value: it creates the secret, and a provisioner of a
# terraform_data keyed on the secret and value_version runs scripts/secret_value.py, which
# asks Secrets Manager for a random value (GetRandomPassword) and stores it (PutSecretValue)
# straight from AWS CLI to AWS CLI. No secret version resource exists in the configuration,
# so nothing is kept in state or plan and a refresh never calls GetSecretValue: the provider
# reads a managed aws_secretsmanager_secret_version with GetSecretValue on every refresh, even
# a write-only one (internal/service/secretsmanager/secret_version.go, read 2026-11-29), which
# would make every plan need the value. A plan never runs provisioners.


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
    region: str = "eu-north-1"
    """Region of the secret, for the AWS CLI that sets its value. Default: eu-north-1."""


class GeneratedSecret(Construct):
    """The value comes from Secrets Manager's GetRandomPassword and never reaches Terraform.

    ``ready`` is the step that stores the value: whatever reads the secret at start (the
    API's tasks) waits for it.
    """

    def __init__(self, scope: Construct, id: str, *, props: GeneratedSecretProps) -> None:
        super().__init__(scope, id)
        if not 0 <= props.recovery_window_days <= 30 or props.recovery_window_days in range(1, 7):
            raise ValueError(f"recovery_window_days={props.recovery_window_days} is not allowed: 0 or 7-30 (F-6)")
        if props.value_version < 1:
            raise ValueError(f"value_version={props.value_version} is not allowed: a whole number from 1")
        if not 32 <= props.length <= 4096:
            raise ValueError(f"length={props.length} is not allowed: 32 to 4096 characters")
        secret = SecretsmanagerSecret(
            self,
            "secret",
            name=props.name,
            description=props.description,
            recovery_window_in_days=props.recovery_window_days,
        )
        # A new secret (a replaced one included) or a raised value_version writes a new value.
        value = local_script(
            self,
            "value",
            script="secret_value.py",
            triggers={"secret": secret.arn, "version": str(props.value_version)},
            environment={"SECRET_ID": secret.arn, "SECRET_LENGTH": str(props.length), "AWS_REGION": props.region},
        )
        # Environments deployed before this construct kept the value in a managed secret version;
        # the next apply deletes that resource, which only strips the labels other than
        # AWSCURRENT ("You can only move staging label AWSCURRENT to a different secret version",
        # resourceSecretVersionDelete in the provider's secret_version.go, read 2026-11-29), so
        # it cannot take the current label from the value the provisioner stores. (A removed
        # block would say the same more plainly, but checkov 3.3's JSON parser fails on it and
        # would then scan nothing in the layer.)
        self.arn: str = secret.arn
        self.ready: ITerraformDependable = value
