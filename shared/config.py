"""Configuration of one deployment: a committed environment file plus explicit overrides (R-19, P-08).

``ENV=<name>`` (default ``dev``) selects ``environments/<name>.toml``. Everything that
must not drift between deploys lives there; an environment variable changes a key
only when its name is listed in ``CATALOG_OVERRIDES``, so an ambient ``AWS_REGION``
or a forgotten ``export`` cannot move a deployment.

Pure Python on purpose (stdlib, plus email-validator for ALARM_EMAIL): ``main.py``
validates with this module before cdktf or the AWS provider is imported, so a typo
is reported in well under a second and nothing is written to ``cdktf.out/``.
"""

from __future__ import annotations

import difflib
import ipaddress
import itertools
import json
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from shared.naming import IMAGE_REPOSITORY_KIND, Naming

PROJECT = "catalog-api"
DEFAULT_SUFFIX = "dev"
DEFAULT_REGION = "eu-north-1"
# Longest suffix for which every name stays within its AWS limit (F-8). The tightest
# is the ALB name "catalog-api-alb-<suffix>", at most 32 characters; tests synthesize
# the app with a suffix of exactly this length and the guardrails check every name.
MAX_SUFFIX_LENGTH = 16

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS_DIR = "environments"
DEFAULT_ENVIRONMENT = "dev"
ENVIRONMENT_VARIABLE = "ENV"
"""Names the environment file, environments/<ENV>.toml."""
DIRECTORY_VARIABLE = "CATALOG_ENVIRONMENTS_DIR"
"""Another folder of environment files (tests, or files kept outside the repository)."""
OVERRIDES_VARIABLE = "CATALOG_OVERRIDES"
"""Comma-separated names of the variables allowed to override the file, e.g. CONTAINER_IMAGE,ALARM_EMAIL."""
MAX_TASKS_LIMIT = 100
# Aurora holds at most 15 Aurora Replicas per cluster ("Adding Aurora Replicas to a DB cluster",
# Aurora user guide, read 2026-11-29): the ceiling [scaling] max_readers may name.
MAX_READERS_LIMIT = 15
DEFAULT_MAX_READERS = 3
# How long before a sale starts its readers are requested. AWS documents no figure for how long
# adding an Aurora Replica takes (the Aurora user guide's "Adding Aurora Replicas to a DB cluster"
# and "Amazon Aurora Auto Scaling with Aurora Replicas", read 2026-11-29, give none): creating a
# DB instance, its first start and its join to the reader endpoint take minutes, not seconds
# (the data layer's own "10-14 min" for a cluster and two instances in docs/deployment.md is an
# estimate too, never timed here), and Aurora Auto Scaling acts only while the cluster is
# "available" (same page). 30 minutes is an assumption, chosen to be conservative: a reader that is early costs half an hour of one instance; a late
# one leaves the sale's first reads on the writer.
READER_LEAD = timedelta(minutes=30)
_SALE_NAME = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){0,39}")
_SALE_KEYS = ("name", "starts", "ends", "min_tasks", "max_tasks", "min_readers")
# A longer value is cut in messages: a pasted 10,000-character value must not flood the terminal.
SHOWN_CHARACTERS = 60

_REGIONS_FILE = Path(__file__).parent / "data" / "aws_regions.json"


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
class DomainConfig:
    """The API's own host name and, optionally, the Route 53 zone that holds it (S-07)."""

    name: str
    """Host name viewers use, e.g. api.shop.example. No default."""
    hosted_zone_id: str | None = None
    """Route 53 public hosted zone for the certificate's validation and the alias records; None prints the records. Default: None."""
    zone_name: str | None = None
    """Name of that zone (e.g. shop.example), required with hosted_zone_id so a name outside it is refused offline. Default: None."""

    @property
    def origin_name(self) -> str | None:
        """The ALB's own name in the zone (origin.<name>), for HTTPS from CloudFront; None without a zone."""
        return f"{ORIGIN_LABEL}.{self.name}" if self.hosted_zone_id is not None else None


@dataclass(frozen=True, kw_only=True)
class Sale:
    """A sale window ([[sale]] in an environment file): capacity held from before ``starts`` until ``ends`` (S-04)."""

    name: str
    """Short name, in the scheduled actions' names: 1-40 lowercase letters, digits and single hyphens. No default."""
    starts: datetime
    """When the sale's traffic begins, UTC; capacity is raised a lead time before. No default."""
    ends: datetime
    """When the window closes, UTC; capacity returns to [scaling]'s values then. No default."""
    min_tasks: int
    """Fewest API tasks during the window, 1 to max_tasks. No default."""
    max_tasks: int
    """Most API tasks during the window, up to 100. No default."""
    min_readers: int
    """Fewest Aurora readers during the window, 1 to [scaling] max_readers. No default."""


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
    """A prebuilt API image, by digest, in this environment's own repository; None builds service/. Default: None."""
    placeholder: bool = False
    """Run the credential-less placeholder instead of the API (image = "placeholder"). Default: False."""
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
    max_readers: int = DEFAULT_MAX_READERS
    """Most Aurora readers the replica autoscaling may run (S-04), 1 to 15. Default: 3."""
    sales: tuple[Sale, ...] = ()
    """Sale windows, in order of start (S-04). Default: none."""
    deletion_protection: bool = False
    """Deletion protection on Aurora, the ALB and the image repository (P-07); off keeps R-16. Default: False."""
    final_snapshot: bool = False
    """Take a final Aurora snapshot on destroy (P-07). Default: False."""
    github_repository: str | None = None
    """GitHub "owner/name" allowed to deploy through OIDC (make bootstrap); None creates no deploy role. Default: None."""
    domain: DomainConfig | None = None
    """The API's own host name ([domain] name); None serves at the distribution's cloudfront.net name. Default: None."""
    origin_shield_region: str | None = None
    """AWS Region of CloudFront Origin Shield in front of the ALB (eu-west-2 for eu-north-1); None: off. Default: None."""
    overrides: tuple[str, ...] = ()
    """Variables named in CATALOG_OVERRIDES that replaced a value of the environment file. Default: ()."""
    ignored_variables: tuple[str, ...] = ()
    """Override variables set in the environment with another value but not named in CATALOG_OVERRIDES. Default: ()."""

    def override_report(self) -> str | None:
        """One line for the synth output naming what the environment variables changed, or None if nothing."""
        if not self.overrides and not self.ignored_variables:
            return None
        overridden = ", ".join(self.overrides) if self.overrides else "nothing"
        line = f"environment {self.environment_name}: overridden by the environment: {overridden}"
        if self.ignored_variables:
            line += f"; ignored (not named in {OVERRIDES_VARIABLE}): {', '.join(self.ignored_variables)}"
        return line


# --- the keys of an environment file -------------------------------------------------

Value = str | int | bool


@dataclass(frozen=True)
class Key:
    """One key of an environment file and the variable that may override it."""

    name: str
    """Dotted key, e.g. state.bucket for bucket in the [state] table. No default."""
    kind: type[str] | type[int] | type[bool]
    """TOML type of the value: str, int or bool. No default."""
    variable: str
    """Environment variable that overrides it when named in CATALOG_OVERRIDES (R-19 names). No default."""
    required: bool = False
    """Whether every environment file must set it. Default: False."""


KEYS: tuple[Key, ...] = (
    # Required: a new file that forgot them would otherwise deploy into dev's names or region.
    Key("suffix", str, "ENVIRONMENT_SUFFIX", required=True),
    Key("region", str, "AWS_REGION", required=True),
    Key("image", str, "CONTAINER_IMAGE"),
    Key("alarm_email", str, "ALARM_EMAIL"),
    Key("nat_gateways", int, "NAT_GATEWAYS"),
    Key("waf_enabled", bool, "WAF_ENABLED"),
    Key("github_repository", str, "GITHUB_REPOSITORY"),
    Key("origin_shield_region", str, "ORIGIN_SHIELD_REGION"),
    Key("state.bucket", str, "STATE_BUCKET"),
    Key("state.bucket_region", str, "STATE_BUCKET_REGION"),
    Key("state.use_lockfile", bool, "STATE_USE_LOCKFILE"),
    Key("state.lock_table", str, "STATE_LOCK_TABLE"),
    Key("scaling.min_tasks", int, "MIN_TASKS"),
    Key("scaling.max_tasks", int, "MAX_TASKS"),
    Key("scaling.on_demand_base", int, "ON_DEMAND_BASE"),
    Key("scaling.max_readers", int, "MAX_READERS"),
    Key("protection.deletion_protection", bool, "DELETION_PROTECTION"),
    Key("protection.final_snapshot", bool, "FINAL_SNAPSHOT"),
    Key("domain.name", str, "DOMAIN_NAME"),
    Key("domain.hosted_zone_id", str, "HOSTED_ZONE_ID"),
    Key("domain.zone_name", str, "HOSTED_ZONE_NAME"),
)
_BY_NAME = {key.name: key for key in KEYS}
_BY_VARIABLE = {key.variable: key for key in KEYS}
TABLES = ("state", "scaling", "protection", "domain")
SALE_TABLE = "sale"


@dataclass(frozen=True)
class _Setting:
    """A value with where it came from, so an error names the file and key or the variable."""

    key: Key
    """The key this value is for."""
    value: Value
    """The value as read: from the file, or parsed from the override variable."""
    label: str
    """e.g. "environments/prod.toml: state.bucket = 'x'" or "STATE_BUCKET='x' (overriding state.bucket of …)"."""

    def refuse(self, reason: str) -> ConfigError:
        return ConfigError(f"{self.label} {reason}")


# --- how values are shown in messages ------------------------------------------------


def show(value: object) -> str:
    """``value`` for a one-line message: TOML booleans, escaped strings, long ones cut."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, str):
        return repr(value)
    # repr escapes newlines, control and other non-printable characters, so the
    # message stays one line and shows what is really there.
    if len(value) > SHOWN_CHARACTERS:
        return f"{value[:SHOWN_CHARACTERS]!r}… ({len(value)} characters)"
    if value.strip() != value or not value:
        return f"{value!r} (has leading/trailing or only white space)"
    return repr(value)


def _type_name(value: object) -> str:
    names: list[tuple[type | tuple[type, ...], str]] = [
        (bool, "a boolean"),
        (int, "an integer"),
        (float, "a float"),
        (str, "a string"),
        (dict, "a table"),
        (list, "an array"),
    ]
    for kind, name in names:
        if isinstance(value, kind):
            return name
    return "a date/time"


def _expected(key: Key) -> str:
    return {str: "a string in quotes", int: "an integer", bool: "true or false"}[key.kind]


# --- validators: AWS's rules, one line each -------------------------------------------

_SUFFIX = re.compile(r"[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*")


def _suffix(setting: _Setting) -> str:
    raw = str(setting.value)
    if not raw.isascii() or not _SUFFIX.fullmatch(raw) or len(raw) > MAX_SUFFIX_LENGTH:
        raise setting.refuse(
            f"is not allowed: use 1-{MAX_SUFFIX_LENGTH} lowercase ASCII letters, digits and single hyphens, "
            "starting with a letter and not ending with a hyphen (e.g. dev, staging, pr-42)"
        )
    return raw


@cache
def _regions() -> tuple[dict[str, str], dict[str, str], tuple[str, ...]]:
    data = json.loads(_REGIONS_FILE.read_text(encoding="utf-8"))
    return data["regions"], data["other_partitions"], tuple(data["not_launched"])


def _region(setting: _Setting) -> str:
    # Real region names from botocore's partition and endpoint data (shared/data/aws_regions.json
    # names the botocore version and the command that generated it), not a pattern.
    raw = str(setting.value)
    regions, other_partitions, not_launched = _regions()
    if raw in regions:
        return raw
    if raw in other_partitions:
        raise setting.refuse(
            f"is in the {other_partitions[raw]} partition; this platform deploys only to the aws partition "
            "(CloudFront and its WAF are managed from us-east-1)"
        )
    if raw in not_launched:
        raise setting.refuse(
            "is announced but its endpoints for ECS, RDS and the other services used are not listed yet"
        )
    near = difflib.get_close_matches(raw.lower(), regions, n=1)
    hint = f"did you mean {near[0]!r}? " if near else ""
    raise setting.refuse(f"is not an AWS region; {hint}allowed: {', '.join(regions)}")


# S3 general purpose bucket naming rules, https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
# (stored copy read 2026-11-23). Periods are allowed: the SDKs' S3 endpoint rules fall
# back to path-style requests for names that are not valid single DNS labels.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def _is_ip_address(raw: str) -> bool:
    try:
        ipaddress.IPv4Address(raw)
    except ValueError:
        return bool(re.fullmatch(r"\d+\.\d+\.\d+\.\d+", raw))
    return True


def _bucket(setting: _Setting) -> str:
    raw = str(setting.value)
    rules = "3-63 lowercase letters, digits, periods and hyphens, starting and ending with a letter or digit"
    if not raw.isascii() or not _BUCKET.fullmatch(raw):
        raise setting.refuse(f"is not a valid S3 bucket name: {rules}")
    if ".." in raw:
        raise setting.refuse("is not a valid S3 bucket name: two adjacent periods")
    if _is_ip_address(raw):
        raise setting.refuse("is not a valid S3 bucket name: formatted as an IP address")
    for prefix in _BUCKET_PREFIXES:
        if raw.startswith(prefix):
            raise setting.refuse(f"is not a valid S3 bucket name: the prefix {prefix!r} is reserved by AWS")
    for suffix in _BUCKET_SUFFIXES:
        if raw.endswith(suffix):
            raise setting.refuse(f"is not a valid S3 bucket name: the suffix {suffix!r} is reserved by AWS")
    return raw


# DynamoDB naming rules (read 2026-11-23):
# https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.NamingRulesDataTypes.html
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def _table(setting: _Setting) -> str:
    raw = str(setting.value)
    if not _TABLE.fullmatch(raw):
        raise setting.refuse("is not a valid DynamoDB table name: 3-255 ASCII letters, digits, '_', '-' or '.'")
    return raw


# Image references: the grammar of github.com/distribution/reference (reference.go:
# "tag := /[\w][\w.-]{0,127}/", lowercase path components, at most 255 characters),
# the sha256 encoding of 64 lowercase hex digits ECR uses, and ECR's repository name
# pattern (ECR API reference, Repository: 2-256 characters). Read 2026-11-23.
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?", re.ASCII)
_PATH = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*", re.ASCII)
_TAG = re.compile(r"\w[\w.-]*", re.ASCII)
_MAX_TAG = 128
_MAX_PATH = 255
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_ECR_HOST = re.compile(r"([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?")
_ECR_REPOSITORY = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
_ECR_EXAMPLE = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/catalog-api-images-prod@sha256:<64 hex digits>"
# image = "placeholder" runs the credential-less placeholder instead of the API; only on request.
PLACEHOLDER = "placeholder"


def _image(setting: _Setting) -> str:
    raw = str(setting.value)
    if raw == PLACEHOLDER:
        return raw
    if "://" in raw:
        raise setting.refuse(f"has a URL scheme; an image reference has none (e.g. {_ECR_EXAMPLE})")
    if not raw.isascii() or not raw.isprintable() or " " in raw:
        raise setting.refuse(f"is not an image reference: ASCII without spaces (e.g. {_ECR_EXAMPLE})")
    name, at, digest = raw.partition("@")
    tag: str | None = None
    if name.rfind(":") > name.rfind("/"):
        name, _, tag = name.rpartition(":")
    domain, slash, path = name.partition("/")
    if not slash or not (_DOMAIN.fullmatch(domain) and ("." in domain or ":" in domain)):
        # Docker's rule: a first component without '.' or ':' is a Docker Hub path.
        domain, path = "", name
    if not _PATH.fullmatch(path):
        problem = "must be lowercase" if _PATH.fullmatch(path.lower()) else "is not valid"
        raise setting.refuse(
            f"is not an image reference: the repository path {path[:SHOWN_CHARACTERS]!r} {problem} "
            "(lowercase letters and digits separated by '.', '_', '__', '-' or '/')"
        )
    if len(path) > _MAX_PATH:
        raise setting.refuse(f"is not an image reference: the repository path is longer than {_MAX_PATH} characters")
    if tag is not None and not _TAG.fullmatch(tag):
        raise setting.refuse(
            "is not an image reference: a tag is letters, digits, '_', '.' and '-', not starting with '.' or '-'"
        )
    if tag is not None and len(tag) > _MAX_TAG:
        raise setting.refuse(f"is not an image reference: the tag has {len(tag)} characters, at most {_MAX_TAG}")
    if at and not _DIGEST.fullmatch(digest):
        raise setting.refuse(
            "is not an image reference: the digest must be sha256: followed by 64 lowercase hex digits"
        )
    host = _ECR_HOST.fullmatch(domain)
    if host is None:
        # P-02/P-03: the API container receives the database credentials.
        raise setting.refuse(
            "is not in a private ECR repository (<12-digit account>.dkr.ecr.<region>.amazonaws.com/<repository>): "
            "the API container receives the database credentials, which never go to an image the project does "
            "not own, and anonymous Docker Hub pulls are rate-limited"
        )
    regions, other_partitions, _ = _regions()
    region = host.group(2)
    if host.group(3) or region in other_partitions:
        raise setting.refuse(
            "is in an ECR registry outside the aws partition; this platform deploys only to the aws partition"
        )
    if region not in regions:
        raise setting.refuse(f"names the ECR region {region!r}, which is not an AWS region")
    if not 2 <= len(path) <= 256 or not _ECR_REPOSITORY.fullmatch(path):
        raise setting.refuse(
            "is not an ECR repository name: lowercase letters and digits separated by single '.', '_', '-' or '/'"
        )
    if not at:
        raise setting.refuse(
            "is not pinned by digest: a prebuilt image is named by digest, so what runs is exactly what was "
            f"built and tested (e.g. {_ECR_EXAMPLE}); leave image unset to build service/"
        )
    return raw


def _platform_image(setting: _Setting, *, suffix: str, region: str) -> None:
    """A prebuilt image must come from this environment's own repository: the only one its tasks may pull from."""
    repository = Naming(project=PROJECT, suffix=suffix).name(IMAGE_REPOSITORY_KIND)
    name = str(setting.value).partition("@")[0]
    host, _, path = name.partition("/")
    if name.rfind(":") > name.rfind("/"):
        path = path.rpartition(":")[0]
    ecr = _ECR_HOST.fullmatch(host)
    if ecr is None or ecr.group(2) != region or path != repository:
        raise setting.refuse(
            f"is not in this environment's image repository; allowed: "
            f"<12-digit account>.dkr.ecr.{region}.amazonaws.com/{repository}@sha256:<64 hex digits> "
            "(copy an image there with make promote), or leave image unset to build service/"
        )


def _email(setting: _Setting) -> str:
    # email-validator without the DNS check (no network here); quoted local parts,
    # IP-address domains, display names and non-ASCII addresses stay refused, since
    # SNS e-mail subscriptions are not documented to deliver to them.
    try:
        from email_validator import EmailNotValidError, validate_email
    except ImportError:
        # The Makefile's destroy and environment checks may run on the machine's python3
        # before `make install`: one line, not a traceback.
        raise setting.refuse(
            "cannot be checked: the email-validator package is not installed (run `make install`)"
        ) from None

    raw = str(setting.value)
    if not raw.isascii():
        raise setting.refuse("is not an e-mail address SNS delivers to: use ASCII (an IDNA domain as xn--…)")
    try:
        validate_email(raw, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise setting.refuse(f"is not an e-mail address SNS delivers to: {error}") from None
    return raw


# GitHub: owner (user or organization) 1-39 letters, digits and single hyphens, not
# starting or ending with one (the sign-up form's messages, as collected by the npm
# package github-username-regex); repository 1-100 ASCII letters, digits, '.', '-',
# '_', not ending in '.git' or '.wiki' ("Repository name" in GitHub's repository
# limits page, github/docs pull request 44805); '.' and '..' are not names in git.
# Both read 2026-11-23.
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}")
_GITHUB_NAME = re.compile(r"[A-Za-z0-9._-]{1,100}")


def _github(setting: _Setting) -> str:
    raw = str(setting.value)
    owner, slash, name = raw.partition("/")
    if (
        not slash
        or not _GITHUB_OWNER.fullmatch(owner)
        or not _GITHUB_NAME.fullmatch(name)
        or name in {".", ".."}
        or name.endswith((".git", ".wiki"))
    ):
        raise setting.refuse(
            "is not a GitHub repository: owner/name, the owner 1-39 letters, digits and single inner hyphens, "
            "the name 1-100 letters, digits, '.', '-' or '_' (not ending in .git)"
        )
    return raw


# Host names: RFC 1035 section 2.3.1 labels (a letter or digit first, as RFC 1123 section 2.1
# allows, letters, digits and inner hyphens, at most 63 characters each) and section 2.3.4's
# 255 octets on the wire, i.e. at most 253 characters written without the trailing dot. Lowercase
# only: DNS compares names case-insensitively, and ACM and CloudFront store them as given, so one
# spelling keeps the certificate, the alias and the records the same name. At least two labels:
# a public zone's apex is a registered domain, never a top-level domain alone.
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
MAX_HOST_NAME = 253
# With a zone the ALB also gets a name, <ORIGIN_LABEL>.<domain.name>, and a certificate for it.
ORIGIN_LABEL = "origin"


def _host_name(setting: _Setting) -> str:
    raw = str(setting.value)
    labels = raw.split(".")
    if (
        not raw.isascii()
        or len(raw) > MAX_HOST_NAME
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
    ):
        raise setting.refuse(
            f"is not a host name: at least two dot-separated labels of 1-63 lowercase letters, digits and inner "
            f"hyphens, at most {MAX_HOST_NAME} characters, no trailing dot (an IDN as xn--…, e.g. api.shop.example)"
        )
    return raw


# Route 53 hosted zone ids: at most 32 characters (Route 53 API reference, HostedZone, "Id",
# https://docs.aws.amazon.com/Route53/latest/APIReference/API_HostedZone.html, read 2026-11-29);
# the ids Route 53 assigns are a "Z" and uppercase letters and digits (e.g. Z1D633PJN98FT9 in
# the same reference's examples). The API returns them as /hostedzone/<id>; the file takes the id.
_ZONE_ID = re.compile(r"Z[A-Z0-9]{1,31}")


def _zone_id(setting: _Setting) -> str:
    raw = str(setting.value)
    if not _ZONE_ID.fullmatch(raw):
        hint = " (without the /hostedzone/ prefix)" if raw.startswith("/hostedzone/") else ""
        raise setting.refuse(
            f"is not a Route 53 hosted zone id{hint}: Z followed by uppercase letters and digits, "
            "at most 32 characters (e.g. Z0123456789ABCDEFGHIJ)"
        )
    return raw


# The Regions CloudFront offers Origin Shield in. For an origin in a Region without it AWS names
# the one to use: eu-west-2 for eu-north-1 ("Choosing the AWS Region for Origin Shield",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/origin-shield.html#choose-origin-shield-region;
# the list and table as kept in awsdocs/amazon-cloudfront-developer-guide doc_source/origin-shield.md,
# read 2026-11-29).
ORIGIN_SHIELD_REGIONS = (
    "us-east-2", "us-east-1", "us-west-2", "ap-south-1", "ap-northeast-2", "ap-southeast-1",
    "ap-southeast-2", "ap-northeast-1", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1",
)  # fmt: skip


def _origin_shield(setting: _Setting) -> str:
    raw = str(setting.value)
    if raw not in ORIGIN_SHIELD_REGIONS:
        raise setting.refuse(
            "is not a Region CloudFront offers Origin Shield in (for an origin in eu-north-1 AWS recommends "
            f"eu-west-2); allowed: {', '.join(ORIGIN_SHIELD_REGIONS)}"
        )
    return raw


def _nat(setting: _Setting) -> int:
    if setting.value not in (1, 2):
        raise setting.refuse("is not allowed: 2 (one per AZ) or 1 (single, cheaper)")
    return int(setting.value)


def _between(low: int, high: int) -> Callable[[_Setting], int]:
    def check(setting: _Setting) -> int:
        if not low <= int(setting.value) <= high:
            raise setting.refuse(f"is not allowed: an integer from {low} to {high}")
        return int(setting.value)

    return check


def _same(setting: _Setting) -> Value:
    return setting.value


_VALIDATORS: dict[str, Callable[[_Setting], Value]] = {
    "suffix": _suffix,
    "region": _region,
    "alarm_email": _email,
    "nat_gateways": _nat,
    "github_repository": _github,
    "origin_shield_region": _origin_shield,
    "state.bucket": _bucket,
    "state.bucket_region": _region,
    "state.lock_table": _table,
    "scaling.min_tasks": _between(1, MAX_TASKS_LIMIT),
    "scaling.max_tasks": _between(1, MAX_TASKS_LIMIT),
    "scaling.on_demand_base": _between(0, MAX_TASKS_LIMIT),
    "scaling.max_readers": _between(1, MAX_READERS_LIMIT),
    "domain.name": _host_name,
    "domain.hosted_zone_id": _zone_id,
    "domain.zone_name": _host_name,
}


# --- reading the file and the overrides -------------------------------------------------


def _relative(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def _closest(name: str) -> str:
    candidates = [*(key.name for key in KEYS), *TABLES]
    leaf = name.rpartition(".")[2]
    same_leaf = [key.name for key in KEYS if key.name.rpartition(".")[2] == leaf]
    near = same_leaf or difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not near:
        by_leaf = {key.name.rpartition(".")[2]: key.name for key in KEYS}
        near = [by_leaf[match] for match in difflib.get_close_matches(leaf, by_leaf, n=1, cutoff=0.6)]
    return f"did you mean {near[0]}? " if near else ""


def _environment_file(environ: Mapping[str, str]) -> tuple[str, Path]:
    name = environ.get(ENVIRONMENT_VARIABLE, DEFAULT_ENVIRONMENT)
    directory_raw = environ.get(DIRECTORY_VARIABLE)
    if directory_raw is not None and not directory_raw.strip():
        raise ConfigError(
            f"{DIRECTORY_VARIABLE} is set but empty; unset it to use {ENVIRONMENTS_DIR}/ or give a folder"
        )
    directory = ROOT / (directory_raw or ENVIRONMENTS_DIR)
    available = sorted(path.stem for path in directory.glob("*.toml")) if directory.is_dir() else []
    listing = ", ".join(available) or f"none in {_relative(directory)}/"
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", name):
        raise ConfigError(
            f"{ENVIRONMENT_VARIABLE}={show(name)} is not an environment name (lowercase letters, digits, '-', '_'); "
            f"available: {listing}"
        )
    path = directory / f"{name}.toml"
    if not path.is_file():
        raise ConfigError(f"{ENVIRONMENT_VARIABLE}={name}: there is no {_relative(path)}; available: {listing}")
    return name, path


def environment_file(environ: Mapping[str, str]) -> str:
    """The environment file ``environ`` selects, relative to the project root (e.g. environments/prod.toml).

    Raises ConfigError, one line with the environments available, when there is no such file.
    """
    return _relative(_environment_file(environ)[1])


def _read_file(path: Path) -> dict[str, Any]:
    where = _relative(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{where}: not UTF-8 text (byte {error.start}); save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{where}: not valid TOML: {error}") from None


def _file_settings(path: Path) -> tuple[dict[str, _Setting], list[object]]:
    """The keys the file sets, type-checked, and its raw [[sale]] entries; unknown keys and tables are refused."""
    where = _relative(path)
    document = _read_file(path)
    sales = document.pop(SALE_TABLE, [])
    if not isinstance(sales, list):
        raise ConfigError(
            f"{where}: {SALE_TABLE} = {show(sales)} is {_type_name(sales)}; expected [[{SALE_TABLE}]] entries"
        )
    flat: dict[str, object] = {}
    for name, value in document.items():
        if name in TABLES:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: {name} = {show(value)} is {_type_name(value)}; expected a table [{name}]")
            flat.update({f"{name}.{inner}": inner_value for inner, inner_value in value.items()})
        else:
            flat[name] = value
    settings: dict[str, _Setting] = {}
    for name, value in flat.items():
        key = _BY_NAME.get(name)
        if key is None:
            known = ", ".join(key.name for key in KEYS)
            raise ConfigError(f"{where}: unknown key {name!r}; {_closest(name)}known keys: {known}")
        label = f"{where}: {name} = {show(value)}"
        # bool is an int in Python: check it first so `nat_gateways = true` is refused.
        if isinstance(value, bool) != (key.kind is bool) or not isinstance(value, key.kind):
            raise ConfigError(f"{label} is {_type_name(value)}; expected {_expected(key)}")
        settings[name] = _Setting(key, value, label)
    for key in KEYS:
        if key.required and key.name not in settings:
            example = {"suffix": '"staging"', "region": f'"{DEFAULT_REGION}"'}[key.name]
            raise ConfigError(
                f"{where}: {key.name} is missing; every environment sets it (e.g. {key.name} = {example})"
            )
    return settings, sales


def _parse_override(key: Key, raw: str, label: str) -> Value:
    if key.kind is bool:
        if raw not in {"true", "false"}:
            raise ConfigError(f"{label} is not allowed: true or false")
        return raw == "true"
    if key.kind is int:
        if not re.fullmatch(r"[0-9]{1,9}", raw):
            raise ConfigError(f"{label} is not an integer")
        return int(raw)
    return raw


def _override_settings(
    environ: Mapping[str, str], file_settings: Mapping[str, _Setting], where: str
) -> dict[str, _Setting]:
    raw_list = environ.get(OVERRIDES_VARIABLE, "")
    names = [name.strip() for name in raw_list.split(",") if name.strip()]
    settings: dict[str, _Setting] = {}
    for variable in names:
        key = _BY_VARIABLE.get(variable)
        if key is None:
            near = difflib.get_close_matches(variable.upper(), _BY_VARIABLE, n=1)
            hint = f"did you mean {near[0]}? " if near else ""
            raise ConfigError(
                f"{OVERRIDES_VARIABLE} names {show(variable)}, which is not an override variable; {hint}"
                f"allowed: {', '.join(_BY_VARIABLE)}"
            )
        raw = environ.get(variable)
        declared = file_settings.get(key.name)
        if raw is None or not raw.strip():
            state = "not set" if raw is None else "set but empty"
            keeps = ""
            if key.name == "state.bucket" and declared is not None:
                # P-08: an environment with remote state never falls back to local state.
                keeps = (
                    f" ({where} keeps its state in S3 bucket {declared.value!r} and never falls back to local state)"
                )
            raise ConfigError(
                f"{OVERRIDES_VARIABLE} names {variable} but {variable} is {state}{keeps}; "
                f"give it a value or remove it from {OVERRIDES_VARIABLE}"
            )
        label = f"{variable}={show(raw)} (overriding {key.name} of {where})"
        settings[key.name] = _Setting(key, _parse_override(key, raw, label), label)
    return settings


def _as_variable(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def load_config(environ: Mapping[str, str], *, now: datetime | None = None) -> Config:
    """Read ``environments/<ENV>.toml``, apply the overrides named in ``CATALOG_OVERRIDES``, validate.

    Every refusal is a ``ConfigError`` with one line naming the file and key (or the
    variable), the value and what is allowed. ``now`` (default: the clock, UTC) decides
    which sale windows are past.
    """
    name, path = _environment_file(environ)
    where = _relative(path)
    from_file, raw_sales = _file_settings(path)
    from_environment = _override_settings(environ, from_file, where)
    merged = {**from_file, **from_environment}

    values: dict[str, Value] = {}
    deletion_protection = merged.get("protection.deletion_protection")
    production = bool(deletion_protection.value) if deletion_protection else False
    for key_name, setting in merged.items():
        if key_name == "image":
            values[key_name] = _image(setting)
        else:
            values[key_name] = _VALIDATORS.get(key_name, _same)(setting)
    image = values.get("image")
    if image is not None and image != PLACEHOLDER:
        _platform_image(merged["image"], suffix=str(values["suffix"]), region=str(values["region"]))

    state = _state(merged, values, where)
    fields: dict[str, Any] = {
        "environment_suffix": values["suffix"],
        "region": values["region"],
        "container_image": None if image == PLACEHOLDER else image,
        "placeholder": image == PLACEHOLDER,
        "nat_gateways": values.get("nat_gateways", Config.nat_gateways),
        "alarm_email": values.get("alarm_email"),
        "waf_enabled": values.get("waf_enabled", Config.waf_enabled),
        "min_tasks": values.get("scaling.min_tasks", Config.min_tasks),
        "max_tasks": values.get("scaling.max_tasks", Config.max_tasks),
        "on_demand_base": values.get("scaling.on_demand_base", Config.on_demand_base),
        "max_readers": values.get("scaling.max_readers", Config.max_readers),
        "deletion_protection": production,
        "final_snapshot": values.get("protection.final_snapshot", Config.final_snapshot),
        "github_repository": values.get("github_repository"),
        "origin_shield_region": values.get("origin_shield_region"),
        "domain": _domain(merged, values, where),
    }
    _check_scaling(fields, merged, where)
    fields["sales"] = _sales(
        raw_sales, where, max_readers=int(fields["max_readers"]), now=now if now is not None else datetime.now(UTC)
    )
    for sale in fields["sales"]:
        if sale.max_tasks < fields["on_demand_base"]:
            raise ConfigError(
                f"{where}: [[{SALE_TABLE}]] {sale.name!r}: max_tasks = {sale.max_tasks} is not allowed: "
                f"at least [scaling] on_demand_base ({fields['on_demand_base']})"
            )
    # What each override variable would have to say to change nothing: a variable set
    # to something else without being named is reported, so a forgotten export shows.
    effective: dict[str, object] = {
        **{key.name: fields.get(_FIELD.get(key.name, key.name)) for key in KEYS},
        "image": PLACEHOLDER if fields["placeholder"] else fields["container_image"],
        "state.bucket": state.bucket,
        "state.bucket_region": state.bucket_region,
        "state.lock_table": state.lock_table,
        "state.use_lockfile": state.use_lockfile,
        "domain.name": fields["domain"].name if fields["domain"] else None,
        "domain.hosted_zone_id": fields["domain"].hosted_zone_id if fields["domain"] else None,
        "domain.zone_name": fields["domain"].zone_name if fields["domain"] else None,
    }
    ignored = tuple(
        key.variable
        for key in KEYS
        if key.name not in from_environment
        and key.variable in environ
        and environ[key.variable] != _as_variable(effective[key.name])
    )
    return Config(
        environment_name=name,
        state=state,
        overrides=tuple(key.variable for key in KEYS if key.name in from_environment),
        ignored_variables=ignored,
        **fields,
    )


# The Config field each key fills, where the names differ.
_FIELD = {
    "suffix": "environment_suffix",
    "image": "container_image",
    "scaling.min_tasks": "min_tasks",
    "scaling.max_tasks": "max_tasks",
    "scaling.on_demand_base": "on_demand_base",
    "scaling.max_readers": "max_readers",
    "protection.deletion_protection": "deletion_protection",
    "protection.final_snapshot": "final_snapshot",
}


def _optional_str(value: Value | None) -> str | None:
    return None if value is None else str(value)


def _state(merged: Mapping[str, _Setting], values: Mapping[str, Value], where: str) -> StateConfig:
    bucket = _optional_str(values.get("state.bucket"))
    lock_table = _optional_str(values.get("state.lock_table"))
    if bucket is None:
        given = [
            merged[name] for name in ("state.bucket_region", "state.lock_table", "state.use_lockfile") if name in merged
        ]
        if given:
            raise given[0].refuse(
                f"needs state.bucket: without a bucket the state is local; set bucket in [state] of {where}, "
                "or remove this key"
            )
        return StateConfig(bucket_region=str(values["region"]))
    # DynamoDB locking is for Terraform older than 1.10, which does not know use_lockfile:
    # with a lock table, use_lockfile is off unless the file turns both on (a migration).
    use_lockfile = bool(values.get("state.use_lockfile", lock_table is None))
    if not use_lockfile and lock_table is None:
        raise merged["state.use_lockfile"].refuse(
            "leaves the S3 state unlocked: keep use_lockfile = true (Terraform >= 1.10) or set lock_table "
            "(a DynamoDB table, for older Terraform), so that two applies cannot corrupt the state"
        )
    return StateConfig(
        bucket=bucket,
        bucket_region=str(values.get("state.bucket_region", values["region"])),
        lock_table=lock_table,
        use_lockfile=use_lockfile,
    )


def _domain(merged: Mapping[str, _Setting], values: Mapping[str, Value], where: str) -> DomainConfig | None:
    name = _optional_str(values.get("domain.name"))
    zone_id = _optional_str(values.get("domain.hosted_zone_id"))
    zone_name = _optional_str(values.get("domain.zone_name"))
    if name is None:
        given = [merged[key] for key in ("domain.hosted_zone_id", "domain.zone_name") if key in merged]
        if given:
            raise given[0].refuse(f"needs name in [domain] of {where} (the API's host name), or remove this key")
        return None
    if (zone_id is None) != (zone_name is None):
        present = merged["domain.hosted_zone_id" if zone_id is not None else "domain.zone_name"]
        missing = "zone_name" if zone_id is not None else "hosted_zone_id"
        raise present.refuse(
            f"needs {missing} in [domain] of {where} too: the zone's id and its name go together "
            "(the name lets a host name outside the zone be refused before anything is planned)"
        )
    # The zone's name is not in the id, and nothing reachable offline maps one to the other:
    # the file states both, and the edge layer checks at plan time that they belong together.
    if zone_name is not None and name != zone_name and not name.endswith(f".{zone_name}"):
        raise merged["domain.name"].refuse(
            f"is outside the hosted zone {zone_name!r} (domain.zone_name): use {zone_name} or a name under it"
        )
    if zone_id is not None and len(name) > MAX_HOST_NAME - len(ORIGIN_LABEL) - 1:
        raise merged["domain.name"].refuse(
            f"is too long for the ALB's own name {ORIGIN_LABEL}.<name> in the zone: "
            f"at most {MAX_HOST_NAME - len(ORIGIN_LABEL) - 1} characters with a hosted zone"
        )
    return DomainConfig(name=name, hosted_zone_id=zone_id, zone_name=zone_name)


def _check_scaling(fields: Mapping[str, Any], merged: Mapping[str, _Setting], where: str) -> None:
    def prefix(*names: str) -> str:
        setting = next((merged[name] for name in names if name in merged), None)
        return setting.label if setting else f"{where}: [scaling]"

    low, high, base = fields["min_tasks"], fields["max_tasks"], fields["on_demand_base"]
    if low > high:
        raise ConfigError(
            f"{prefix('scaling.min_tasks', 'scaling.max_tasks')} is not allowed: "
            f"min_tasks ({low}) must not exceed max_tasks ({high})"
        )
    if base > high:
        raise ConfigError(
            f"{prefix('scaling.on_demand_base', 'scaling.max_tasks')} is not allowed: "
            f"on_demand_base ({base}) must be from 0 to max_tasks ({high})"
        )


# --- sale windows (S-04) ------------------------------------------------------------------


def _utc(entry: str, key: str, value: object) -> datetime:
    """A TOML offset date-time or an ISO 8601 string, in UTC, to the second."""
    example = "e.g. 2027-11-26T08:00:00Z"
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:\d{2})", value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
    if moment is None:
        raise ConfigError(f"{entry} {key} = {show(value)} is not a UTC date and time: {example}")
    if moment.utcoffset() != timedelta(0):
        raise ConfigError(f"{entry} {key} = {show(str(value))} is not in UTC: end it with Z ({example})")
    if moment.microsecond:
        raise ConfigError(f"{entry} {key} = {show(str(value))} has fractions of a second: whole seconds ({example})")
    return moment.astimezone(UTC)


def _at(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sale(raw: object, index: int, where: str, *, max_readers: int) -> Sale:
    label = f"{where}: [[{SALE_TABLE}]] #{index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{label} is {_type_name(raw)}; expected a [[{SALE_TABLE}]] table")
    name = raw.get("name")
    if not isinstance(name, str) or not _SALE_NAME.fullmatch(name):
        raise ConfigError(
            f"{label}: name = {show(name)} is not allowed: 1-40 lowercase letters, digits and single hyphens "
            "(e.g. black-friday)"
        )
    entry = f"{where}: [[{SALE_TABLE}]] {name!r}"
    unknown = sorted(set(raw) - set(_SALE_KEYS))
    if unknown:
        raise ConfigError(f"{entry}: unknown key {unknown[0]!r}; a sale has {', '.join(_SALE_KEYS)}")
    missing = [key for key in _SALE_KEYS if key not in raw]
    if missing:
        raise ConfigError(f"{entry}: {missing[0]} is missing; a sale has {', '.join(_SALE_KEYS)}")
    starts = _utc(entry, "starts", raw["starts"])
    ends = _utc(entry, "ends", raw["ends"])
    counts: dict[str, int] = {}
    for key in ("min_tasks", "max_tasks", "min_readers"):
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{entry}: {key} = {show(value)} is {_type_name(value)}; expected an integer")
        counts[key] = value
    if ends <= starts:
        raise ConfigError(f"{entry} is inverted: ends ({_at(ends)}) must be after starts ({_at(starts)})")
    if not 1 <= counts["max_tasks"] <= MAX_TASKS_LIMIT:
        raise ConfigError(f"{entry}: max_tasks = {counts['max_tasks']} is not allowed: 1 to {MAX_TASKS_LIMIT}")
    if not 1 <= counts["min_tasks"] <= counts["max_tasks"]:
        raise ConfigError(
            f"{entry}: min_tasks = {counts['min_tasks']} is not allowed: 1 to the sale's max_tasks ({counts['max_tasks']})"
        )
    if not 1 <= counts["min_readers"] <= max_readers:
        raise ConfigError(
            f"{entry}: min_readers = {counts['min_readers']} is not allowed: 1 to [scaling] max_readers "
            f"({max_readers}, at most {MAX_READERS_LIMIT})"
        )
    return Sale(name=name, starts=starts, ends=ends, **counts)


def _sales(raw_sales: Sequence[object], where: str, *, max_readers: int, now: datetime) -> tuple[Sale, ...]:
    sales = [_sale(raw, index, where, max_readers=max_readers) for index, raw in enumerate(raw_sales)]
    names: set[str] = set()
    for sale in sales:
        if sale.name in names:
            raise ConfigError(f"{where}: [[{SALE_TABLE}]] {sale.name!r} is named twice; give each sale its own name")
        names.add(sale.name)
        if sale.ends <= now:
            raise ConfigError(
                f"{where}: [[{SALE_TABLE}]] {sale.name!r} is past: it ended {_at(sale.ends)} "
                f"(now {_at(now)}); remove the entry"
            )
    ordered = sorted(sales, key=lambda sale: sale.starts)
    for earlier, later in itertools.pairwise(ordered):
        # A later sale's readers are raised READER_LEAD before it starts; the earlier one's
        # restore at its end would undo that raise, so the raised periods must not meet.
        if later.starts - READER_LEAD < earlier.ends:
            raise ConfigError(
                f"{where}: [[{SALE_TABLE}]] {later.name!r} ({_at(later.starts)} to {_at(later.ends)}) overlaps "
                f"[[{SALE_TABLE}]] {earlier.name!r} ({_at(earlier.starts)} to {_at(earlier.ends)}): a sale may start "
                f"no sooner than {int(READER_LEAD.total_seconds() // 60)} minutes (the reader lead time) after the "
                "previous one ends; merge them into one window or move one"
            )
    return tuple(ordered)
