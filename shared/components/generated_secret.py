"""A Secrets Manager secret whose value AWS generates once, e.g. the API's admin token."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_secretsmanager_random_password import (
    DataAwsSecretsmanagerRandomPassword,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret
from cdktf_cdktf_provider_aws.secretsmanager_secret_version import SecretsmanagerSecretVersion
from constructs import Construct


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


class GeneratedSecret(Construct):
    """The value comes from Secrets Manager's GetRandomPassword and is written once.

    The data source asks for a new random value on every plan; ``ignore_changes`` keeps
    the first one, so a plan never rotates the token behind the API's back. Rotate it on
    purpose with ``aws secretsmanager put-secret-value`` (docs/security.md).
    """

    def __init__(self, scope: Construct, id: str, *, props: GeneratedSecretProps) -> None:
        super().__init__(scope, id)
        if not 0 <= props.recovery_window_days <= 30 or props.recovery_window_days in range(1, 7):
            raise ValueError(f"recovery_window_days={props.recovery_window_days} is not allowed: 0 or 7-30 (F-6)")
        random = DataAwsSecretsmanagerRandomPassword(
            self, "random", password_length=props.length, exclude_punctuation=True, include_space=False
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
            secret_string=random.random_password,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["secret_string"]),
        )
        self.arn: str = secret.arn
