"""S3 bucket for access logs: private, encrypted, TLS-only, expiring, destroyable (R-12, R-13, R-16)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import ITerraformDependable
from cdktf_cdktf_provider_aws.s3_bucket import S3Bucket
from cdktf_cdktf_provider_aws.s3_bucket_ownership_controls import (
    S3BucketOwnershipControls,
    S3BucketOwnershipControlsRule,
)
from cdktf_cdktf_provider_aws.s3_bucket_policy import S3BucketPolicy
from constructs import Construct

from shared.components.bucket_controls import (
    block_public_access,
    deny_insecure_transport,
    encrypt_by_default,
    expire_objects,
)
from shared.components.policy import policy_document


@dataclass(frozen=True, kw_only=True)
class LogWriter:
    """A principal allowed to put log objects under a prefix of the bucket."""

    principal: Mapping[str, str]
    """IAM principal block, e.g. {"AWS": "<elb account arn>"}."""
    prefix: str
    """Key prefix the writer may write under, without slashes, e.g. alb."""


@dataclass(frozen=True, kw_only=True)
class LogBucketProps:
    """Inputs of a ``LogBucket``."""

    bucket_name: str
    """Globally unique bucket name (3-63 lowercase characters)."""
    expiration_days: int = 30
    """Days after which log objects are deleted (R-13). Default: 30 days."""
    object_ownership: str = "BucketOwnerEnforced"
    """S3 object ownership. CloudFront standard logs need ACLs: use BucketOwnerPreferred. Default: BucketOwnerEnforced."""
    writers: Sequence[LogWriter] = ()
    """Principals granted s3:PutObject through the bucket policy. Default: none."""


class LogBucket(Construct):
    """A log bucket with every control the spec asks of one.

    Encryption is SSE-S3 because ALB access log delivery supports only SSE-S3, and
    CloudFront standard logging cannot write with a customer key either.
    """

    def __init__(self, scope: Construct, id: str, *, props: LogBucketProps) -> None:
        super().__init__(scope, id)
        bucket = S3Bucket(self, "bucket", bucket=props.bucket_name, force_destroy=True)
        block_public_access(self, bucket.id)
        ownership = S3BucketOwnershipControls(
            self,
            "ownership",
            bucket=bucket.id,
            rule=S3BucketOwnershipControlsRule(object_ownership=props.object_ownership),
        )
        encrypt_by_default(self, bucket.id)
        expire_objects(self, bucket.id, rule_id="expire-logs", current_days=props.expiration_days)
        statements: list[Mapping[str, object]] = [deny_insecure_transport(bucket.arn)]
        statements += [
            {
                "Sid": f"AllowLogDelivery{index}",
                "Effect": "Allow",
                "Principal": dict(writer.principal),
                "Action": "s3:PutObject",
                "Resource": f"{bucket.arn}/{writer.prefix}/*",
            }
            for index, writer in enumerate(props.writers)
        ]
        policy = S3BucketPolicy(self, "policy", bucket=bucket.id, policy=policy_document(statements))
        self.bucket_name: str = bucket.bucket
        self.bucket_arn: str = bucket.arn
        self.bucket_domain_name: str = bucket.bucket_domain_name
        # Writers must wait for the policy (ALB) or the ACL-enabled ownership (CloudFront).
        self.ready: list[ITerraformDependable] = [policy, ownership]
