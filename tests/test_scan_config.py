"""The checkov skip list stays small, explained and tied to real conflicts."""

from __future__ import annotations

import re
import subprocess

from tests.synth import ROOT

SKIP_LINE = re.compile(r"^\s+- (CKV2?_AWS_\d+)\s+# (.+)$")


def _skips() -> list[tuple[str, str]]:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    start = lines.index("skip-check:")
    return [m.groups() for line in lines[start + 1 :] if (m := SKIP_LINE.match(line))]  # type: ignore[misc]


def test_every_skipped_check_has_one_line_of_justification() -> None:
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    entries = [line for line in lines[lines.index("skip-check:") + 1 :] if line.strip()]
    skips = _skips()
    assert len(skips) == len(entries), "every skip-check entry is '- CKV..._N   # reason'"
    for check, reason in skips:
        assert len(reason.split()) >= 5, f"{check}: justification too thin"


def test_no_check_is_skipped_twice() -> None:
    ids = [check for check, _ in _skips()]
    assert len(ids) == len(set(ids))


def test_scan_runs_offline_on_synthesized_json() -> None:
    text = (ROOT / ".checkov.yaml").read_text()
    assert "skip-download: true" in text
    assert "- terraform_json" in text


def test_s07_skips_a_domain_closes_apply_to_the_default_synth_only() -> None:
    scoped = {check for check, reason in _skips() if "(without [domain])" in reason}
    assert scoped == {
        "CKV2_AWS_42",
        "CKV_AWS_174",
        "CKV_AWS_2",
        "CKV_AWS_103",
        "CKV2_AWS_20",
        "CKV_AWS_260",
        "CKV_AWS_378",
    }
    # What make would run (make -n expands the recipe without running it).
    recipe = subprocess.run(
        ["make", "-n", "-W", ".venv/.installed", "-W", ".checkov-venv/.installed", "scan"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    assert "ENV=domain CATALOG_ENVIRONMENTS_DIR=tests/environments CDKTF_OUTDIR=.cdktf.out.domain" in recipe
    assert "without \\[domain\\]" in recipe and '"$dir" = ".cdktf.out.domain/stacks"' in recipe
