"""BootstrapStack: the S3 bucket that holds the layers' remote state, and optionally a
DynamoDB lock table (older Terraform) and the GitHub Actions OIDC deploy roles.

Created once per account and suffix with `make bootstrap`; its own state is always
local (it cannot live in the bucket it creates). Its outputs are the values of the
environment file's ``[state]`` keys and of the CI role variables.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformOutput
from constructs import Construct

from shared.components.github_deploy import GithubDeploy, GithubDeployProps
from shared.components.iam import account_id
from shared.components.state_backend import StateBackend, StateBackendProps
from shared.layer import LayerContext, LayerStack
from shared.naming import PERMISSIONS_BOUNDARY_KIND


@dataclass(frozen=True, kw_only=True)
class BootstrapStackProps:
    """Inputs of the bootstrap stack."""

    context: LayerContext
    """Naming, region (the state bucket's) and tags; its state must be local (it creates the state bucket)."""
    bucket_name: str | None = None
    """Name of the state bucket; None names it <project>-tfstate-<suffix>-<account id>. Default: None."""
    lock_table_name: str | None = None
    """DynamoDB lock table to create for Terraform older than 1.10; None creates none. Default: None."""
    github_repository: str | None = None
    """GitHub "owner/name" allowed to deploy through OIDC; None creates no provider or roles. Default: None."""
    github_environment: str = "dev"
    """GitHub environment (the environment file's name) whose jobs may assume the deploy role. Default: dev."""
    deploy_region: str | None = None
    """Region the layers deploy to, for the deploy role's scope; None uses the context's region. Default: None."""
    hosted_zone_id: str | None = None
    """Route 53 zone of [domain], the one zone the deploy role may change; None grants no zone. Default: None."""
    noncurrent_version_days: int = 90
    """Days old state versions are kept. Default: 90 days."""


class BootstrapStack(LayerStack):
    """Producer of the environment file's state bucket, its region, and the CI role ARNs."""

    def __init__(self, scope: Construct, id: str, *, props: BootstrapStackProps) -> None:
        super().__init__(scope, id, layer="bootstrap", context=props.context)
        account = account_id(self)
        backend = StateBackend(
            self,
            "state",
            props=StateBackendProps(
                bucket_name=props.bucket_name or f"{self.naming.name('tfstate')}-{account}",
                lock_table_name=props.lock_table_name,
                noncurrent_version_days=props.noncurrent_version_days,
            ),
        )
        TerraformOutput(self, "state_bucket", value=backend.bucket_name)
        TerraformOutput(self, "state_bucket_region", value=self.region)
        if backend.lock_table_name is not None:
            TerraformOutput(self, "state_lock_table", value=backend.lock_table_name)
        if props.github_repository is not None:
            github = GithubDeploy(
                self,
                "github",
                props=GithubDeployProps(
                    repository=props.github_repository,
                    environment=props.github_environment,
                    account_id=account,
                    region=props.deploy_region or self.region,
                    project=self.naming.project,
                    suffix=self.naming.suffix,
                    deploy_role_name=self.naming.name("deploy"),
                    plan_role_name=self.naming.name("plan"),
                    boundary_policy_name=self.naming.name(PERMISSIONS_BOUNDARY_KIND),
                    state_bucket_arn=backend.bucket_arn,
                    state_prefix=self.naming.suffix,
                    lock_table_arn=backend.lock_table_arn,
                    hosted_zone_id=props.hosted_zone_id,
                ),
            )
            TerraformOutput(self, "deploy_role_arn", value=github.deploy_role_arn)
            TerraformOutput(self, "plan_role_arn", value=github.plan_role_arn)
