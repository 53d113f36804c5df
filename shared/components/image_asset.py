"""The API image built from source as part of the app layer's apply, like AWS CDK's ``ContainerImage.fromAsset``.

Mechanism (why this one: docs/deployment.md, "How the image gets built"):

1. ``main.py`` hashes what goes into the image (shared/image_source.py) into the tag
   ``src-<sha256>``; it is the Terraform local ``image_source`` and nothing else in any
   layer depends on service/'s content.
2. A ``terraform_data`` resource keyed on that tag and the repository runs the publish step
   (scripts/publish_image.py: build for linux/amd64 and push, skipped when the tag already
   exists in the repository) with a ``local-exec`` provisioner. It is replaced, and so runs,
   only when the content or the repository changes; a plan never runs it.
3. ``data aws_ecr_image`` reads that tag's digest. It depends on the publish step, so while the
   step has a pending change Terraform reads it during the apply, after the push; the plan
   shows the digest as known after apply instead of failing on a tag not yet pushed.
4. The task definition names ``<repository url>@<digest>``: what runs is what was pushed,
   even if a tag could move (it cannot: the repository's tags are immutable).
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformLocal
from cdktf_cdktf_provider_aws.data_aws_ecr_image import DataAwsEcrImage
from constructs import Construct

from shared.components.local_script import local_script

# The local's name is what scripts/delivery.py leaves out of a layer's interface digest: a
# change to it changes which image the app layer's tasks run, never an output another layer reads.
SOURCE_LOCAL = "image_source"


@dataclass(frozen=True, kw_only=True)
class ImageAssetProps:
    """Inputs of an ``ImageAsset``."""

    source_tag: str
    """Tag naming the content of the build context, ``src-<64 hex>`` (shared/image_source.py)."""
    context_directory: str
    """Build context relative to the project root, e.g. service."""
    repository_name: str
    """The platform's ECR repository, e.g. catalog-api-images-dev."""
    repository_url: str
    """Its URL, ``<account>.dkr.ecr.<region>.amazonaws.com/<name>``."""
    region: str
    """Region of the repository, e.g. eu-north-1."""


class ImageAsset(Construct):
    """Builds and pushes the context when its content changed; ``image`` is the pushed image by digest."""

    def __init__(self, scope: Construct, id: str, *, props: ImageAssetProps) -> None:
        super().__init__(scope, id)
        source = TerraformLocal(self, "source", props.source_tag)
        source.override_logical_id(SOURCE_LOCAL)
        publish = local_script(
            self,
            "publish",
            script="publish_image.py",
            triggers={"tag": source.as_string, "repository": props.repository_url},
            environment={
                "IMAGE_CONTEXT": props.context_directory,
                "IMAGE_TAG": source.as_string,
                "REPOSITORY_URL": props.repository_url,
                "AWS_REGION": props.region,
            },
        )
        image = DataAwsEcrImage(
            self,
            "image",
            repository_name=props.repository_name,
            image_tag=source.as_string,
            depends_on=[publish],
        )
        self.image: str = f"{props.repository_url}@{image.image_digest}"


@dataclass(frozen=True, kw_only=True)
class SourceImage:
    """Build the API image from a folder of the project as part of the app layer's apply (the default)."""

    directory: str
    """Build context relative to the project root. Default: none (main.py passes service)."""
    tag: str
    """``src-<64 hex>`` digest of what goes into the image (shared/image_source.py)."""


@dataclass(frozen=True, kw_only=True)
class PrebuiltImage:
    """Run an image already in the environment's own repository, by digest (promotion)."""

    reference: str
    """``<account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>``."""


@dataclass(frozen=True, kw_only=True)
class PlaceholderImage:
    """Run the credential-less placeholder instead of the API (only when chosen explicitly)."""


ImageChoice = SourceImage | PrebuiltImage | PlaceholderImage
