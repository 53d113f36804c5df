"""S-07 item 5: a certificate ACM did not issue in time ends the deploy with one line, not a hung apply."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.stand_in import path_first, stand_in
from tests.synth import ROOT

# The provider's error when the validation's timeouts.create passes
# (internal/service/acm/certificate_validation.go, waitCertificateIssued).
TIMEOUT_ERROR = (
    "Error: waiting for ACM Certificate (arn:aws:acm:eu-north-1:123456789012:certificate/0b1c) to be issued: "
    "timeout while waiting for state to become 'ISSUED' (last state: 'PENDING_VALIDATION', timeout: 45m0s)"
)


def _deploy(tmp_path: Path, layer: str, output: str, code: int) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    printed = tmp_path / "cdktf-output.txt"
    printed.parent.mkdir(parents=True, exist_ok=True)
    printed.write_text(output + "\n", encoding="utf-8")
    stand_in(bin_dir, "cdktf", f"#!/bin/sh\ncat '{printed}'\nexit {code}\n")
    return subprocess.run(
        ["bash", "scripts/deploy_layer.sh", layer, "--auto-approve"],
        cwd=ROOT,
        env={**os.environ, "PATH": path_first(bin_dir)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_s07_a_certificate_not_issued_in_time_ends_in_one_line_naming_what_to_do(tmp_path: Path) -> None:
    done = _deploy(tmp_path, "app", f"app  │ {TIMEOUT_ERROR}", 1)
    assert done.returncode == 1
    assert TIMEOUT_ERROR in done.stdout, "Terraform's own error still reaches the terminal"
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("deploy-app: ACM did not issue the certificate within certificate_validation_timeout")
    assert "make deploy-app again" in last


def test_s07_other_failures_and_successes_keep_the_applys_status_and_say_nothing_more(tmp_path: Path) -> None:
    failed = _deploy(tmp_path, "data", "Error: creating RDS Cluster: AccessDenied", 3)
    assert (failed.returncode, failed.stderr.strip()) == (3, "")
    passed = _deploy(tmp_path / "ok", "network", "Apply complete!", 0)
    assert (passed.returncode, passed.stderr.strip()) == (0, "")
    assert "Apply complete!" in passed.stdout
