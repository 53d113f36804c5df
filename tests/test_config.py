"""R-19 / P-08: committed environment files, explicit overrides, validated before any heavy import."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

import pytest

from shared.config import KEYS, MAX_SUFFIX_LENGTH, Config, ConfigError, load_config
from tests.conftest import VARIANT
from tests.synth import ROOT, Synthesis, synthesize_config

BASE = {"suffix": "t", "region": "eu-north-1"}
DIGEST = "sha256:" + "0123456789abcdef" * 4
ECR = "123456789012.dkr.ecr.eu-north-1.amazonaws.com"
# Variables that would change what load_config sees; cleared so the machine's own
# shell (an AWS_REGION, a GITHUB_REPOSITORY in CI) cannot decide a test.
OWN_VARIABLES = {"ENV", "CATALOG_ENVIRONMENTS_DIR", "CATALOG_OVERRIDES", *(key.variable for key in KEYS)}


def _toml(value: object) -> str:
    # JSON strings, integers and booleans are TOML too.
    return json.dumps(value)


def write_environment(directory: Path, settings: Mapping[str, object], name: str = "x") -> dict[str, str]:
    """Write ``settings`` (dotted keys) as ``<directory>/<name>.toml``; the environ that selects it."""
    top = [f"{key} = {_toml(value)}" for key, value in settings.items() if "." not in key]
    tables: dict[str, list[str]] = {}
    for key, value in settings.items():
        if "." in key:
            table, _, inner = key.partition(".")
            tables.setdefault(table, []).append(f"{inner} = {_toml(value)}")
    text = "\n".join([*top, *(f"[{table}]\n" + "\n".join(lines) for table, lines in tables.items())]) + "\n"
    (directory / f"{name}.toml").write_text(text, encoding="utf-8")
    return {"ENV": name, "CATALOG_ENVIRONMENTS_DIR": str(directory)}


def write_text(directory: Path, text: str | bytes, name: str = "x") -> dict[str, str]:
    path = directory / f"{name}.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return {"ENV": name, "CATALOG_ENVIRONMENTS_DIR": str(directory)}


def refusal(environ: Mapping[str, str]) -> str:
    with pytest.raises(ConfigError) as raised:
        load_config(environ)
    message = str(raised.value)
    assert "\n" not in message and "\r" not in message, message
    assert len(message) < 800, f"message of {len(message)} characters"
    return message


# --- the committed environments -------------------------------------------------------


def test_r19_dev_environment_is_the_default_with_local_state(synth: Synthesis) -> None:
    config = load_config({})
    assert config == load_config({"ENV": "dev"})
    assert config == Config(environment_name="dev", environment_suffix="dev", region="eu-north-1")
    assert config.state.bucket is None and config.container_image is None
    assert synth.stacks["network"]["provider"]["aws"][0]["region"] == "eu-north-1"
    assert list(synth.stacks["network"]["terraform"]["backend"]) == ["local"]


def test_p08_prod_environment_has_remote_state_and_protection() -> None:
    config = load_config({"ENV": "prod"})
    assert config.environment_suffix == "prod"
    assert config.state.bucket is not None and config.state.use_lockfile and config.state.lock_table is None
    assert config.deletion_protection and config.final_snapshot
    assert config.container_image is None, "prod.toml leaves the image to the image build"


def test_p08_every_committed_environment_loads() -> None:
    names = sorted(path.stem for path in (ROOT / "environments").glob("*.toml"))
    assert {"dev", "prod"} <= set(names)
    for name in names:
        assert load_config({"ENV": name}).environment_name == name


def test_p08_variant_environment_sets_every_option_away_from_its_default() -> None:
    config = load_config(VARIANT)
    default = Config()
    differing = {
        "environment_suffix",
        "container_image",
        "nat_gateways",
        "alarm_email",
        "waf_enabled",
        "min_tasks",
        "max_tasks",
        "on_demand_base",
        "deletion_protection",
        "final_snapshot",
        "github_repository",
        "origin_shield_region",
    }
    for name in differing:
        assert getattr(config, name) != getattr(default, name), name
    assert config.state.bucket is not None and config.state.bucket_region != config.region
    assert config.state.use_lockfile and config.state.lock_table is None
    assert (config.min_tasks, config.max_tasks, config.on_demand_base) == (3, 12, 0)


def test_r19_longest_allowed_suffix_is_the_one_synthesized_in_tests() -> None:
    # The variant synthesis (tests/conftest.py) runs every guardrail, F-8 names
    # included, with this suffix: the limit in shared.config is proven, not guessed.
    assert load_config(VARIANT).environment_suffix == "prod-eu-canary-1"
    assert len("prod-eu-canary-1") == MAX_SUFFIX_LENGTH


def test_r18_dynamodb_lock_environment_turns_the_lockfile_off() -> None:
    state = load_config({"ENV": "dynamodb-lock", "CATALOG_ENVIRONMENTS_DIR": "tests/environments"}).state
    assert (state.bucket, state.lock_table, state.use_lockfile) == (
        "acme-catalog-tfstate",
        "acme-catalog-tflock",
        False,
    )


def test_r18_lock_table_alone_defaults_the_lockfile_off(tmp_path: Path) -> None:
    # Terraform < 1.10 does not know use_lockfile: a table alone must not emit it.
    state = load_config(
        write_environment(tmp_path, {**BASE, "state.bucket": "acme-state", "state.lock_table": "tf-lock"})
    ).state
    assert (state.lock_table, state.use_lockfile) == ("tf-lock", False)


def test_r18_state_bucket_region_defaults_to_the_deployment_region(tmp_path: Path) -> None:
    environ = write_environment(tmp_path, {**BASE, "region": "eu-west-1", "state.bucket": "acme-state"})
    assert load_config(environ).state.bucket_region == "eu-west-1"


# --- malformed files, unknown keys, wrong types: one line naming file and key ------------

FILE_REFUSED: dict[str, tuple[str | bytes, tuple[str, ...]]] = {
    "malformed TOML": ('suffix = "t\nregion = "eu-north-1"\n', ("x.toml", "not valid TOML", "line 1")),
    "key without value": ('suffix = "t"\nregion\n', ("x.toml", "not valid TOML", "line 2, column")),
    "not UTF-8": (b'suffix = "t\xe9"\nregion = "eu-north-1"\n', ("x.toml", "not UTF-8")),
    "unknown key": (
        'suffix = "t"\nregion = "eu-north-1"\nsufix = "u"\n',
        ("unknown key 'sufix'", "did you mean suffix?"),
    ),
    "unknown key in a table": (
        'suffix = "t"\nregion = "eu-north-1"\n[state]\nbuckt = "acme"\n',
        ("unknown key 'state.buckt'", "did you mean state.bucket?"),
    ),
    "table key at the top": (
        'suffix = "t"\nregion = "eu-north-1"\nbucket = "acme"\n',
        ("unknown key 'bucket'", "did you mean state.bucket?"),
    ),
    "unknown table": (
        'suffix = "t"\nregion = "eu-north-1"\n[scalling]\nmin_tasks = 2\n',
        ("unknown key 'scalling'", "did you mean scaling?"),
    ),
    "string for an integer": (
        'suffix = "t"\nregion = "eu-north-1"\nnat_gateways = "2"\n',
        ("nat_gateways = '2' is a string; expected an integer",),
    ),
    "boolean for an integer": (
        'suffix = "t"\nregion = "eu-north-1"\nnat_gateways = true\n',
        ("nat_gateways = true is a boolean; expected an integer",),
    ),
    "integer for a boolean": (
        'suffix = "t"\nregion = "eu-north-1"\nwaf_enabled = 1\n',
        ("waf_enabled = 1 is an integer; expected true or false",),
    ),
    "string for a boolean": (
        'suffix = "t"\nregion = "eu-north-1"\nwaf_enabled = "false"\n',
        ("waf_enabled = 'false' is a string; expected true or false",),
    ),
    "float for an integer": (
        'suffix = "t"\nregion = "eu-north-1"\n[scaling]\nmax_tasks = 10.0\n',
        ("scaling.max_tasks = 10.0 is a float; expected an integer",),
    ),
    "string where a table belongs": (
        'suffix = "t"\nregion = "eu-north-1"\nstate = "s3"\n',
        ("state = 's3' is a string; expected a table [state]",),
    ),
    "suffix missing": ('region = "eu-north-1"\n', ("x.toml: suffix is missing",)),
    "region missing": ('suffix = "t"\n', ("x.toml: region is missing",)),
    "state table without a bucket": (
        'suffix = "t"\nregion = "eu-north-1"\n[state]\nbucket_region = "eu-west-1"\n',
        ("state.bucket_region", "needs state.bucket"),
    ),
    "lock table without a bucket": (
        'suffix = "t"\nregion = "eu-north-1"\n[state]\nlock_table = "tf-lock"\n',
        ("state.lock_table", "needs state.bucket"),
    ),
    "remote state unlocked": (
        'suffix = "t"\nregion = "eu-north-1"\n[state]\nbucket = "acme-state"\nuse_lockfile = false\n',
        ("state.use_lockfile = false", "unlocked"),
    ),
}


@pytest.mark.parametrize("text,expected", FILE_REFUSED.values(), ids=list(FILE_REFUSED))
def test_p08_bad_environment_file_is_refused_in_one_line(
    tmp_path: Path, text: str | bytes, expected: tuple[str, ...]
) -> None:
    message = refusal(write_text(tmp_path, text))
    for part in expected:
        assert part in message, message


def test_p08_missing_environment_lists_the_available_ones() -> None:
    message = refusal({"ENV": "staging"})
    assert "environments/staging.toml" in message and "available: dev, prod" in message


@pytest.mark.parametrize("name", ["../main", "Prod", "", "prod.toml", "/etc/passwd"])
def test_p08_environment_name_is_a_plain_name(name: str) -> None:
    assert "ENV=" in refusal({"ENV": name})


# --- overrides: explicit only, reported, never local state for a remote environment ---


def test_p08_ambient_variables_do_not_change_the_file() -> None:
    ambient = {
        "AWS_REGION": "us-east-1",
        "STATE_BUCKET": "other-bucket",
        "CONTAINER_IMAGE": f"{ECR}/other@{DIGEST}",
        "ENVIRONMENT_SUFFIX": "other",
        "GITHUB_REPOSITORY": "someone/else",
    }
    config = load_config({"ENV": "prod", **ambient})
    assert replace(config, ignored_variables=()) == load_config({"ENV": "prod"})
    assert config.region == "eu-north-1"
    assert config.state.bucket == "example-org-catalog-api-tfstate"
    assert config.container_image is None and config.environment_suffix == "prod"
    assert config.overrides == ()
    assert config.ignored_variables == (
        "ENVIRONMENT_SUFFIX",
        "AWS_REGION",
        "CONTAINER_IMAGE",
        "GITHUB_REPOSITORY",
        "STATE_BUCKET",
    )


def test_p08_ambient_region_does_not_move_the_deployment() -> None:
    assert load_config({"AWS_REGION": "us-east-1"}).region == "eu-north-1"
    assert load_config({"ENV": "prod", "AWS_REGION": "ap-south-1"}).region == "eu-north-1"


def test_p08_ambient_variable_equal_to_the_file_is_not_reported() -> None:
    assert load_config({"AWS_REGION": "eu-north-1", "NAT_GATEWAYS": "2"}).ignored_variables == ()


def test_p08_override_named_in_catalog_overrides_is_honoured_and_reported() -> None:
    image = f"{ECR}/catalog-api-images-prod@{DIGEST}"
    config = load_config(
        {
            "ENV": "prod",
            "CATALOG_OVERRIDES": "CONTAINER_IMAGE, ALARM_EMAIL",
            "CONTAINER_IMAGE": image,
            "ALARM_EMAIL": "ops@example.org",
            "AWS_REGION": "us-east-1",
        }
    )
    assert (config.container_image, config.alarm_email, config.region) == (image, "ops@example.org", "eu-north-1")
    assert config.overrides == ("CONTAINER_IMAGE", "ALARM_EMAIL")
    assert config.override_report() == (
        "environment prod: overridden by the environment: CONTAINER_IMAGE, ALARM_EMAIL; "
        "ignored (not named in CATALOG_OVERRIDES): AWS_REGION"
    )


def test_p08_nothing_overridden_nothing_reported() -> None:
    assert load_config({"ENV": "prod", "AWS_REGION": "eu-north-1"}).override_report() is None


def test_p08_ignored_variable_is_reported_alone() -> None:
    assert load_config({"ENV": "prod", "AWS_REGION": "us-east-1"}).override_report() == (
        "environment prod: overridden by the environment: nothing; ignored (not named in CATALOG_OVERRIDES): AWS_REGION"
    )


def test_p08_every_key_can_be_overridden_by_its_variable(tmp_path: Path) -> None:
    values = {
        "ENVIRONMENT_SUFFIX": ("environment_suffix", "other"),
        "AWS_REGION": ("region", "eu-west-1"),
        "CONTAINER_IMAGE": ("container_image", f"{ECR}/catalog-api-images-dev@{DIGEST}"),
        "ALARM_EMAIL": ("alarm_email", "a@example.org"),
        "NAT_GATEWAYS": ("nat_gateways", 1),
        "WAF_ENABLED": ("waf_enabled", False),
        "GITHUB_REPOSITORY": ("github_repository", "octo/api"),
        "ORIGIN_SHIELD_REGION": ("origin_shield_region", "eu-west-2"),
        "MIN_TASKS": ("min_tasks", 1),
        "MAX_TASKS": ("max_tasks", 4),
        "ON_DEMAND_BASE": ("on_demand_base", 0),
        "MAX_READERS": ("max_readers", 5),
        "DELETION_PROTECTION": ("deletion_protection", True),
        "FINAL_SNAPSHOT": ("final_snapshot", True),
    }
    for variable, (attribute, value) in values.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        config = load_config({"CATALOG_OVERRIDES": variable, variable: text})
        assert getattr(config, attribute) == value, variable
        assert config.overrides == (variable,)
    state_values = {
        "STATE_BUCKET": ("bucket", "acme-state"),
        "STATE_BUCKET_REGION": ("bucket_region", "eu-west-1"),
        "STATE_LOCK_TABLE": ("lock_table", "tf-lock"),
        "STATE_USE_LOCKFILE": ("use_lockfile", False),
    }
    environ = write_environment(
        tmp_path, {**BASE, "state.bucket": "acme", "state.lock_table": "t-1", "state.use_lockfile": True}
    )
    for variable, (attribute, value) in state_values.items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        state = load_config({**environ, "CATALOG_OVERRIDES": variable, variable: text}).state
        assert getattr(state, attribute) == value, variable
    domain_values = {
        "DOMAIN_NAME": ("name", "www.shop.example"),
        "HOSTED_ZONE_ID": ("hosted_zone_id", "Z9876543210XYZ"),
        "HOSTED_ZONE_NAME": ("zone_name", "api.shop.example"),
    }
    environ = write_environment(tmp_path, {**BASE, **ZONED})
    for variable, (attribute, value) in domain_values.items():
        domain = load_config({**environ, "CATALOG_OVERRIDES": variable, variable: value}).domain
        assert domain is not None and getattr(domain, attribute) == value, variable
    assert {key.variable for key in KEYS} == set(values) | set(state_values) | set(domain_values)


@pytest.mark.parametrize("value", [None, "", "  "], ids=["unset", "empty", "blank"])
def test_p08_remote_state_environment_never_falls_back_to_local_state(value: str | None) -> None:
    environ = {"ENV": "prod", "CATALOG_OVERRIDES": "STATE_BUCKET"}
    if value is not None:
        environ["STATE_BUCKET"] = value
    message = refusal(environ)
    assert "STATE_BUCKET" in message and "never falls back to local state" in message


def test_p08_remote_state_bucket_override_stays_remote() -> None:
    state = load_config({"ENV": "prod", "CATALOG_OVERRIDES": "STATE_BUCKET", "STATE_BUCKET": "acme-other"}).state
    assert state.bucket == "acme-other" and state.use_lockfile


def test_p08_overriding_the_lock_table_keeps_remote_state() -> None:
    state = load_config({"ENV": "prod", "CATALOG_OVERRIDES": "STATE_LOCK_TABLE", "STATE_LOCK_TABLE": "tf-lock"}).state
    assert (state.bucket, state.lock_table) == ("example-org-catalog-api-tfstate", "tf-lock")


OVERRIDE_REFUSED = {
    "unknown variable": ({"CATALOG_OVERRIDES": "CONTAINER_IMAG"}, "did you mean CONTAINER_IMAGE?"),
    "named but unset": ({"CATALOG_OVERRIDES": "ALARM_EMAIL"}, "ALARM_EMAIL is not set"),
    "named but empty": ({"CATALOG_OVERRIDES": "ALARM_EMAIL", "ALARM_EMAIL": ""}, "ALARM_EMAIL is set but empty"),
    "integer not a number": ({"CATALOG_OVERRIDES": "NAT_GATEWAYS", "NAT_GATEWAYS": "two"}, "NAT_GATEWAYS='two'"),
    "boolean not true or false": ({"CATALOG_OVERRIDES": "WAF_ENABLED", "WAF_ENABLED": "yes"}, "true or false"),
    "boolean upper case": ({"CATALOG_OVERRIDES": "WAF_ENABLED", "WAF_ENABLED": "TRUE"}, "WAF_ENABLED='TRUE'"),
    "bad value names the variable and the key": (
        {"CATALOG_OVERRIDES": "AWS_REGION", "AWS_REGION": "eu-north-9"},
        "AWS_REGION='eu-north-9' (overriding region of environments/dev.toml) is not an AWS region",
    ),
    "lock table on local state": (
        {"CATALOG_OVERRIDES": "STATE_LOCK_TABLE", "STATE_LOCK_TABLE": "tf-lock"},
        "needs state.bucket",
    ),
    "empty directory variable": ({"CATALOG_ENVIRONMENTS_DIR": ""}, "CATALOG_ENVIRONMENTS_DIR is set but empty"),
}


@pytest.mark.parametrize("environ,expected", OVERRIDE_REFUSED.values(), ids=list(OVERRIDE_REFUSED))
def test_p08_bad_override_is_refused_in_one_line(environ: dict[str, str], expected: str) -> None:
    assert expected in refusal(environ)


# --- values AWS would refuse at deploy time ------------------------------------------------


def accepted(tmp_path: Path, key: str, value: object, **extra: object) -> Config:
    return load_config(write_environment(tmp_path, {**BASE, **extra, key: value}))


def refused(tmp_path: Path, key: str, value: object, **extra: object) -> str:
    message = refusal(write_environment(tmp_path, {**BASE, **extra, key: value}))
    assert f"x.toml: {key} = " in message, message
    return message


SUFFIX_OK = ["dev", "pr-42", "a", "prod-eu-canary-1"]
SUFFIX_BAD = ["Prod", "dev_1", "dev.1", "a" * 17, "-dev", "dev-", "pr--1", "1dev", " dev", "my dev", "dév", ""]


@pytest.mark.parametrize("value", SUFFIX_OK)
def test_r19_suffix_accepted(tmp_path: Path, value: str) -> None:
    assert accepted(tmp_path, "suffix", value).environment_suffix == value


@pytest.mark.parametrize("value", SUFFIX_BAD)
def test_r19_suffix_refused(tmp_path: Path, value: str) -> None:
    assert "lowercase ASCII letters" in refused(tmp_path, "suffix", value)


REGIONS_OK = ["eu-north-1", "us-east-1", "eu-west-1", "ap-southeast-7", "mx-central-1"]
REGIONS_BAD = {
    "eu-north-9": "did you mean 'eu-north-1'?",
    "EU-NORTH-1": "did you mean 'eu-north-1'?",
    "mars-1": "is not an AWS region",
    "aws-global": "is not an AWS region",
    "cn-north-1": "aws-cn partition",
    "us-gov-west-1": "aws-us-gov partition",
    "me-west-1": "announced",
    "": "is not an AWS region",
}


@pytest.mark.parametrize("key", ["region", "state.bucket_region"])
@pytest.mark.parametrize("value", REGIONS_OK)
def test_r19_region_accepted(tmp_path: Path, key: str, value: str) -> None:
    config = accepted(tmp_path, key, value, **{"state.bucket": "acme-state"})
    assert value in {config.region, config.state.bucket_region}


@pytest.mark.parametrize("key", ["region", "state.bucket_region"])
@pytest.mark.parametrize("value,reason", REGIONS_BAD.items(), ids=list(REGIONS_BAD))
def test_r19_region_refused(tmp_path: Path, key: str, value: str, reason: str) -> None:
    assert reason in refused(tmp_path, key, value, **{"state.bucket": "acme-state"})


def test_r19_region_list_names_its_source() -> None:
    data = json.loads((ROOT / "shared" / "data" / "aws_regions.json").read_text())
    assert data["source"].startswith("botocore ") and "partitions.json" in data["source"]
    assert "pip download --no-deps botocore==" in data["command"]
    assert {"eu-north-1", "us-east-1"} <= set(data["regions"]) and len(data["regions"]) >= 30


BUCKETS_OK = ["abc", "acme-state", "acme.state-1", "1-2-3", "a" * 63, "192.168.5.4.example"]
BUCKETS_BAD = {
    "ab": "3-63 lowercase",
    "a" * 64: "3-63 lowercase",
    "Acme-State": "3-63 lowercase",
    "acme_state": "3-63 lowercase",
    "-acme": "3-63 lowercase",
    "acme-": "3-63 lowercase",
    "acme.": "3-63 lowercase",
    "acmé-state": "3-63 lowercase",
    "acme..state": "two adjacent periods",
    "192.168.5.4": "IP address",
    "xn--acme": "prefix 'xn--'",
    "sthree-acme": "prefix 'sthree-'",
    "sthree-configurator-x": "prefix 'sthree-'",
    "amzn-s3-demo-acme": "prefix 'amzn-s3-demo-'",
    "acme-s3alias": "suffix '-s3alias'",
    "acme--ol-s3": "suffix '--ol-s3'",
    "acme.mrap": "suffix '.mrap'",
    "acme--x-s3": "suffix '--x-s3'",
    "acme--table-s3": "suffix '--table-s3'",
}


@pytest.mark.parametrize("value", BUCKETS_OK)
def test_r18_state_bucket_accepted(tmp_path: Path, value: str) -> None:
    assert accepted(tmp_path, "state.bucket", value).state.bucket == value


@pytest.mark.parametrize("value,reason", BUCKETS_BAD.items(), ids=[k[:20] for k in BUCKETS_BAD])
def test_r18_state_bucket_refused_as_s3_would(tmp_path: Path, value: str, reason: str) -> None:
    assert reason in refused(tmp_path, "state.bucket", value)


TABLES_OK = ["tf_locks", "Tf.Lock-1", "abc", "a" * 255]
TABLES_BAD = ["ab", "lo cks", "a" * 256, "tablé", "tf/lock"]


@pytest.mark.parametrize("value", TABLES_OK, ids=[v[:20] for v in TABLES_OK])
def test_r18_lock_table_accepted(tmp_path: Path, value: str) -> None:
    assert accepted(tmp_path, "state.lock_table", value, **{"state.bucket": "acme-state"}).state.lock_table == value


@pytest.mark.parametrize("value", TABLES_BAD, ids=[v[:20] for v in TABLES_BAD])
def test_r18_lock_table_refused(tmp_path: Path, value: str) -> None:
    assert "DynamoDB table name" in refused(tmp_path, "state.lock_table", value, **{"state.bucket": "acme-state"})


# The environment of accepted()/refused() has suffix "t": its repository is catalog-api-images-t.
IMAGES_OK = [
    f"{ECR}/catalog-api-images-t@{DIGEST}",
    f"{ECR}/catalog-api-images-t:1.4.2@{DIGEST}",
    f"{ECR}/catalog-api-images-t:" + "a" * 128 + f"@{DIGEST}",
]
PRIVATE_ECR = "is not in a private ECR repository"
IMAGES_BAD = {
    "bare name": ("nginx", PRIVATE_ECR),
    "bare name with tag": ("nginx:1.27", PRIVATE_ECR),
    "docker hub": ("docker.io/library/nginx:1.27", PRIVATE_ECR),
    "docker hub user": ("traefik/whoami:v1.10.3", PRIVATE_ECR),
    "ghcr": ("ghcr.io/acme/catalog-api:1", PRIVATE_ECR),
    "ecr public": ("public.ecr.aws/docker/library/nginx:1.27-alpine", PRIVATE_ECR),
    "registry with port": ("123456789012.dkr.ecr.eu-north-1.amazonaws.com:443/api:1", PRIVATE_ECR),
    "account of 11 digits": ("12345678901.dkr.ecr.eu-north-1.amazonaws.com/api:1", PRIVATE_ECR),
    "https scheme": (f"https://{ECR}/catalog-api:1", "URL scheme"),
    "upper-case repository": (f"{ECR}/Catalog-API:1", "must be lowercase"),
    "malformed digest": (f"{ECR}/catalog-api@sha256:abc", "64 lowercase hex"),
    "upper-case digest": (f"{ECR}/catalog-api@{DIGEST.upper()}", "64 lowercase hex"),
    "other digest algorithm": (f"{ECR}/catalog-api@sha512:" + "a" * 128, "64 lowercase hex"),
    "empty digest": (f"{ECR}/catalog-api@", "64 lowercase hex"),
    "tag over 128": (f"{ECR}/catalog-api:" + "a" * 129, "129 characters, at most 128"),
    "tag starting with a period": (f"{ECR}/catalog-api:.1", "a tag is letters"),
    "empty tag": (f"{ECR}/catalog-api:", "a tag is letters"),
    "space": (f"{ECR}/catalog api:1", "ASCII without spaces"),
    "non-ASCII": (f"{ECR}/catalog-äpi:1", "ASCII without spaces"),
    "double slash": (f"{ECR}//catalog-api:1", "is not valid"),
    "unknown ECR region": ("123456789012.dkr.ecr.eu-north-9.amazonaws.com/api:1", "not an AWS region"),
    "China partition": ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/api:1", "outside the aws partition"),
    "double hyphen, not an ECR name": (f"{ECR}/catalog--api:1", "not an ECR repository name"),
    "repository path over 255": (f"{ECR}/" + "a" * 256 + ":1", "longer than 255"),
}


@pytest.mark.parametrize("value", IMAGES_OK)
def test_p02_image_in_private_ecr_accepted(tmp_path: Path, value: str) -> None:
    assert accepted(tmp_path, "image", value).container_image == value


@pytest.mark.parametrize("value,reason", IMAGES_BAD.values(), ids=list(IMAGES_BAD))
def test_p02_image_refused_as_a_registry_or_the_platform_would(tmp_path: Path, value: str, reason: str) -> None:
    assert reason in refused(tmp_path, "image", value)


ALLOWED_REPOSITORY = "allowed: <12-digit account>.dkr.ecr.eu-north-1.amazonaws.com/catalog-api-images-t@sha256:"
IMAGES_OUTSIDE_THE_PLATFORM = {
    "another repository of the account": f"{ECR}/catalog-api@{DIGEST}",
    "the repository name the old examples used": f"{ECR}/catalog-api-t@{DIGEST}",
    "another environment's repository": f"{ECR}/catalog-api-images-prod@{DIGEST}",
    "a nested path": f"{ECR}/team/catalog-api-images-t@{DIGEST}",
    "the repository in another region": f"123456789012.dkr.ecr.us-east-1.amazonaws.com/catalog-api-images-t@{DIGEST}",
}


@pytest.mark.parametrize("value", IMAGES_OUTSIDE_THE_PLATFORM.values(), ids=list(IMAGES_OUTSIDE_THE_PLATFORM))
def test_s01_prebuilt_image_outside_the_environments_repository_is_refused_naming_it(
    tmp_path: Path, value: str
) -> None:
    # The execution role may pull from catalog-api-images-<suffix> only: anything else would end in
    # CannotPullContainerError at the first task start.
    assert ALLOWED_REPOSITORY in refused(tmp_path, "image", value)


@pytest.mark.parametrize("protected", [False, True], ids=["unprotected", "protected"])
def test_s01_prebuilt_image_must_be_pinned_by_digest(tmp_path: Path, protected: bool) -> None:
    extra = {"protection.deletion_protection": protected}
    assert "is not pinned by digest" in refused(tmp_path, "image", f"{ECR}/catalog-api-images-t:1.4.2", **extra)
    assert accepted(tmp_path, "image", f"{ECR}/catalog-api-images-t@{DIGEST}", **extra).container_image


def test_s01_default_builds_from_source_and_the_placeholder_only_on_request(tmp_path: Path) -> None:
    default = load_config(write_environment(tmp_path, BASE))
    assert (default.container_image, default.placeholder) == (None, False)
    chosen = accepted(tmp_path, "image", "placeholder")
    assert (chosen.container_image, chosen.placeholder) == (None, True)


def test_p02_protected_environment_refuses_a_tag_only_override() -> None:
    message = refusal({"ENV": "prod", "CATALOG_OVERRIDES": "CONTAINER_IMAGE", "CONTAINER_IMAGE": f"{ECR}/api:1"})
    assert message.startswith("CONTAINER_IMAGE=") and "pinned by digest" in message


EMAILS_OK = ["oncall@example.com", "first.last+alerts@ops.example.co.uk", "a_b-c@example.org"]
EMAILS_BAD = [
    "oncall",
    "a@b..com",
    "<a@b.com>",
    "Ops <a@b.com>",
    "a@localhost",
    "a@[192.0.2.1]",
    '"a b"@example.com',
    "dév@example.com",
    "a@exämple.com",
    "a@b.invalid",
    "a@@example.com",
    ".a@example.com",
]


@pytest.mark.parametrize("value", EMAILS_OK)
def test_r12_alarm_email_accepted(tmp_path: Path, value: str) -> None:
    assert accepted(tmp_path, "alarm_email", value).alarm_email == value


@pytest.mark.parametrize("value", EMAILS_BAD)
def test_r12_alarm_email_refused_as_sns_would(tmp_path: Path, value: str) -> None:
    assert "is not an e-mail address SNS delivers to" in refused(tmp_path, "alarm_email", value)


GITHUB_OK = ["octo-org/catalog-api", "a/b", "Owner1/repo.name_x", "a" * 39 + "/" + "b" * 100]
GITHUB_BAD = [
    "owner",
    "-owner/x",
    "owner-/x",
    "own--er/x",
    "a" * 40 + "/x",
    "owner/" + "a" * 101,
    "owner/",
    "owner/.",
    "owner/..",
    "owner/x.git",
    "owner/x.wiki",
    "owner/a b",
    "owner/x/y",
    "https://github.com/owner/x",
    "own_er/x",
]


@pytest.mark.parametrize("value", GITHUB_OK, ids=[v[:20] for v in GITHUB_OK])
def test_github_repository_accepted(tmp_path: Path, value: str) -> None:
    assert accepted(tmp_path, "github_repository", value).github_repository == value


@pytest.mark.parametrize("value", GITHUB_BAD, ids=[v[:20] for v in GITHUB_BAD])
def test_github_repository_refused(tmp_path: Path, value: str) -> None:
    assert "is not a GitHub repository" in refused(tmp_path, "github_repository", value)


SCALING_OK = [(1, 1, 0), (2, 10, 1), (1, 100, 100), (3, 12, 0)]
SCALING_BAD = {
    "min 0": ((0, 10, 1), "scaling.min_tasks = 0", "from 1 to 100"),
    "max over 100": ((2, 101, 1), "scaling.max_tasks = 101", "from 1 to 100"),
    "min over max": ((5, 4, 1), "scaling.min_tasks = 5", "must not exceed max_tasks (4)"),
    "base over max": ((1, 4, 5), "scaling.on_demand_base = 5", "from 0 to max_tasks (4)"),
    "base negative": ((1, 4, -1), "scaling.on_demand_base = -1", "from 0 to 100"),
}


@pytest.mark.parametrize("low,high,base", SCALING_OK)
def test_r07_scaling_accepted(tmp_path: Path, low: int, high: int, base: int) -> None:
    settings = {"scaling.min_tasks": low, "scaling.max_tasks": high, "scaling.on_demand_base": base}
    config = load_config(write_environment(tmp_path, {**BASE, **settings}))
    assert (config.min_tasks, config.max_tasks, config.on_demand_base) == (low, high, base)


@pytest.mark.parametrize("values,where,reason", SCALING_BAD.values(), ids=list(SCALING_BAD))
def test_r07_scaling_refused(tmp_path: Path, values: tuple[int, int, int], where: str, reason: str) -> None:
    low, high, base = values
    settings = {"scaling.min_tasks": low, "scaling.max_tasks": high, "scaling.on_demand_base": base}
    message = refusal(write_environment(tmp_path, {**BASE, **settings}))
    assert where in message and reason in message, message


def test_p06_on_demand_base_above_the_default_maximum_is_refused(tmp_path: Path) -> None:
    assert "max_tasks (10)" in refused(tmp_path, "scaling.on_demand_base", 11)


@pytest.mark.parametrize("value", [0, 3])
def test_r02_nat_count_refused(tmp_path: Path, value: int) -> None:
    assert "2 (one per AZ) or 1" in refused(tmp_path, "nat_gateways", value)


# --- how values are shown -------------------------------------------------------------------


def test_r19_long_value_is_shortened_in_the_message(tmp_path: Path) -> None:
    message = refused(tmp_path, "state.bucket", "a" * 10_000)
    assert "(10000 characters)" in message and len(message) < 400


def test_r19_non_printable_characters_are_escaped(tmp_path: Path) -> None:
    message = refused(tmp_path, "suffix", "dev\x1b[2J\u200b")
    assert "\\x1b[2J\\u200b" in message and "\x1b" not in message


def test_r19_override_value_is_shortened_and_escaped() -> None:
    message = refusal({"CATALOG_OVERRIDES": "ENVIRONMENT_SUFFIX", "ENVIRONMENT_SUFFIX": "x\n" * 5_000})
    assert "(10000 characters)" in message and "\\n" in message


# --- end to end: as a user would run it --------------------------------------------------------


def _clean_environ() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in OWN_VARIABLES}


E2E_CASES = {
    "malformed environment file": ('suffix = "dev\nregion = "eu-north-1"\n', {}, "not valid TOML"),
    "unknown key": ('suffix = "dev"\nregion = "eu-north-1"\nregoin = "x"\n', {}, "unknown key 'regoin'"),
    "remote state with its bucket unset": (None, {"ENV": "prod", "CATALOG_OVERRIDES": "STATE_BUCKET"}, "STATE_BUCKET"),
    "bad override": (
        None,
        {"CATALOG_OVERRIDES": "ENVIRONMENT_SUFFIX", "ENVIRONMENT_SUFFIX": "Prod"},
        "ENVIRONMENT_SUFFIX",
    ),
    "missing environment": (None, {"ENV": "staging"}, "available: dev, prod"),
}


@pytest.mark.parametrize("text,environ,expected", E2E_CASES.values(), ids=list(E2E_CASES))
def test_r19_bad_input_exits_fast_with_one_line_and_writes_nothing(
    tmp_path: Path, text: str | None, environ: dict[str, str], expected: str
) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "network").mkdir(parents=True)
    earlier = outdir / "stacks" / "network" / "cdk.tf.json"
    earlier.write_text('{"earlier": true}')
    env = _clean_environ() | environ | {"CDKTF_OUTDIR": str(outdir)}
    if text is not None:
        environments = tmp_path / "environments"
        environments.mkdir()
        env |= write_text(environments, text, name="broken")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("configuration error: "), result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert elapsed < 2.0, f"configuration error took {elapsed:.2f} s"
    assert earlier.read_text() == '{"earlier": true}'
    assert sorted(p.name for p in outdir.rglob("*")) == ["cdk.tf.json", "network", "stacks"]


def test_r19_configuration_is_validated_without_cdktf_or_jsii() -> None:
    code = (
        "import sys; from shared.config import load_config; "
        "load_config({'ENV': 'prod'}); load_config({'ENV': 'variant', 'CATALOG_ENVIRONMENTS_DIR': 'tests/environments'}); "
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'cdktf', 'jsii', 'constructs', 'cdktf_cdktf_provider_aws'}); "
        "print(heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=_clean_environ(), capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_p08_synth_prints_the_override_line_before_building(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import main
    from shared import provider_loader

    def stop(*_: object, **__: object) -> None:
        raise SystemExit(7)

    # The build itself is covered elsewhere; stop right after configuration.
    monkeypatch.setattr(provider_loader, "enable", stop)
    environ = {
        "ENV": "prod",
        "CATALOG_OVERRIDES": "CONTAINER_IMAGE",
        "CONTAINER_IMAGE": f"{ECR}/catalog-api-images-prod@{DIGEST}",
    }
    with pytest.raises(SystemExit):
        main.main(environ)
    assert capsys.readouterr().err == "environment prod: overridden by the environment: CONTAINER_IMAGE\n"


def test_without_email_validator_an_alarm_email_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    # The Makefile's destroy refusal reads the environment file with the machine's python3
    # when .venv does not exist yet (a clean clone).
    monkeypatch.setitem(sys.modules, "email_validator", None)
    with pytest.raises(ConfigError) as raised:
        load_config({"ENV": "prod"})
    assert str(raised.value) == (
        "environments/prod.toml: alarm_email = 'oncall@example.com' cannot be checked: "
        "the email-validator package is not installed (run `make install`)"
    )


# --- [domain]: the API's own host name (S-07) ----------------------------------------------

ZONED = {
    "domain.name": "api.shop.example",
    "domain.hosted_zone_id": "Z0123456789ABC",
    "domain.zone_name": "shop.example",
}
HOST_NAMES_OK = [
    "api.shop.example",
    "shop.example",
    "a.b",
    "xn--bcher-kva.example",
    "1api.shop-2.example",
    ("a" * 63 + ".") * 3 + "a" * 61,
]
HOST_NAMES_BAD = {
    "uppercase": "Api.shop.example",
    "one label": "localhost",
    "trailing dot": "api.shop.example.",
    "empty label": "api..example",
    "leading hyphen": "-api.shop.example",
    "trailing hyphen": "api-.shop.example",
    "underscore": "api_1.shop.example",
    "label of 64": "a" * 64 + ".example",
    "254 characters": ("a" * 63 + ".") * 3 + "a" * 62,
    "wildcard": "*.shop.example",
    "scheme": "https://api.shop.example",
    "non-ascii": "bücher.example",
    "space": "api .shop.example",
}


@pytest.mark.parametrize("value", HOST_NAMES_OK, ids=[v[:24] for v in HOST_NAMES_OK])
def test_s07_domain_name_accepted(tmp_path: Path, value: str) -> None:
    config = accepted(tmp_path, "domain.name", value)
    assert config.domain is not None and config.domain.name == value
    assert config.domain.hosted_zone_id is None


@pytest.mark.parametrize("value", HOST_NAMES_BAD.values(), ids=list(HOST_NAMES_BAD))
def test_s07_domain_name_refused_by_the_dns_rules(tmp_path: Path, value: str) -> None:
    assert "is not a host name" in refused(tmp_path, "domain.name", value)


ZONE_IDS_BAD = {
    "lowercase": "z0123456789abc",
    "no Z": "A0123456789ABC",
    "API prefix": "/hostedzone/Z0123456789ABC",
    "33 characters": "Z" + "A" * 32,
    "just Z": "Z",
    "hyphen": "Z0123-456789",
}


@pytest.mark.parametrize("value", ZONE_IDS_BAD.values(), ids=list(ZONE_IDS_BAD))
def test_s07_hosted_zone_id_refused_by_route53_format(tmp_path: Path, value: str) -> None:
    settings = {**ZONED}
    del settings["domain.hosted_zone_id"]
    assert "is not a Route 53 hosted zone id" in refused(tmp_path, "domain.hosted_zone_id", value, **settings)


def test_s07_domain_with_zone_accepted(tmp_path: Path) -> None:
    domain = load_config(write_environment(tmp_path, {**BASE, **ZONED})).domain
    assert domain is not None
    assert (domain.name, domain.hosted_zone_id, domain.zone_name) == (
        "api.shop.example",
        "Z0123456789ABC",
        "shop.example",
    )
    apex = load_config(write_environment(tmp_path, {**BASE, **ZONED, "domain.name": "shop.example"})).domain
    assert apex is not None and apex.name == "shop.example"


@pytest.mark.parametrize(
    "value,reason",
    [
        ("api.other.example", "outside the hosted zone 'shop.example'"),
        ("apishop.example", "outside the hosted zone 'shop.example'"),
        ("shop.example.org", "outside the hosted zone 'shop.example'"),
        ("example", "is not a host name"),
    ],
)
def test_s07_name_outside_the_zone_is_refused(tmp_path: Path, value: str, reason: str) -> None:
    message = refusal(write_environment(tmp_path, {**BASE, **ZONED, "domain.name": value}))
    assert "domain.name = " in message and reason in message, message


@pytest.mark.parametrize("missing", ["domain.hosted_zone_id", "domain.zone_name"])
def test_s07_zone_id_and_zone_name_go_together(tmp_path: Path, missing: str) -> None:
    settings = {**BASE, **ZONED}
    del settings[missing]
    message = refusal(write_environment(tmp_path, settings))
    assert f"needs {missing.partition('.')[2]} in [domain]" in message


def test_s07_zone_without_a_name_is_refused(tmp_path: Path) -> None:
    settings = {**BASE, **ZONED}
    del settings["domain.name"]
    assert "needs name in [domain]" in refusal(write_environment(tmp_path, settings))


def test_s07_no_domain_by_default() -> None:
    assert load_config({}).domain is None
    assert load_config({"ENV": "domain", "CATALOG_ENVIRONMENTS_DIR": "tests/environments"}).domain is not None


def test_s07_a_zoned_name_leaves_room_for_the_albs_own_name(tmp_path: Path) -> None:
    zone = "shop.example"
    # 246 characters: origin.<name> is 253, the most a host name may have.

    def name(length: int) -> str:
        fourth = length - 3 * 64 - len(zone) - 1
        return "a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * fourth + "." + zone

    longest = name(246)
    zoned = synthesize_config(load_config(write_environment(tmp_path, {**BASE, **ZONED, "domain.name": longest})))
    assert zoned.one("app", "aws_acm_certificate")["domain_name"] == "origin." + longest
    message = refusal(write_environment(tmp_path, {**BASE, **ZONED, "domain.name": name(247)}))
    assert "too long for the ALB's own name origin.<name>" in message and "at most 246" in message, message
    # Without a zone the ALB keeps its own name: the full 253 characters stay allowed.
    unzoned = synthesize_config(accepted(tmp_path, "domain.name", name(253)))
    assert not unzoned.resources("app", "aws_acm_certificate")
