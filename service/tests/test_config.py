"""Settings come only from the contract's variables, validated with one clear line each."""

from __future__ import annotations

from pathlib import Path

import pytest

from catalog_api.config import ConfigError, load_settings
from devtools import tls

BASE = {"DB_USER": "catalog_master", "DB_PASSWORD": "pw-very-secret"}


def test_defaults_match_the_contract() -> None:
    settings = load_settings(BASE)
    assert (settings.port, settings.db_port, settings.db_name, settings.db_sslmode, settings.log_level) == (
        3000,
        5432,
        "catalog",
        "require",
        "info",
    )
    assert settings.writes_enabled is False


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PORT", "0", "PORT must be an integer from 1 to 65535"),
        ("PORT", "3000x", "PORT must be an integer from 1 to 65535"),
        ("DB_PORT", "70000", "DB_PORT must be an integer from 1 to 65535"),
        ("DB_SSLMODE", "sometimes", "DB_SSLMODE must be one of"),
        ("LOG_LEVEL", "chatty", "LOG_LEVEL must be one of"),
        ("AWS_REGION", "mars-1", "AWS_REGION must be an AWS region name"),
        ("DB_SECRET_ARN", "not-an-arn", "DB_SECRET_ARN must be a Secrets Manager secret ARN"),
        ("DB_HOST", "bad host;", "DB_HOST must be a host name"),
        ("DB_READER_HOST", "bad host;", "DB_READER_HOST must be a host name"),
        ("DB_NAME", "1db", "DB_NAME must be 1-63 characters"),
        ("DB_SSLROOTCERT", "/nonexistent/rds-ca-bundle.pem", "DB_SSLROOTCERT must name a readable PEM file"),
        ("DB_SSLROOTCERT", "/etc/hostname", "DB_SSLROOTCERT must name a readable PEM file"),
    ],
)
def test_a_bad_variable_is_named_in_one_line(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, name: value})
    assert str(info.value).startswith(expected)
    assert "\n" not in str(info.value)


def test_i16_reads_use_the_writer_unless_a_reader_host_is_set() -> None:
    assert load_settings({**BASE, "DB_HOST": "writer.internal"}).reader_host == "writer.internal"
    both = load_settings({**BASE, "DB_HOST": "writer.internal", "DB_READER_HOST": " reader.internal "})
    assert (both.db_host, both.reader_host) == ("writer.internal", "reader.internal")


def test_credentials_are_required_unless_the_secret_can_be_read() -> None:
    with pytest.raises(ConfigError, match="DB_USER and DB_PASSWORD must be set"):
        load_settings({})
    arn = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:rds!cluster-abc-123456"
    settings = load_settings({"DB_SECRET_ARN": arn})
    assert settings.db_user is None
    assert settings.secret_region == "eu-north-1"


def test_aws_region_wins_over_the_arn_region() -> None:
    arn = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:db-AbCdEf"
    assert load_settings({**BASE, "DB_SECRET_ARN": arn, "AWS_REGION": "eu-west-1"}).secret_region == "eu-west-1"


def test_password_and_token_never_appear_in_repr() -> None:
    settings = load_settings({**BASE, "ADMIN_TOKEN": "tok-" + "z" * 40})
    text = repr(settings) + str(settings)
    assert "pw-very-secret" not in text
    assert "zzzz" not in text


def test_short_admin_token_keeps_writes_disabled() -> None:
    assert load_settings({**BASE, "ADMIN_TOKEN": "short"}).writes_enabled is False
    assert load_settings({**BASE, "ADMIN_TOKEN": "x" * 16}).writes_enabled is True


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_i15_a_verifying_sslmode_without_a_ca_bundle_is_refused_at_start(mode: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({**BASE, "DB_SSLMODE": mode})
    assert str(info.value) == (
        f"DB_SSLMODE={mode} needs DB_SSLROOTCERT: a PEM file of the CAs that sign the database's certificate"
    )


def test_i15_a_ca_bundle_is_read_from_db_sslrootcert(tmp_path: Path) -> None:
    bundle = tls.write_bundle(tls.authority("stand-in"), tmp_path / "bundle.pem")
    settings = load_settings({**BASE, "DB_SSLMODE": "verify-full", "DB_SSLROOTCERT": str(bundle)})
    assert (settings.db_sslmode, settings.db_sslrootcert) == ("verify-full", str(bundle))
