"""The one naming helper: every resource is named ``<project>-<kind>-<suffix>`` (R-15)."""

from __future__ import annotations

from dataclasses import dataclass

# The API image repository's kind: the app layer creates it and `make image` pushes to it.
IMAGE_REPOSITORY_KIND = "images"
# The permissions boundary policy `make bootstrap` creates and every workload role carries.
PERMISSIONS_BOUNDARY_KIND = "workload-boundary"


@dataclass(frozen=True, kw_only=True)
class Naming:
    """Builds resource names that carry the environment suffix."""

    project: str
    """Project prefix of every name, e.g. catalog-api."""
    suffix: str
    """Environment suffix of every name, e.g. dev."""

    def name(self, kind: str) -> str:
        """``catalog-api-alb-dev`` for kind ``alb``."""
        return f"{self.project}-{kind}-{self.suffix}"

    def path(self, kind: str) -> str:
        """``/catalog-api/dev/<kind>`` for CloudWatch log group names."""
        return f"/{self.project}/{self.suffix}/{kind}"
