"""R-18 / F-1: remote state is locked with S3's lock file by default, with DynamoDB only when a lock table is set,
and every cross-stack remote-state read stays a valid backend configuration pointing at its producer."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest

from shared import provider_loader
from shared.config import Config, StateConfig
from shared.guardrails import BACKEND_ARGUMENTS, check_backend
from tests.synth import Json, Synthesis, synthesize_config

BUCKET = "acme-catalog-tfstate"
LOCKFILE_CONFIG = Config(
    environment_suffix="prod",
    environment_name="prod",
    state=StateConfig(bucket=BUCKET, bucket_region="eu-west-1"),
)


def _synthesize(config: Config) -> Mapping[str, Json]:
    """Each layer's Terraform JSON for ``config``, built the way main.py builds it."""
    return synthesize_config(config).stacks


@pytest.fixture(scope="module")
def lockfile_stacks() -> Mapping[str, Json]:
    """The app with a state bucket and no lock table: the default for Terraform >= 1.10."""
    return _synthesize(LOCKFILE_CONFIG)


def _backend_of(layer: str, state: StateConfig) -> Json:
    """The backend block of one bare layer stack (no cross-stack references needed)."""
    provider_loader.enable()
    from cdktf import Testing

    from shared.layer import LayerContext, LayerStack
    from shared.naming import Naming

    context = LayerContext(
        naming=Naming(project="catalog-api", suffix="dev"), region="eu-north-1", tags={}, state=state
    )
    stack = LayerStack(Testing.app(), layer, layer=layer, context=context)
    document: Json = json.loads(Testing.synth(stack))
    backend: Json = document["terraform"]["backend"]
    return backend


def test_r18_remote_state_is_locked_with_the_s3_lock_file_by_default(lockfile_stacks: Mapping[str, Json]) -> None:
    for layer, document in lockfile_stacks.items():
        assert document["terraform"]["backend"] == {
            "s3": {
                "bucket": BUCKET,
                "key": f"prod/{layer}.tfstate",
                "region": "eu-west-1",
                "encrypt": True,
                "use_lockfile": True,
            }
        }, layer


def test_r18_a_lock_table_selects_dynamodb_locking_instead_of_the_lock_file() -> None:
    backend = _backend_of("network", StateConfig(bucket=BUCKET, lock_table="acme-catalog-tflock"))
    assert backend["s3"]["dynamodb_table"] == "acme-catalog-tflock"
    assert "use_lockfile" not in backend["s3"], "Terraform < 1.10 (the reason for a lock table) refuses use_lockfile"
    assert check_backend({"terraform": {"backend": backend}}) == []


def test_f1_turning_the_lock_file_off_without_a_table_is_refused() -> None:
    backend = _backend_of("network", StateConfig(bucket=BUCKET, use_lockfile=False))
    (message,) = check_backend({"terraform": {"backend": backend}})
    assert message.startswith("[F-1] terraform.backend.s3: no state locking. Fix: use_lockfile = true")


def test_f1_use_lockfile_is_known_and_an_invented_lock_argument_is_refused() -> None:
    base = {"bucket": BUCKET, "key": "dev/app.tfstate", "region": "eu-north-1", "encrypt": True}
    assert check_backend({"terraform": {"backend": {"s3": {**base, "use_lockfile": True}}}}) == []
    errors = check_backend({"terraform": {"backend": {"s3": {**base, "use_lockfile": True, "lockfile_mode": "s3"}}}})
    assert errors == [
        '[F-1] terraform.backend.s3.lockfile_mode: Terraform fails at init with "No argument or block type is named \\"lockfile_mode\\"". '
        f"Fix: remove the override; allowed: {', '.join(sorted(BACKEND_ARGUMENTS['s3']))}."
    ]


def _remote_state_reads(stacks: Mapping[str, Json]) -> list[tuple[str, str, Json]]:
    """(consumer, producer, data source body) of every cross-stack remote-state read."""
    prefix = "cross-stack-reference-input-"
    reads = []
    for consumer, document in stacks.items():
        for name, body in document.get("data", {}).get("terraform_remote_state", {}).items():
            assert name.startswith(prefix), f"{consumer}: unexpected remote state {name}"
            reads.append((consumer, name.removeprefix(prefix), body))
    return reads


def _assert_remote_state_matches_producers(stacks: Mapping[str, Json]) -> None:
    reads = _remote_state_reads(stacks)
    assert {(c, p) for c, p, _ in reads} == {
        ("data", "network"),
        ("app", "network"),
        ("app", "data"),
        ("edge", "app"),
    }
    for consumer, producer, body in reads:
        kind = body["backend"]
        config: dict[str, Any] = body["config"]
        unknown = set(config) - BACKEND_ARGUMENTS[kind]
        assert not unknown, f"{consumer} reads {producer} with arguments the {kind} backend refuses: {unknown}"
        ((producer_kind, producer_backend),) = stacks[producer]["terraform"]["backend"].items()
        assert kind == producer_kind, f"{consumer} reads {producer} from another backend type"
        where = ("bucket", "key", "region") if kind == "s3" else ("path",)
        assert {k: config.get(k) for k in where} == {k: producer_backend.get(k) for k in where}, (consumer, producer)


def test_r18_remote_state_reads_use_known_arguments_and_the_producers_location_with_lock_file(
    lockfile_stacks: Mapping[str, Json],
) -> None:
    _assert_remote_state_matches_producers(lockfile_stacks)


def test_r18_remote_state_reads_use_known_arguments_and_the_producers_location_with_local_state(
    synth: Synthesis,
) -> None:
    _assert_remote_state_matches_producers(synth.stacks)


def test_r18_remote_state_reads_use_known_arguments_and_the_producers_location_in_the_variant(
    variant_synth: Synthesis,
) -> None:
    _assert_remote_state_matches_producers(variant_synth.stacks)
