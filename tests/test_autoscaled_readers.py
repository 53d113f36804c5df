"""scripts/autoscaled_readers.py, run when the data layer is destroyed: real script, stand-in aws CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.stand_in import path_first, stand_in

ROOT = Path(__file__).resolve().parents[1]

FAKE_AWS = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$2" in
  describe-db-clusters)
    [ -n "$GONE" ] && { echo "An error occurred (DBClusterNotFoundFault) when calling the DescribeDBClusters operation: none" >&2; exit 254; }
    echo "$MEMBERS" ;;
  delete-db-instance) if [ -n "$DENIED" ]; then echo "An error occurred (AccessDenied) when calling the DeleteDBInstance operation: no" >&2; exit 254; fi ;;
esac
exit 0
"""


def _run(tmp_path: Path, **env: str) -> tuple[int, str, str, list[str]]:
    bin_dir = tmp_path / "bin"
    stand_in(bin_dir, "aws", FAKE_AWS)
    calls = tmp_path / "calls"
    environ = {
        "PATH": path_first(bin_dir),
        "CALLS": str(calls),
        "MEMBERS": "catalog-api-aurora-dev-1\tcatalog-api-aurora-dev-2",
        "CLUSTER_ID": "catalog-api-aurora-dev",
        "KEEP": "catalog-api-aurora-dev-1,catalog-api-aurora-dev-2",
        "AWS_REGION": "eu-north-1",
        **env,
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "autoscaled_readers.py")], env=environ, capture_output=True, text=True
    )
    return done.returncode, done.stdout, done.stderr, calls.read_text().splitlines() if calls.exists() else []


def test_s04_destroy_deletes_and_waits_for_only_the_readers_terraform_does_not_manage(tmp_path: Path) -> None:
    members = (
        "catalog-api-aurora-dev-1\tapplication-autoscaling-0a1b\tcatalog-api-aurora-dev-2\tapplication-autoscaling-2c3d"
    )
    code, out, err, calls = _run(tmp_path, MEMBERS=members)
    assert (code, err) == (0, ""), err
    assert calls[0].startswith("rds describe-db-clusters --db-cluster-identifier catalog-api-aurora-dev")
    deleted = [call.split()[3] for call in calls if call.startswith("rds delete-db-instance")]
    waited = [call.split()[4] for call in calls if call.startswith("rds wait db-instance-deleted")]
    assert deleted == waited == ["application-autoscaling-0a1b", "application-autoscaling-2c3d"]
    assert all(call.endswith("--region eu-north-1") for call in calls)
    assert "deleted application-autoscaling-0a1b, application-autoscaling-2c3d" in out


def test_s04_destroy_without_added_readers_deletes_nothing(tmp_path: Path) -> None:
    code, out, _, calls = _run(tmp_path)
    assert code == 0 and len(calls) == 1 and "has no reader added" in out


def test_s04_destroy_of_a_cluster_already_gone_succeeds(tmp_path: Path) -> None:
    code, _, err, calls = _run(tmp_path, GONE="1")
    assert (code, err, len(calls)) == (0, "", 1)


def test_s04_a_refused_delete_is_one_line_and_fails_the_destroy(tmp_path: Path) -> None:
    code, _, err, _ = _run(tmp_path, MEMBERS="application-autoscaling-0a1b", DENIED="1")
    assert code == 1
    assert err.strip().count("\n") == 0 and "aws rds delete-db-instance failed: An error occurred (AccessDenied)" in err


def test_s04_missing_settings_are_one_line(tmp_path: Path) -> None:
    code, _, err, calls = _run(tmp_path, KEEP="")
    assert (
        code == 1
        and err.strip() == "aurora readers: KEEP not set: the data layer's destroy sets them (make destroy-data)"
    )
    assert calls == []


def test_s04_destroy_leaves_a_member_nobody_here_added(tmp_path: Path) -> None:
    # A reader added by hand (or left by a restore) is not Aurora Auto Scaling's: never deleted here.
    members = "catalog-api-aurora-dev-1\tcatalog-api-aurora-dev-2\tmanual-reporting-reader\tapplication-autoscaling-9f"
    code, _, err, calls = _run(tmp_path, MEMBERS=members)
    assert code == 0
    deleted = [call.split()[3] for call in calls if call.startswith("rds delete-db-instance")]
    assert deleted == ["application-autoscaling-9f"]
    assert err.startswith("aurora readers: left manual-reporting-reader: neither Terraform's nor added by")
