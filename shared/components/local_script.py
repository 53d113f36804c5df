"""A project script run by the deploying machine during an apply (or a destroy), as Terraform's local-exec.

The image build and push, the admin token's value and the destroy-time removal of Aurora's own
readers are done this way: each needs something Terraform cannot or must not hold (a Docker
daemon, a secret value, instances outside its state). Terraform runs the command in the
stack's folder, so it is started from the project root, where scripts/ is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cdktf import DataResource, ITerraformDependable, LocalExecProvisioner
from constructs import Construct

from shared.layer import PROJECT_ROOT_FROM_STACK


def local_script(
    scope: Construct,
    id: str,
    *,
    script: str,
    environment: Mapping[str, str],
    triggers: Mapping[str, str] | None = None,
    on_destroy: bool = False,
    depends_on: Sequence[ITerraformDependable] = (),
) -> DataResource:
    """A terraform_data running ``python3 scripts/<script>`` when it is created (replaced when ``triggers`` change), or on destroy."""
    return DataResource(
        scope,
        id,
        triggers_replace=dict(triggers) if triggers is not None else None,
        depends_on=list(depends_on) or None,
        provisioners=[
            LocalExecProvisioner(
                type="local-exec",
                when="destroy" if on_destroy else None,
                working_dir=PROJECT_ROOT_FROM_STACK,
                command=f"python3 scripts/{script}",
                environment=dict(environment),
            )
        ],
    )
