"""S-07: with a domain and no zone, `make deploy-edge` shows the DNS record ACM needs while it waits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scripts.certificate_records import POLL_SECONDS, watch
from tests.stand_in import path_first, stand_in
from tests.synth import ROOT

ARN = "arn:aws:acm:us-east-1:123456789012:certificate/0b1c"
RECORD = {"Name": "_x1.api.shop.example.", "Type": "CNAME", "Value": "_y2.acm-validations.aws."}


def _environment(tmp_path: Path, domain: str) -> dict[str, str]:
    (tmp_path / "x.toml").write_text(f'suffix = "t"\nregion = "eu-north-1"\n{domain}\n', encoding="utf-8")
    return {"ENV": "x", "CATALOG_ENVIRONMENTS_DIR": str(tmp_path)}


class FakeAcm:
    """ACM as the CLI shows it: the certificate appears after ``appears_after`` listings."""

    def __init__(self, appears_after: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.appears_after = appears_after

    def __call__(self, argv: Sequence[str]) -> Any:
        self.calls.append(list(argv))
        if argv[1] == "list-certificates":
            listed = sum(1 for call in self.calls if call[1] == "list-certificates")
            if listed <= self.appears_after:
                return {"CertificateSummaryList": []}
            other = {"DomainName": "other.example", "CertificateArn": ARN + "-other"}
            return {"CertificateSummaryList": [other, {"DomainName": "api.shop.example", "CertificateArn": ARN}]}
        assert argv[argv.index("--certificate-arn") + 1] == ARN
        return {"Certificate": {"DomainValidationOptions": [{"ResourceRecord": RECORD}]}}


def test_s07_record_is_shown_once_the_certificate_exists(tmp_path: Path) -> None:
    acm = FakeAcm(appears_after=2)
    slept: list[float] = []
    line = watch(_environment(tmp_path, '[domain]\nname = "api.shop.example"'), aws=acm, sleep=slept.append)
    assert line is not None and "\n" not in line
    assert "_x1.api.shop.example. CNAME _y2.acm-validations.aws." in line
    assert slept == [POLL_SECONDS, POLL_SECONDS]


def test_s07_nothing_to_show_with_a_zone_or_without_a_domain(tmp_path: Path) -> None:
    acm = FakeAcm()
    zoned = '[domain]\nname = "api.shop.example"\nhosted_zone_id = "Z0123456789ABC"\nzone_name = "shop.example"'
    assert watch(_environment(tmp_path, zoned), aws=acm, sleep=lambda _: None) is None
    assert watch(_environment(tmp_path, ""), aws=acm, sleep=lambda _: None) is None
    assert acm.calls == []


def test_s07_gives_up_with_one_line_when_no_certificate_appears(tmp_path: Path) -> None:
    acm = FakeAcm(appears_after=10**6)
    environ = _environment(tmp_path, '[domain]\nname = "api.shop.example"')
    line = watch(environ, aws=acm, sleep=lambda _: None, wait_seconds=3 * POLL_SECONDS)
    assert line is not None and "no pending certificate for api.shop.example" in line and "\n" not in line


def test_s07_run_by_make_with_the_aws_cli_it_prints_the_record_and_never_fails(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    listing = json.dumps({"CertificateSummaryList": [{"DomainName": "api.shop.example", "CertificateArn": ARN}]})
    described = json.dumps({"Certificate": {"DomainValidationOptions": [{"ResourceRecord": RECORD}]}})
    aws = stand_in(
        bin_dir,
        "aws",
        f"#!/bin/sh\ncase \"$2\" in\n  list-certificates) echo '{listing}' ;;\n  *) echo '{described}' ;;\nesac\n",
    )
    environ = {**os.environ, **_environment(tmp_path, '[domain]\nname = "api.shop.example"')}
    environ["PATH"] = path_first(bin_dir, environ["PATH"])
    environ.pop("CATALOG_OVERRIDES", None)
    done = subprocess.run(
        [sys.executable, "scripts/certificate_records.py"], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "create this DNS record" in done.stdout and "CNAME _y2.acm-validations.aws." in done.stdout
    aws.write_text('#!/bin/sh\necho "An error occurred (AccessDeniedException): denied" >&2\nexit 254\n')
    done = subprocess.run(
        [sys.executable, "scripts/certificate_records.py"], cwd=ROOT, env=environ, capture_output=True, text=True
    )
    assert done.returncode == 0 and "AccessDeniedException" in done.stdout


def test_s07_every_deploy_target_runs_the_edge_with_the_record_watcher(tmp_path: Path) -> None:
    # make deploy, deploy-edge and deploy-changed all deploy a layer through scripts/deploy_layer.sh.
    for target in ("deploy", "deploy-edge", "deploy-changed"):
        recipe = subprocess.run(
            ["make", "-n", "--no-print-directory", "-W", ".venv/.installed", target],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
        ).stdout  # fmt: skip
        assert "scripts/deploy_layer.sh" in recipe and "cdktf deploy" not in recipe, target
    # The script itself, with stand-in cdktf and python3: the watcher runs beside the edge's apply
    # and is stopped after it; the exit status is the apply's; other layers get no watcher.
    bin_dir = tmp_path / "bin"
    calls = tmp_path / "calls"
    # The stand-in apply of the edge lasts until the watcher has started (no race with its first line).
    apply = (
        f'#!/bin/sh\necho "cdktf $*" >> {calls}\n'
        f'if [ "$2" = edge ]; then i=0; until grep -q watcher {calls} || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done; fi\n'
        "exit ${APPLY_EXIT:-0}\n"
    )
    stand_in(bin_dir, "cdktf", apply)
    stand_in(bin_dir, "python3", f'#!/bin/sh\necho "watcher $*" >> {calls}\nexec sleep 30\n')
    environ = {**os.environ, "PATH": path_first(bin_dir)}
    for layer, apply_exit in (("edge", "0"), ("edge", "3"), ("app", "0")):
        calls.unlink(missing_ok=True)
        done = subprocess.run(
            [str(ROOT / "scripts" / "deploy_layer.sh"), layer, "--auto-approve"],
            cwd=ROOT, env={**environ, "APPLY_EXIT": apply_exit}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert done.returncode == int(apply_exit), (layer, done.stderr)
        lines = sorted(calls.read_text().splitlines())
        watcher = ["watcher scripts/certificate_records.py"] if layer == "edge" else []
        assert lines == sorted([f"cdktf deploy {layer} --auto-approve", *watcher]), lines
