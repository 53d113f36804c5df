"""Copy synthesized stacks for checkov without their top-level ``removed`` blocks.

checkov 3.3.30's terraform_json parser reads a ``removed`` block (Terraform 1.7+, "forget this
resource without destroying it") as a block whose attributes are blocks and fails on the whole
file ("this method receives only dicts", checkov/terraform_json/parser.py), so a stack with one
would not be checked at all. A ``removed`` block creates nothing and holds no setting a check
reads, so the copy drops it and keeps every resource, data source, provider and output.

Usage: python scripts/scan_input.py <synthesized stacks folder> <copy folder>
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path


def copy_for_scan(source: Path, target: Path) -> list[str]:
    """Write each ``<stack>/cdk.tf.json`` of ``source`` to ``target`` without ``removed``; the stacks changed."""
    if target.exists():
        shutil.rmtree(target)
    changed: list[str] = []
    for stack_file in sorted(source.glob("*/cdk.tf.json")):
        document = json.loads(stack_file.read_text(encoding="utf-8"))
        if document.pop("removed", None) is not None:
            changed.append(stack_file.parent.name)
        out = target / stack_file.parent.name / "cdk.tf.json"
        out.parent.mkdir(parents=True)
        out.write_text(json.dumps(document, indent=2), encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: scan_input.py <synthesized stacks folder> <copy folder>", file=sys.stderr)
        return 2
    source, target = Path(argv[0]), Path(argv[1])
    if not any(source.glob("*/cdk.tf.json")):
        print(f"scan_input: no synthesized stack in {source}; run make synth first", file=sys.stderr)
        return 1
    changed = copy_for_scan(source, target)
    if changed:
        print(f"scan input {target}: removed blocks left out of {', '.join(changed)} (no setting a check reads)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
