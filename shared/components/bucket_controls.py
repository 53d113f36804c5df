"""Controls every S3 bucket of the project has: no public access, SSE-S3, TLS only."""

from __future__ import annotations

from collections.abc import Mapping

from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload,
    S3BucketLifecycleConfigurationRuleExpiration,
    S3BucketLifecycleConfigurationRuleFilter,
    S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration,
)
from cdktf_cdktf_provider_aws.s3_bucket_public_access_block import S3BucketPublicAccessBlock
from cdktf_cdktf_provider_aws.s3_bucket_server_side_encryption_configuration import (
    S3BucketServerSideEncryptionConfigurationA,
    S3BucketServerSideEncryptionConfigurationRuleA,
    S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA,
)
from constructs import Construct


def block_public_access(scope: Construct, bucket_id: str) -> None:
    """All four public access block settings on."""
    S3BucketPublicAccessBlock(
        scope,
        "public-access-block",
        bucket=bucket_id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )


def encrypt_by_default(scope: Construct, bucket_id: str, *, kms: bool = False) -> None:
    """Default encryption: SSE-S3, or SSE-KMS with the AWS-managed key when ``kms``.

    Log buckets stay on SSE-S3 because ALB log delivery supports nothing else.
    """
    S3BucketServerSideEncryptionConfigurationA(
        scope,
        "encryption",
        bucket=bucket_id,
        rule=[
            S3BucketServerSideEncryptionConfigurationRuleA(
                apply_server_side_encryption_by_default=S3BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultA(
                    sse_algorithm="aws:kms" if kms else "AES256"
                ),
                bucket_key_enabled=True if kms else None,
            )
        ],
    )


def expire_objects(
    scope: Construct,
    bucket_id: str,
    *,
    rule_id: str,
    current_days: int | None = None,
    noncurrent_days: int | None = None,
) -> None:
    """One lifecycle rule over the whole bucket; incomplete uploads are always aborted after a day."""
    S3BucketLifecycleConfiguration(
        scope,
        "lifecycle",
        bucket=bucket_id,
        rule=[
            S3BucketLifecycleConfigurationRule(
                id=rule_id,
                status="Enabled",
                # An explicit empty-prefix filter: an unscoped rule is a provider
                # warning today and an error in a future provider (F-5).
                filter=[S3BucketLifecycleConfigurationRuleFilter(prefix="")],
                expiration=(
                    [S3BucketLifecycleConfigurationRuleExpiration(days=current_days)] if current_days else None
                ),
                noncurrent_version_expiration=(
                    [S3BucketLifecycleConfigurationRuleNoncurrentVersionExpiration(noncurrent_days=noncurrent_days)]
                    if noncurrent_days
                    else None
                ),
                abort_incomplete_multipart_upload=[
                    S3BucketLifecycleConfigurationRuleAbortIncompleteMultipartUpload(days_after_initiation=1)
                ],
            )
        ],
    )


def deny_insecure_transport(bucket_arn: str) -> Mapping[str, object]:
    """Bucket policy statement refusing every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
