"""The checkov skip list stays small, explained and tied to real conflicts."""

from __future__ import annotations

import json
import re
from pathlib import Path

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
    assert scoped == {"CKV2_AWS_42", "CKV_AWS_174"}
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile[makefile.index("\nscan:") : makefile.index("\nsnapshots:")]
    assert "ENV=domain CATALOG_ENVIRONMENTS_DIR=tests/environments" in recipe
    assert "without \\[domain\\]" in recipe and "$(SCAN_COPY)/domain" in recipe


def test_scan_copy_leaves_out_removed_blocks_only(tmp_path: Path) -> None:
    from scripts.scan_input import copy_for_scan

    stack = tmp_path / "in" / "app" / "cdk.tf.json"
    stack.parent.mkdir(parents=True)
    document = {"resource": {"aws_lb": {"alb": {"internal": True}}}, "removed": [{"from": "aws_x.y"}]}
    stack.write_text(json.dumps(document))
    assert copy_for_scan(tmp_path / "in", tmp_path / "out") == ["app"]
    copied = json.loads((tmp_path / "out" / "app" / "cdk.tf.json").read_text())
    assert copied == {"resource": {"aws_lb": {"alb": {"internal": True}}}}
