"""The platform's private ECR repository for the API image (P-03)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.ecr_lifecycle_policy import EcrLifecyclePolicy
from cdktf_cdktf_provider_aws.ecr_repository import (
    EcrRepository,
    EcrRepositoryEncryptionConfiguration,
    EcrRepositoryImageScanningConfiguration,
)
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class ImageRepositoryProps:
    """Inputs of an ``ImageRepository``."""

    name: str
    """Repository name, e.g. catalog-api-images-dev."""
    untagged_days: int = 7
    """Days an untagged image (an interrupted push) is kept. Default: 7 days."""
    force_delete: bool = True
    """Delete the repository with its images on destroy (R-16); False keeps a protected environment's images. Default: True."""


class ImageRepository(Construct):
    """Immutable tags, scan on push, KMS at rest; interrupted pushes expire.

    Tasks pull from it through the NAT/endpoints with the execution role; nothing is
    pulled anonymously from Docker Hub, whose per-IP limit would stop scale-out.
    """

    def __init__(self, scope: Construct, id: str, *, props: ImageRepositoryProps) -> None:
        super().__init__(scope, id)
        repository = EcrRepository(
            self,
            "repository",
            name=props.name,
            # A tag can never be moved to other bytes, so a deployed digest stays what was reviewed.
            image_tag_mutability="IMMUTABLE",
            image_scanning_configuration=EcrRepositoryImageScanningConfiguration(scan_on_push=True),
            encryption_configuration=[EcrRepositoryEncryptionConfiguration(encryption_type="KMS")],
            force_delete=props.force_delete,
        )
        # Tagged images never expire: a count rule cannot tell which digest ECS is running, and
        # expiring it breaks the next scale-out or Spot replacement (aws/containers-roadmap#1078).
        rules = [
            {
                "rulePriority": 1,
                "description": "Expire untagged images (interrupted pushes)",
                "selection": {
                    "tagStatus": "untagged",
                    "countType": "sinceImagePushed",
                    "countUnit": "days",
                    "countNumber": props.untagged_days,
                },
                "action": {"type": "expire"},
            },
        ]
        EcrLifecyclePolicy(
            self, "lifecycle", repository=repository.name, policy=json.dumps({"rules": rules}, sort_keys=True)
        )
        self.arn: str = repository.arn
        self.url: str = repository.repository_url
        self.name: str = repository.name
