"""What every layer stack has in common: its provider with default tags, and its own state."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from cdktf import LocalBackend, S3Backend, TerraformLocal, TerraformStack, Token
from cdktf_cdktf_provider_aws.provider import AwsProvider, AwsProviderDefaultTags
from constructs import Construct

from shared.components.iam import account_id
from shared.config import StateConfig
from shared.naming import Naming


@dataclass(frozen=True, kw_only=True)
class LayerContext:
    """Deployment-wide inputs every layer stack receives from ``main.py``."""

    naming: Naming
    """Naming helper with the project and environment suffix."""
    region: str
    """AWS region the layer deploys to, e.g. eu-north-1."""
    tags: Mapping[str, str]
    """Tags on every resource via provider default_tags (R-14)."""
    state: StateConfig
    """Where this layer's Terraform state lives (R-18)."""
    permissions_boundary: str | None = None
    """Name of the IAM policy (created by `make bootstrap`) every role of the layer carries as its
    permissions boundary; None: no boundary (no CI deploy role). Default: None."""


# Terraform runs in cdktf.out/stacks/<stack>/, three levels below the project root; relative paths
# from there keep state and snapshots portable (the local backend, the local-exec scripts).
PROJECT_ROOT_FROM_STACK = "../../.."


class LayerStack(TerraformStack):
    """A TerraformStack with its own state file and tagged AWS provider.

    State key and local path are ``<suffix>/<layer>.tfstate`` so that one layer is
    planned, applied and destroyed without touching the others.
    """

    def __init__(self, scope: Construct, id: str, *, layer: str, context: LayerContext) -> None:
        super().__init__(scope, id)
        self.naming = context.naming
        self.region = context.region
        self._default_tags = [AwsProviderDefaultTags(tags={**context.tags, "Layer": layer})]
        AwsProvider(self, "aws", region=context.region, default_tags=self._default_tags)
        # The boundary lives in the bootstrap stack, not in a layer: its ARN is built from
        # the account id, as other ARNs are, instead of a cross-stack reference.
        self.permissions_boundary_arn: str | None = (
            f"arn:aws:iam::{account_id(self)}:policy/{context.permissions_boundary}"
            if context.permissions_boundary is not None
            else None
        )
        key = f"{context.naming.suffix}/{layer}.tfstate"
        state = context.state
        if state.bucket is not None:
            # A lock table means Terraform older than 1.10, which fails init on the unknown
            # use_lockfile argument, so the two are never written together (the S3 backend
            # docs allow both only while migrating between them).
            S3Backend(
                self,
                bucket=state.bucket,
                key=key,
                region=state.bucket_region,
                encrypt=True,
                dynamodb_table=state.lock_table,
            )
            if state.lock_table is None and state.use_lockfile:
                # cdktf 0.21's S3Backend has no use_lockfile; the override is its escape
                # hatch. S3-native locking needs Terraform >= 1.10, and 1.11 deprecates the
                # DynamoDB lock (https://developer.hashicorp.com/terraform/language/backend/s3,
                # read 2026-11-23). Without either, check_backend refuses the synth (F-1).
                self.add_override("terraform.backend.s3.use_lockfile", True)
        else:
            LocalBackend(self, path=f"{PROJECT_ROOT_FROM_STACK}/{state.local_dir}/{key}")

    def declare_inputs(self, props: object) -> None:
        """Read every value this layer receives from its producers, whatever its settings use (S-02).

        cdktf writes a producer's cross-stack output only for values some consumer reads, so a
        setting that stops a consumer from using a value (the placeholder needs no database
        host) would remove that output from the producer's next apply, and a later deploy of
        the consumer with another setting would read an output the producer's state lacks
        ("This object does not have an attribute named …"). One local naming every input
        keeps each producer's outputs the same under every setting. The inputs are found in
        ``props`` (a props dataclass, nested ones included): every value that is a reference,
        so a new cross-layer prop is declared without anyone having to remember it.
        """
        inputs = dict(_references(props, ""))
        TerraformLocal(self, "layer-inputs", inputs).override_logical_id("layer_inputs")

    def provider_in(self, region: str) -> AwsProvider:
        """A second AWS provider (alias = region) with the same default tags, e.g. for us-east-1; one per region."""
        existing = self.node.try_find_child(f"aws-{region}")
        if isinstance(existing, AwsProvider):
            return existing
        return AwsProvider(self, f"aws-{region}", alias=region, region=region, default_tags=self._default_tags)


def _references(value: object, path: str) -> Iterator[tuple[str, object]]:
    """(field path, value) of every unresolved reference in a props dataclass, nested dataclasses included."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            yield from _references(getattr(value, field.name), f"{path}_{field.name}" if path else field.name)
    elif isinstance(value, (list, tuple)):
        if any(isinstance(item, (str, int, float)) and Token.is_unresolved(item) for item in value):
            yield path, list(value)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool) and Token.is_unresolved(value):
        yield path, value
