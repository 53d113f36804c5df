"""Before the data layer deletes its Aurora cluster, delete the readers Aurora Auto Scaling added.

Run by a destroy-time provisioner of the data layer (shared/components/aurora.py) from the
project root, with CLUSTER_ID, KEEP (the instance identifiers Terraform manages, comma-separated)
and AWS_REGION. Aurora Auto Scaling's replicas are not in Terraform's state, deregistering the
scalable target does not remove them, and DeleteDBCluster refuses a cluster that still has
instances ("Cluster cannot be deleted, it still contains DB instances in non-deleting state",
hashicorp/terraform-provider-aws#19536). Every member that Terraform does not manage is deleted
and waited for; Terraform deletes its own instances itself. Standard library only; the AWS CLI
does the calls. A failure is one line and exit status 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.aws_cli import AwsCliError, aws


class ReadersError(Exception):
    """One line for the person destroying."""


def _aws(argv: Sequence[str]) -> str:
    try:
        # A cluster already gone has no readers left to delete.
        return aws(argv, purpose="it deletes the readers Aurora Auto Scaling added", tolerate="DBClusterNotFoundFault")
    except AwsCliError as error:
        raise ReadersError(str(error)) from None


# Aurora Auto Scaling names the replicas it adds application-autoscaling-<id> (see aurora.py);
# a member Terraform does not manage under any other name (a reader added by hand, one left by
# a restore) is somebody's, so it is named and left: the cluster's delete then says why it stops.
AUTOSCALED_PREFIX = "application-autoscaling-"


def added_readers(environ: Mapping[str, str]) -> list[str]:
    """Delete the cluster's members Aurora Auto Scaling added; return their identifiers."""
    missing = [name for name in ("CLUSTER_ID", "KEEP", "AWS_REGION") if not environ.get(name)]
    if missing:
        raise ReadersError(f"{', '.join(missing)} not set: the data layer's destroy sets them (make destroy-data)")
    region = ["--region", environ["AWS_REGION"]]
    keep = {name.strip() for name in environ["KEEP"].split(",") if name.strip()}
    members = _aws(
        [
            "rds",
            "describe-db-clusters",
            "--db-cluster-identifier",
            environ["CLUSTER_ID"],
            "--query",
            "DBClusters[0].DBClusterMembers[].DBInstanceIdentifier",
            "--output",
            "text",
            *region,
        ]
    ).split()
    unmanaged = [member for member in members if member not in keep and member != "None"]
    added = [member for member in unmanaged if member.startswith(AUTOSCALED_PREFIX)]
    foreign = [member for member in unmanaged if member not in added]
    if foreign:
        print(
            f"aurora readers: left {', '.join(foreign)}: neither Terraform's nor added by Aurora Auto Scaling; "
            "delete it yourself if the cluster is to go",
            file=sys.stderr,
        )
    for identifier in added:
        _aws(["rds", "delete-db-instance", "--db-instance-identifier", identifier, *region])
    for identifier in added:
        _aws(["rds", "wait", "db-instance-deleted", "--db-instance-identifier", identifier, *region])
    return added


def main(environ: Mapping[str, str]) -> int:
    try:
        added = added_readers(environ)
    except ReadersError as error:
        print(f"aurora readers: {error}", file=sys.stderr)
        return 1
    cluster = environ["CLUSTER_ID"]
    if added:
        print(f"aurora readers: deleted {', '.join(added)} (added by Aurora Auto Scaling) from {cluster}")
    else:
        print(f"aurora readers: {cluster} has no reader added by Aurora Auto Scaling")
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
