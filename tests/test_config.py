"""R-19: configuration from environment variables, validated before any heavy import."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from shared.config import ConfigError, load_config
from tests.synth import ROOT, Synthesis

REJECTED = {
    "suffix upper case": ({"ENVIRONMENT_SUFFIX": "Prod"}, "ENVIRONMENT_SUFFIX"),
    "suffix underscore": ({"ENVIRONMENT_SUFFIX": "dev_1"}, "ENVIRONMENT_SUFFIX"),
    "suffix dot": ({"ENVIRONMENT_SUFFIX": "dev.1"}, "ENVIRONMENT_SUFFIX"),
    "suffix too long for the tightest name": ({"ENVIRONMENT_SUFFIX": "a" * 17}, "ENVIRONMENT_SUFFIX"),
    "suffix leading hyphen": ({"ENVIRONMENT_SUFFIX": "-dev"}, "ENVIRONMENT_SUFFIX"),
    "suffix trailing hyphen": ({"ENVIRONMENT_SUFFIX": "dev-"}, "ENVIRONMENT_SUFFIX"),
    "suffix double hyphen": ({"ENVIRONMENT_SUFFIX": "pr--1"}, "ENVIRONMENT_SUFFIX"),
    "suffix leading digit": ({"ENVIRONMENT_SUFFIX": "1dev"}, "ENVIRONMENT_SUFFIX"),
    "suffix surrounding space": ({"ENVIRONMENT_SUFFIX": " dev"}, "ENVIRONMENT_SUFFIX"),
    "suffix inner space": ({"ENVIRONMENT_SUFFIX": "my dev"}, "ENVIRONMENT_SUFFIX"),
    "suffix non-ASCII": ({"ENVIRONMENT_SUFFIX": "dév"}, "ENVIRONMENT_SUFFIX"),
    "suffix empty": ({"ENVIRONMENT_SUFFIX": ""}, "ENVIRONMENT_SUFFIX"),
    "region unknown": ({"AWS_REGION": "eu-north-9"}, "AWS_REGION"),
    "region upper case": ({"AWS_REGION": "EU-NORTH-1"}, "AWS_REGION"),
    "region empty": ({"AWS_REGION": "  "}, "AWS_REGION"),
    "bucket without lock table": ({"STATE_BUCKET": "acme-state"}, "STATE_LOCK_TABLE"),
    "lock table without bucket": ({"STATE_LOCK_TABLE": "locks"}, "STATE_BUCKET"),
    "bucket region without bucket": ({"STATE_BUCKET_REGION": "eu-west-1"}, "STATE_BUCKET"),
    "bucket upper case": ({"STATE_BUCKET": "Acme_State", "STATE_LOCK_TABLE": "locks"}, "STATE_BUCKET"),
    "bucket region not a region": (
        {"STATE_BUCKET": "acme-state", "STATE_LOCK_TABLE": "locks", "STATE_BUCKET_REGION": "north"},
        "STATE_BUCKET_REGION",
    ),
    "lock table bad characters": ({"STATE_BUCKET": "acme-state", "STATE_LOCK_TABLE": "lo cks"}, "STATE_LOCK_TABLE"),
    "image with space": ({"CONTAINER_IMAGE": "my image:1"}, "CONTAINER_IMAGE"),
    "image non-ASCII": ({"CONTAINER_IMAGE": "registry/ïmage:1"}, "CONTAINER_IMAGE"),
    "nat count out of range": ({"NAT_GATEWAYS": "3"}, "NAT_GATEWAYS"),
    "alarm email malformed": ({"ALARM_EMAIL": "oncall"}, "ALARM_EMAIL"),
    "waf flag not a boolean": ({"WAF_ENABLED": "yes"}, "WAF_ENABLED"),
    "waf flag upper case": ({"WAF_ENABLED": "TRUE"}, "WAF_ENABLED"),
}


def test_r19_defaults(synth: Synthesis) -> None:
    config = load_config({})
    assert config.environment_suffix == "dev"
    assert config.region == "eu-north-1"
    assert config.state.bucket is None
    assert config.container_image is None, "no image configured: the secret-less placeholder"
    assert synth.stacks["network"]["provider"]["aws"][0]["region"] == "eu-north-1"


def test_r19_accepted_values() -> None:
    config = load_config(
        {
            "ENVIRONMENT_SUFFIX": "pr-42",
            "AWS_REGION": "eu-west-1",
            "STATE_BUCKET": "acme.state-1",
            "STATE_LOCK_TABLE": "tf_locks",
            "CONTAINER_IMAGE": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/catalog-api:1.4.2",
            "NAT_GATEWAYS": "1",
        }
    )
    assert (config.environment_suffix, config.region, config.nat_gateways) == ("pr-42", "eu-west-1", 1)
    assert config.state.bucket_region == "eu-west-1", "state bucket region defaults to the deployment region"


@pytest.mark.parametrize("environ,variable", REJECTED.values(), ids=list(REJECTED))
def test_r19_rejected_value_names_the_variable(environ: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(environ)
    message = str(raised.value)
    assert variable in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "environ",
    [{"ENVIRONMENT_SUFFIX": "Prod"}, {"AWS_REGION": "mars-1"}, {"STATE_BUCKET": "acme-state"}],
    ids=["suffix", "region", "state"],
)
def test_r19_bad_input_exits_fast_with_one_line_and_writes_nothing(tmp_path: Path, environ: dict[str, str]) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "network").mkdir(parents=True)
    earlier = outdir / "stacks" / "network" / "cdk.tf.json"
    earlier.write_text('{"earlier": true}')
    env = {k: v for k, v in os.environ.items() if k not in REJECTED_KEYS} | environ | {"CDKTF_OUTDIR": str(outdir)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: ")
    assert "Traceback" not in result.stderr
    assert elapsed < 2.0, f"configuration error took {elapsed:.2f} s"
    assert earlier.read_text() == '{"earlier": true}'
    assert sorted(p.name for p in outdir.rglob("*")) == ["cdk.tf.json", "network", "stacks"]


REJECTED_KEYS = {key for environ, _ in REJECTED.values() for key in environ}


def test_r19_longest_allowed_suffix_is_the_one_synthesized_in_tests() -> None:
    # The variant synthesis (tests/conftest.py) runs every guardrail, F-8 names
    # included, with this suffix: the limit in shared.config is proven, not guessed.
    from shared.config import MAX_SUFFIX_LENGTH
    from tests.conftest import VARIANT

    assert len(VARIANT["ENVIRONMENT_SUFFIX"]) == MAX_SUFFIX_LENGTH
    assert load_config({"ENVIRONMENT_SUFFIX": VARIANT["ENVIRONMENT_SUFFIX"]}).environment_suffix == "prod-eu-canary-1"
