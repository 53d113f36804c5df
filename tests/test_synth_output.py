"""What `make synth` leaves in cdktf.out/."""

from __future__ import annotations

from pathlib import Path

import main


def test_synth_keeps_terraform_working_files(tmp_path: Path) -> None:
    previous, staging = tmp_path / "cdktf.out", tmp_path / ".cdktf.out.new"
    initialised = previous / "stacks" / "app" / ".terraform"
    initialised.mkdir(parents=True)
    (initialised / "marker").write_text("providers")
    (previous / "stacks" / "app" / ".terraform.lock.hcl").write_text("lock")
    (previous / "stacks" / "gone" / ".terraform").mkdir(parents=True)
    (staging / "stacks" / "app").mkdir(parents=True)
    (staging / "stacks" / "app" / "cdk.tf.json").write_text("{}")
    (staging / "stacks" / "edge").mkdir()

    main._keep_terraform_working_files(previous, staging)

    assert (staging / "stacks" / "app" / ".terraform" / "marker").read_text() == "providers"
    assert (staging / "stacks" / "app" / ".terraform.lock.hcl").read_text() == "lock"
    assert not (staging / "stacks" / "edge" / ".terraform").exists(), "nothing invented for a new stack"
    assert not (staging / "stacks" / "gone").exists(), "a removed stack is not brought back"


def test_synth_swaps_in_the_new_output(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "old").mkdir(parents=True)
    (outdir / "stacks" / "old" / ".terraform").mkdir()
    assert main.main({"CDKTF_OUTDIR": str(outdir)}) == 0
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == ["app", "data", "edge", "network"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"], "no staging folder left behind"
