"""One reviewed snapshot per stack; `make snapshots` rewrites them, any drift fails here."""

from __future__ import annotations

import pytest
from pytest_snapshot.plugin import Snapshot

from tests.synth import ROOT, STACKS, Synthesis, canonical


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot(synth: Synthesis, snapshot: Snapshot, stack: str) -> None:
    snapshot.snapshot_dir = ROOT / "snapshots"
    text = canonical(synth.stacks[stack])
    assert str(ROOT) not in text, "snapshots must not hold machine paths"
    snapshot.assert_match(text, f"{stack}.json")
