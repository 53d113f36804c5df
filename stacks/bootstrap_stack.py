"""BootstrapStack: the S3 bucket and DynamoDB table that hold the layers' remote state.

Created once per account and suffix with `make bootstrap`; its own state is always
local (it cannot live in the bucket it creates).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformOutput
from constructs import Construct

from shared.components.iam import account_id
from shared.components.state_backend import StateBackend, StateBackendProps
from shared.layer import LayerContext, LayerStack


@dataclass(frozen=True, kw_only=True)
class BootstrapStackProps:
    """Inputs of the bootstrap stack."""

    context: LayerContext
    """Naming, region and tags; its state must be local (it creates the state bucket)."""
    noncurrent_version_days: int = 90
    """Days old state versions are kept. Default: 90 days."""


class BootstrapStack(LayerStack):
    """Producer of STATE_BUCKET, STATE_BUCKET_REGION and STATE_LOCK_TABLE."""

    def __init__(self, scope: Construct, id: str, *, props: BootstrapStackProps) -> None:
        super().__init__(scope, id, layer="bootstrap", context=props.context)
        backend = StateBackend(
            self,
            "state",
            props=StateBackendProps(
                bucket_name=f"{self.naming.name('tfstate')}-{account_id(self)}",
                lock_table_name=self.naming.name("tflock"),
                noncurrent_version_days=props.noncurrent_version_days,
            ),
        )
        TerraformOutput(self, "STATE_BUCKET", value=backend.bucket_name)
        TerraformOutput(self, "STATE_BUCKET_REGION", value=self.region)
        TerraformOutput(self, "STATE_LOCK_TABLE", value=backend.lock_table_name)
