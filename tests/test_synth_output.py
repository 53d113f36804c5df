"""What `make synth` leaves in cdktf.out/."""

from __future__ import annotations

from pathlib import Path

import main


def test_synth_keeps_terraform_working_files(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    initialised = outdir / "stacks" / "app" / ".terraform"
    initialised.mkdir(parents=True)
    (initialised / "marker").write_text("providers")
    (outdir / "stacks" / "app" / ".terraform.lock.hcl").write_text("lock")
    (outdir / "stacks" / "app" / "cdk.tf.json").write_text("{}")
    assert main.main({"CDKTF_OUTDIR": str(outdir)}) == 0
    assert (initialised / "marker").read_text() == "providers"
    assert (outdir / "stacks" / "app" / ".terraform.lock.hcl").read_text() == "lock"
    assert (outdir / "stacks" / "app" / "cdk.tf.json").read_text() != "{}", "the stack itself is new"
