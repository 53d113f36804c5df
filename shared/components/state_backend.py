"""Remote Terraform state: a versioned, private S3 bucket, and a DynamoDB lock table only when asked for."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.dynamodb_table import (
    DynamodbTable,
    DynamodbTableAttribute,
    DynamodbTablePointInTimeRecovery,
    DynamodbTableServerSideEncryption,
)
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from cdktf_cdktf_provider_aws.s3_bucket_versioning import S3BucketVersioningA, S3BucketVersioningVersioningConfiguration
from constructs import Construct

from shared.components.bucket_controls import (
    block_public_access,
    deny_insecure_transport,
    encrypt_by_default,
    expire_objects,
)
from shared.components.policy import policy_document


@dataclass(frozen=True, kw_only=True)
class StateBackendProps:
    """Inputs of a ``StateBackend``."""

    bucket_name: str
    """Globally unique name of the state bucket."""
    lock_table_name: str | None = None
    """DynamoDB lock table to create, for Terraform older than 1.10; None creates none (S3 lock files). Default: None."""
    noncurrent_version_days: int = 90
    """Days old state versions are kept for recovery. Default: 90 days."""


class StateBackend(Construct):
    """What the S3 backend of the four layers needs (R-18).

    Terraform >= 1.10 locks with a ``<key>.tflock`` object in the bucket itself, so the
    lock table exists only for older Terraform (``lock_table_name``).

    Unlike the log buckets, the state bucket is *not* force_destroy: destroying the
    bootstrap while state is in it fails instead of deleting every layer's state.
    """

    def __init__(self, scope: Construct, id: str, *, props: StateBackendProps) -> None:
        super().__init__(scope, id)
        bucket = S3Bucket(self, "bucket", bucket=props.bucket_name, force_destroy=False)
        S3BucketVersioningA(
            self,
            "versioning",
            bucket=bucket.id,
            versioning_configuration=S3BucketVersioningVersioningConfiguration(status="Enabled"),
        )
        block_public_access(self, bucket.id)
        encrypt_by_default(self, bucket.id, kms=True)
        expire_objects(
            self, bucket.id, rule_id="expire-old-state-versions", noncurrent_days=props.noncurrent_version_days
        )
        S3BucketPolicy(self, "policy", bucket=bucket.id, policy=policy_document([deny_insecure_transport(bucket.arn)]))
        self.bucket_name: str = bucket.bucket
        self.bucket_arn: str = bucket.arn
        self.lock_table_name: str | None = None
        self.lock_table_arn: str | None = None
        if props.lock_table_name is not None:
            table = DynamodbTable(
                self,
                "lock-table",
                name=props.lock_table_name,
                billing_mode="PAY_PER_REQUEST",
                hash_key="LockID",
                attribute=[DynamodbTableAttribute(name="LockID", type="S")],
                server_side_encryption=DynamodbTableServerSideEncryption(enabled=True),
                point_in_time_recovery=DynamodbTablePointInTimeRecovery(enabled=True),
                deletion_protection_enabled=False,
            )
            self.lock_table_name = table.name
            self.lock_table_arn = table.arn
