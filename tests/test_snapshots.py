"""One reviewed snapshot per stack; `make snapshots` rewrites them, any drift fails here."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from pytest_snapshot.plugin import Snapshot

from shared import provider_loader
from shared.image_source import source_tag
from tests.synth import ROOT, STACKS, Json, Synthesis, canonical

# SHA-256 of each stack's cdk.tf.json bytes as synthesized with the provider's own
# eager import; `make snapshots` records them (it runs with the eager import).
EAGER_DIGESTS = ROOT / "tests" / "eager_import_sha256.json"

# The image tag is a hash of service/'s build context: it changes with every edit of the
# API, which is not an infrastructure change to review here. test_release pins it to
# source_tag(service/); the snapshots and digests hold this stand-in instead.
IMAGE_TAG_STAND_IN = "src-<sha256 of service/ build context>"


def without_image_tag(text: str) -> str:
    """``text`` with the current image tag replaced by a fixed stand-in."""
    return text.replace(source_tag(ROOT / "service"), IMAGE_TAG_STAND_IN)


@pytest.mark.parametrize("stack", STACKS)
def test_snapshot(synth: Synthesis, snapshot: Snapshot, stack: str) -> None:
    snapshot.snapshot_dir = ROOT / "snapshots"
    text = without_image_tag(canonical(synth.stacks[stack]))
    assert str(ROOT) not in text, "snapshots must not hold machine paths"
    snapshot.assert_match(text, f"{stack}.json")


def test_snapshot_bootstrap(bootstrap_stack: Json, snapshot: Snapshot) -> None:
    snapshot.snapshot_dir = ROOT / "snapshots"
    snapshot.assert_match(canonical(bootstrap_stack), "bootstrap.json")


def test_lazy_import_synthesizes_the_same_bytes_as_the_eager_import(
    synth: Synthesis, request: pytest.FixtureRequest
) -> None:
    digests = {stack: hashlib.sha256(without_image_tag(synth.texts[stack]).encode()).hexdigest() for stack in STACKS}
    eager = os.environ.get(provider_loader.DISABLE_SWITCH) == "1"
    if request.config.getoption("--snapshot-update"):
        if not eager:
            pytest.fail(f"update snapshots with `make snapshots`: it sets {provider_loader.DISABLE_SWITCH}=1")
        EAGER_DIGESTS.write_text(json.dumps(digests, indent=2, sort_keys=True) + "\n")
        return
    assert json.loads(EAGER_DIGESTS.read_text()) == digests, "lazy synth differs from the eager import's bytes"
