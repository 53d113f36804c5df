"""Configuration of one deployment, read from environment variables (R-19).

Pure Python on purpose: ``main.py`` validates with this module before cdktf or the
AWS provider is imported, so a typo is reported in well under a second and nothing
is written to ``cdktf.out/``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROJECT = "catalog-api"
DEFAULT_SUFFIX = "dev"
DEFAULT_REGION = "eu-north-1"
# Longest suffix for which every name stays within its AWS limit (F-8). The tightest
# is the ALB name "catalog-api-alb-<suffix>", at most 32 characters; tests synthesize
# the app with a suffix of exactly this length and the guardrails check every name.
MAX_SUFFIX_LENGTH = 16

_VERSIONS_FILE = Path(__file__).parent / "data" / "aurora_postgresql_versions.json"
_SUFFIX = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*$")
_BUCKET = re.compile(r"^[a-z0-9](?:[a-z0-9.-]{1,61})[a-z0-9]$")
_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_IMAGE = re.compile(r"^[a-z0-9][a-z0-9._/:@-]*[a-zA-Z0-9._-]$", re.IGNORECASE)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ConfigError(ValueError):
    """A configuration value that is not allowed; the message is one line for a person."""


@dataclass(frozen=True, kw_only=True)
class StateConfig:
    """Where Terraform keeps each stack's state (R-18)."""

    bucket: str | None = None
    """S3 bucket for remote state; None keeps state in local files. Default: None."""
    bucket_region: str = DEFAULT_REGION
    """Region of the state bucket. Default: the deployment region."""
    lock_table: str | None = None
    """DynamoDB table for state locking, for Terraform older than 1.10; None uses use_lockfile. Default: None."""
    use_lockfile: bool = True
    """S3-native state locking (Terraform >= 1.10) through a lock object next to the state. Default: True."""
    local_dir: str = ".state"
    """Folder, relative to the project root, for local state files. Default: .state."""


@dataclass(frozen=True, kw_only=True)
class Config:
    """Everything that differs between deployments, validated once in ``main.py``."""

    environment_suffix: str = DEFAULT_SUFFIX
    """Suffix in every resource name and state key, e.g. dev, staging, prod. Default: dev."""
    region: str = DEFAULT_REGION
    """AWS region of all stacks. Default: eu-north-1."""
    state: StateConfig = field(default_factory=StateConfig)
    """Terraform state location. Default: local files under .state/."""
    environment_name: str = DEFAULT_SUFFIX
    """Name of the committed environment file (environments/<name>.toml) this came from. Default: dev."""
    container_image: str | None = None
    """The API image in the platform's private ECR (by digest); None runs the secret-less placeholder. Default: None."""
    nat_gateways: int = 2
    """NAT gateways: 2 (one per AZ, survives an AZ outage) or 1 (cheaper). Default: 2."""
    alarm_email: str | None = None
    """E-mail subscribed to the alarm topic; None subscribes nobody. Default: None."""
    waf_enabled: bool = True
    """Attach a WAF web ACL to CloudFront (WAF_ENABLED=true|false). Default: True."""
    min_tasks: int = 2
    """Fewest running API tasks (R-07). Default: 2."""
    max_tasks: int = 10
    """Most running API tasks (R-07). Default: 10."""
    on_demand_base: int = 1
    """API tasks kept on on-demand FARGATE under the Spot tasks (P-06), 0 to max_tasks. Default: 1."""
    deletion_protection: bool = False
    """Deletion protection on Aurora, the ALB and the image repository (P-07); off keeps R-16. Default: False."""
    final_snapshot: bool = False
    """Take a final Aurora snapshot on destroy (P-07). Default: False."""
    github_repository: str | None = None
    """GitHub "owner/name" allowed to deploy through OIDC (make bootstrap); None creates no deploy role. Default: None."""


def aurora_versions() -> Mapping[str, tuple[str, ...]]:
    """Aurora PostgreSQL versions accepted per region, from the checked-in allowlist."""
    data = json.loads(_VERSIONS_FILE.read_text(encoding="utf-8"))
    return {region: tuple(versions) for region, versions in data["regions"].items()}


def _describe(value: str) -> str:
    return repr(value) if value.strip() == value and value else f"{value!r} (has leading/trailing or only white space)"


def _suffix(raw: str) -> str:
    if not raw.isascii() or not _SUFFIX.fullmatch(raw) or len(raw) > MAX_SUFFIX_LENGTH:
        raise ConfigError(
            f"ENVIRONMENT_SUFFIX={_describe(raw)} is not allowed: use 1-{MAX_SUFFIX_LENGTH} lowercase ASCII letters, "
            "digits and single hyphens, starting with a letter and not ending with a hyphen (e.g. dev, staging, pr-42)"
        )
    return raw


def _region(raw: str, variable: str) -> str:
    regions = sorted(aurora_versions())
    if raw not in regions:
        raise ConfigError(f"{variable}={_describe(raw)} is not a supported region; allowed: {', '.join(regions)}")
    return raw


def _state_region(raw: str) -> str:
    if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", raw):
        raise ConfigError(f"STATE_BUCKET_REGION={_describe(raw)} is not an AWS region name (e.g. eu-north-1)")
    return raw


def _bucket(raw: str) -> str:
    if not _BUCKET.fullmatch(raw) or ".." in raw:
        raise ConfigError(
            f"STATE_BUCKET={_describe(raw)} is not a valid S3 bucket name: 3-63 lowercase letters, digits, dots "
            "and hyphens, starting and ending with a letter or digit"
        )
    return raw


def _table(raw: str) -> str:
    if not _TABLE.fullmatch(raw):
        raise ConfigError(
            f"STATE_LOCK_TABLE={_describe(raw)} is not a valid DynamoDB table name: 3-255 letters, digits, '_', '-' or '.'"
        )
    return raw


def _image(raw: str) -> str:
    if not raw.isascii() or not _IMAGE.fullmatch(raw) or len(raw) > 255:
        raise ConfigError(
            f"CONTAINER_IMAGE={_describe(raw)} is not an image reference (e.g. 123456789012.dkr.ecr.eu-north-1.amazonaws.com/catalog-api:1.4.2)"
        )
    return raw


def _nat(raw: str) -> int:
    if raw not in {"1", "2"}:
        raise ConfigError(f"NAT_GATEWAYS={_describe(raw)} is not allowed: 2 (one per AZ) or 1 (single, cheaper)")
    return int(raw)


def _flag(raw: str, variable: str) -> bool:
    if raw not in {"true", "false"}:
        raise ConfigError(f"{variable}={_describe(raw)} is not allowed: true or false")
    return raw == "true"


def _email(raw: str) -> str:
    if not raw.isascii() or not _EMAIL.fullmatch(raw):
        raise ConfigError(f"ALARM_EMAIL={_describe(raw)} is not an e-mail address (e.g. oncall@example.com)")
    return raw


def load_config(environ: Mapping[str, str]) -> Config:
    """Validate the variables of ``environ`` and build the ``Config``.

    An unset variable takes its default; a variable set to an empty string is an
    error, because an empty value is nearly always a broken export rather than a
    wish for the default.
    """

    def get(name: str) -> str | None:
        value = environ.get(name)
        if value is not None and value.strip() == "":
            raise ConfigError(f"{name} is set but empty; unset it to use the default or give a value")
        return value

    suffix = _suffix(get("ENVIRONMENT_SUFFIX") or DEFAULT_SUFFIX)
    region = _region(get("AWS_REGION") or DEFAULT_REGION, "AWS_REGION")
    bucket = get("STATE_BUCKET")
    bucket_region = get("STATE_BUCKET_REGION")
    lock_table = get("STATE_LOCK_TABLE")
    if bucket is None and (bucket_region is not None or lock_table is not None):
        given = "STATE_BUCKET_REGION" if bucket_region is not None else "STATE_LOCK_TABLE"
        raise ConfigError(
            f"{given} is set but STATE_BUCKET is not; set STATE_BUCKET too, or unset {given} for local state"
        )
    if bucket is not None and lock_table is None:
        raise ConfigError(
            "STATE_LOCK_TABLE is not set: a DynamoDB lock table is required with STATE_BUCKET so that two applies cannot corrupt the state"
        )
    state = StateConfig(
        bucket=_bucket(bucket) if bucket is not None else None,
        bucket_region=_state_region(bucket_region) if bucket_region is not None else region,
        lock_table=_table(lock_table) if lock_table is not None else None,
    )
    image = get("CONTAINER_IMAGE")
    nat = get("NAT_GATEWAYS")
    email = get("ALARM_EMAIL")
    waf = get("WAF_ENABLED")
    return Config(
        environment_suffix=suffix,
        region=region,
        state=state,
        container_image=_image(image) if image is not None else None,
        nat_gateways=_nat(nat) if nat is not None else 2,
        alarm_email=_email(email) if email is not None else None,
        waf_enabled=_flag(waf, "WAF_ENABLED") if waf is not None else True,
    )
