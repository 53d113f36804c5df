"""Synth-time guardrails: every known apply-time failure (SPEC section 4) stops ``app.synth()``.

Each rule is a pure function over a stack's Terraform JSON (``stack.to_terraform()``,
overrides included), returning one message per violation that names the failure,
the resource, what AWS or Terraform would say, and the fix. The ``Guardrails`` aspect
attaches them to every stack as a construct validation, so cdktf's own synth refuses
to write a stack that breaks one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsii
from cdktf import IAspect, TerraformStack
from constructs import IConstruct, IValidation

Json = Mapping[str, Any]
Rule = Callable[[Json], list[str]]

# Every S3/local backend argument Terraform 1.11 knows; anything else fails `terraform init` (F-1).
# https://developer.hashicorp.com/terraform/language/backend/s3#configuration (read 2026-11-23).
# Deprecated aliases (endpoint, force_path_style, dynamodb_endpoint, ...) are left out on purpose.
# The same names are the only keys a terraform_remote_state `config` of that backend accepts:
# Terraform 1.11.4 refuses any other with 'Invalid backend configuration ... unexpected attribute'.
BACKEND_ARGUMENTS: Mapping[str, frozenset[str]] = {
    "local": frozenset({"path", "workspace_dir"}),
    "s3": frozenset(
        {
            "bucket", "key", "region", "encrypt", "dynamodb_table", "use_lockfile", "kms_key_id", "acl",
            "access_key", "secret_key", "token", "profile", "shared_config_files", "shared_credentials_files",
            "assume_role", "assume_role_with_web_identity", "workspace_key_prefix", "endpoints", "sse_customer_key",
            "skip_credentials_validation", "skip_region_validation", "skip_requesting_account_id",
            "skip_metadata_api_check", "skip_s3_checksum", "use_path_style", "max_retries", "retry_mode",
            "allowed_account_ids", "forbidden_account_ids", "custom_ca_bundle", "ec2_metadata_service_endpoint",
            "ec2_metadata_service_endpoint_mode", "http_proxy", "https_proxy", "no_proxy", "insecure",
            "use_dualstack_endpoint", "use_fips_endpoint", "sts_region",
        }
    ),
}  # fmt: skip

# AWS managed CloudFront policy IDs (SPEC section 5; AWS CloudFront developer guide).
MANAGED_CACHE_POLICIES = frozenset(
    {
        "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",  # CachingDisabled
        "658327ea-f89d-4fab-a63d-7e88639e58f6",  # CachingOptimized
        "b2884449-e4de-46a7-ac36-70bc7f1ddd6d",  # CachingOptimizedForUncompressedObjects
        "08627262-05a9-4f76-9ded-b50ca2e3a84f",  # Elemental-MediaPackage
        "83da9c7e-98b4-4e11-a168-04f0df8e2c65",  # UseOriginCacheControlHeaders
        "4cc15a8a-d715-48a4-82b8-cc0b614638fe",  # UseOriginCacheControlHeaders-QueryStrings
    }
)
MANAGED_ORIGIN_REQUEST_POLICIES = frozenset(
    {
        "216adef6-5c7f-47e4-b989-5492eafa07d3",  # AllViewer
        "b689b0a8-53d0-40ab-baf2-68738e2966ac",  # AllViewerExceptHostHeader
        "33f36d7e-f396-46d9-90e0-52428a34d9dc",  # AllViewerAndCloudFrontHeaders-2022-06
        "88a5eaf4-2fd4-4709-b370-b4c650ea3fcf",  # CORS-S3Origin
        "59781a5b-3903-41f3-afcb-af62929ccde1",  # CORS-CustomOrigin
        "acba4595-bd28-49b8-b9fe-13317c0390fa",  # UserAgentRefererHeaders
    }
)

_REFERENCE = re.compile(r"\$\{[^{}]*\}")
# The only value the project interpolates into a name is the 12-digit account id.
_INTERPOLATED = "000000000000"


@dataclass(frozen=True)
class NameRule:
    """AWS limit for one name attribute (F-8)."""

    max_length: int
    pattern: str
    allowed: str
    min_length: int = 1


_ALB_NAME = NameRule(
    32, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", "letters, digits, hyphens; no hyphen at either end"
)
_DB_IDENTIFIER = NameRule(
    63, r"[a-z](?:[a-z0-9]|-(?=[a-z0-9]))*", "lowercase letters, digits, single hyphens; starts with a letter"
)
NAME_RULES: Mapping[tuple[str, str], NameRule] = {
    ("aws_lb", "name"): _ALB_NAME,
    ("aws_lb_target_group", "name"): _ALB_NAME,
    ("aws_s3_bucket", "bucket"): NameRule(
        63, r"[a-z0-9][a-z0-9.-]*[a-z0-9]", "lowercase letters, digits, dots, hyphens", min_length=3
    ),
    ("aws_rds_cluster", "cluster_identifier"): _DB_IDENTIFIER,
    ("aws_rds_cluster_instance", "identifier"): _DB_IDENTIFIER,
    ("aws_db_subnet_group", "name"): NameRule(255, r"[a-z0-9 ._-]+", "lowercase letters, digits, spaces, . _ -"),
    ("aws_iam_role", "name"): NameRule(64, r"[\w+=,.@-]+", "letters, digits and + = , . @ _ -"),
    ("aws_security_group", "name"): NameRule(255, r"[ -~]+", "printable ASCII"),
    ("aws_ecs_cluster", "name"): NameRule(255, r"[A-Za-z0-9_-]+", "letters, digits, _ and -"),
    ("aws_ecs_service", "name"): NameRule(255, r"[A-Za-z0-9_-]+", "letters, digits, _ and -"),
    ("aws_ecs_task_definition", "family"): NameRule(255, r"[A-Za-z0-9_-]+", "letters, digits, _ and -"),
    ("aws_cloudwatch_log_group", "name"): NameRule(512, r"[\w./#-]+", "letters, digits and _ - / . #"),
    ("aws_appautoscaling_policy", "name"): NameRule(256, r"[^:]+", "anything but ':'"),
}


def _resources(doc: Json, type_: str) -> Iterator[tuple[str, Json]]:
    for name, body in doc.get("resource", {}).get(type_, {}).items():
        path = body.get("//", {}).get("metadata", {}).get("path", name)
        yield f"{type_} {path}", body


def _is_reference(value: object) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def check_backend(doc: Json) -> list[str]:
    """F-1: backend arguments Terraform knows; S3 state encrypted and locked; local path relative."""
    backend = doc.get("terraform", {}).get("backend", {})
    if len(backend) != 1:
        return [
            f"[F-1] terraform.backend: expected exactly one backend, found {sorted(backend) or 'none'}. Fix: configure the stack through shared.layer.LayerStack."
        ]
    ((kind, settings),) = backend.items()
    allowed = BACKEND_ARGUMENTS.get(kind)
    if allowed is None:
        return [f"[F-1] terraform.backend.{kind}: backend type not used by this project (allowed: local, s3)."]
    errors = [
        f'[F-1] terraform.backend.{kind}.{key}: Terraform fails at init with "No argument or block type is named \\"{key}\\"". Fix: remove the override; allowed: {", ".join(sorted(allowed))}.'
        for key in sorted(set(settings) - allowed)
    ]
    if kind == "s3":
        if settings.get("encrypt") is not True:
            errors.append("[F-1] terraform.backend.s3.encrypt: state must be encrypted. Fix: encrypt = true.")
        if not settings.get("dynamodb_table") and settings.get("use_lockfile") is not True:
            errors.append(
                "[F-1] terraform.backend.s3: no state locking. Fix: use_lockfile = true (Terraform >= 1.10, the default), or a lock_table for older Terraform."
            )
    if kind == "local" and str(settings.get("path", "")).startswith("/"):
        errors.append(
            f"[F-1] terraform.backend.local.path: {settings['path']!r} is absolute and breaks portability. Fix: a relative path."
        )
    return errors


@dataclass(frozen=True, kw_only=True)
class AuroraFacts:
    """What a literal Aurora PostgreSQL version must not be (shared/data/aurora_postgresql_facts.json)."""

    minimum_major: int
    not_offered_majors: Mapping[str, Sequence[str]]
    withdrawn_minors: Sequence[str]


_AURORA_FACTS = Path(__file__).parent / "data" / "aurora_postgresql_facts.json"


def aurora_facts() -> AuroraFacts:
    """The checked-in facts, each with its source in the file."""
    data = json.loads(_AURORA_FACTS.read_text(encoding="utf-8"))
    return AuroraFacts(
        minimum_major=int(data["minimum_major"]),
        not_offered_majors={region: tuple(majors) for region, majors in data["not_offered_majors"].items()},
        withdrawn_minors=tuple(data["withdrawn_minors"]),
    )


def _instances_auto_upgrade(doc: Json) -> bool:
    # auto_minor_version_upgrade defaults to true in the provider.
    return any(
        body.get("auto_minor_version_upgrade", True) is not False
        for _, body in _resources(doc, "aws_rds_cluster_instance")
    )


def check_aurora_version(facts: AuroraFacts) -> Rule:
    """F-2 and P-01: the engine version exists when applied and an AWS upgrade cannot break a later plan."""

    def rule(doc: Json) -> list[str]:
        providers = doc.get("provider", {}).get("aws", [{}])
        region = providers[0].get("region", "")
        errors = []
        for where, body in _resources(doc, "aws_rds_cluster"):
            version = body.get("engine_version")
            if body.get("engine") != "aurora-postgresql" or version is None or _is_reference(version):
                continue
            major = str(version).split(".")[0]
            if major in facts.not_offered_majors.get(region, ()) or version in facts.withdrawn_minors:
                errors.append(
                    f'[F-2] {where}: engine_version {version!r} is not offered for aurora-postgresql in {region} (AWS: "Cannot find version {version} for aurora-postgresql"). Fix: resolve it at plan time with data aws_rds_engine_version (shared/components/aurora.py).'
                )
            elif not major.isdigit() or int(major) < facts.minimum_major:
                errors.append(
                    f"[F-2] {where}: engine_version {version!r} is below major {facts.minimum_major} (R-08). Fix: major {facts.minimum_major} or later."
                )
            ignored = body.get("lifecycle", {}).get("ignore_changes", [])
            if _instances_auto_upgrade(doc) and "engine_version" not in ignored and ignored != "all":
                errors.append(
                    f'[P-01] {where}: engine_version {version!r} is pinned while AWS may upgrade the minor (auto_minor_version_upgrade); the next plan then tries a downgrade (AWS: "Cannot upgrade aurora-postgresql from …"). Fix: ignore_changes = [engine_version], or auto_minor_version_upgrade = false on every instance.'
                )
        return errors

    return rule


def check_final_snapshot(doc: Json) -> list[str]:
    """P-07: a cluster that keeps a final snapshot names it, or destroy fails after the layers before it are gone."""
    return [
        f'[P-07] {where}: skip_final_snapshot is false but final_snapshot_identifier is not set; destroy fails with "final_snapshot_identifier is required when skip_final_snapshot is false". Fix: name the snapshot or skip it.'
        for where, body in _resources(doc, "aws_rds_cluster")
        if body.get("skip_final_snapshot") is not True and not body.get("final_snapshot_identifier")
    ]


# Images that answer anything on a port and were never meant to hold a credential; several
# echo the request or their environment (traefik/whoami: GET /?env=true), P-02.
KNOWN_PLACEHOLDER_IMAGES = (
    "traefik/whoami",
    "containous/whoami",
    "nginx",
    "httpd",
    "hashicorp/http-echo",
    "kennethreitz/httpbin",
    "mccutchen/go-httpbin",
    "mendhak/http-https-echo",
    "ealen/echo-server",
    "jmalloc/echo-server",
    "nginxdemos/hello",
)
_PRIVATE_ECR = re.compile(r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
_PUBLIC_ECR = "public.ecr.aws/"
_CREDENTIAL_NAME = re.compile(r"PASSWORD|SECRET(?!_ARN)|TOKEN(?!_SECRET_ARN)|PRIVATE_KEY", re.IGNORECASE)


def _repository_path(image: str) -> str:
    """``traefik/whoami`` for ``docker.io/traefik/whoami:v1@sha256:…``; ``nginx`` for ``library/nginx``."""
    path = image.split("@")[0]
    first, _, rest = path.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        path = rest
    path = path.rsplit(":", 1)[0] if ":" in path.rsplit("/", 1)[-1] else path
    return path.removeprefix("library/").removeprefix("docker/library/")


def check_container_images(doc: Json) -> list[str]:
    """P-02 and P-03: images come through ECR; credentials reach only the platform's private ECR images."""
    errors = []
    for where, body in _resources(doc, "aws_ecs_task_definition"):
        definitions = body.get("container_definitions", "[]")
        containers = json.loads(definitions) if isinstance(definitions, str) else definitions
        for container in containers:
            name, image = container.get("name"), str(container.get("image", ""))
            private = bool(_PRIVATE_ECR.match(image)) or image.startswith("${aws_ecr_repository.")
            if not private and not image.startswith(_PUBLIC_ECR):
                errors.append(
                    f"[P-03] {where} container {name!r}: image {image!r} is not pulled through ECR; anonymous Docker Hub pulls are limited per IP and every task shares the NAT addresses, so scale-out fails with CannotPullContainerError (429). Fix: the platform's ECR repository (make image), ECR Public or a pull-through cache."
                )
            plain = [
                e.get("name", "")
                for e in container.get("environment", [])
                if _CREDENTIAL_NAME.search(e.get("name", ""))
            ]
            if plain:
                errors.append(
                    f"[R-05] {where} container {name!r}: {', '.join(plain)} in plain environment. Fix: an ECS secrets entry read from Secrets Manager."
                )
            if not container.get("secrets") or private:
                continue
            known = _repository_path(image) in KNOWN_PLACEHOLDER_IMAGES
            what = "a known third-party placeholder image" if known else "an image the project does not own"
            errors.append(
                f"[P-02] {where} container {name!r}: the secrets {', '.join(s.get('name', '') for s in container['secrets'])} would be handed to {image!r}, {what}; traefik/whoami, for one, prints its environment for GET /?env=true. Fix: build the API image into the platform's ECR repository (make image), or run the placeholder with no secrets."
            )
    return errors


def check_cache_behaviors(doc: Json) -> list[str]:
    """F-3: no cache behavior with both cache_policy_id and forwarded_values; policy IDs are managed or references."""
    errors = []
    for where, body in _resources(doc, "aws_cloudfront_distribution"):
        behaviors = [("default_cache_behavior", body.get("default_cache_behavior", {}))]
        behaviors += [(f"ordered_cache_behavior[{i}]", b) for i, b in enumerate(body.get("ordered_cache_behavior", []))]
        for label, behavior in behaviors:
            if behavior.get("cache_policy_id") and behavior.get("forwarded_values"):
                errors.append(
                    f'[F-3] {where}.{label}: cache_policy_id and forwarded_values are both set (AWS: "The parameter ForwardedValues cannot be used when a cache policy is associated to the cache behavior."). Fix: remove forwarded_values; use an origin request policy.'
                )
            for key, known in (
                ("cache_policy_id", MANAGED_CACHE_POLICIES),
                ("origin_request_policy_id", MANAGED_ORIGIN_REQUEST_POLICIES),
            ):
                value = behavior.get(key)
                if value is not None and value not in known and not _is_reference(value):
                    errors.append(
                        f"[F-3] {where}.{label}.{key}: {value!r} is neither an AWS managed policy ID nor a reference to a policy resource. Fix: use a managed ID (shared/components/distribution.py) or a policy's .id."
                    )
    return errors


def check_capacity_providers(doc: Json) -> list[str]:
    """F-4: no launch_type with a strategy; every provider in a strategy is associated with a cluster."""
    associated = {
        p for _, b in _resources(doc, "aws_ecs_cluster_capacity_providers") for p in b.get("capacity_providers", [])
    }
    errors = []
    for where, body in _resources(doc, "aws_ecs_service"):
        strategy = body.get("capacity_provider_strategy", [])
        if strategy and body.get("launch_type"):
            errors.append(
                f'[F-4] {where}: launch_type and capacity_provider_strategy are both set (AWS: "Specifying both a launch type and capacity provider strategy is not supported."). Fix: remove launch_type.'
            )
        for entry in strategy:
            provider = entry.get("capacity_provider")
            if provider not in associated:
                errors.append(
                    f"[F-4] {where}: capacity provider {provider!r} is not associated with the cluster. Fix: add it to aws_ecs_cluster_capacity_providers.capacity_providers."
                )
    return errors


def check_lifecycle_rules(doc: Json) -> list[str]:
    """F-5: every S3 lifecycle rule is scoped by filter or prefix."""
    errors = []
    for where, body in _resources(doc, "aws_s3_bucket_lifecycle_configuration"):
        for index, rule in enumerate(body.get("rule", [])):
            if not rule.get("filter") and "prefix" not in rule:
                errors.append(
                    f'[F-5] {where}.rule[{index}] ({rule.get("id")}): no filter or prefix; the provider warns today and will reject it. Fix: filter {{ prefix = "" }} to apply to all objects.'
                )
    return errors


def check_secret_recovery_window(doc: Json) -> list[str]:
    """F-6: every owned secret sets recovery_window_in_days, so a destroy/recreate does not collide."""
    return [
        f'[F-6] {where}: recovery_window_in_days is not set; after a destroy the name stays "scheduled for deletion" for 30 days and a re-create fails. Fix: set it (0 outside production).'
        for where, body in _resources(doc, "aws_secretsmanager_secret")
        if "recovery_window_in_days" not in body
    ]


def check_names(doc: Json) -> list[str]:
    """F-8: every literal name within its AWS length limit and character set."""
    errors = []
    for (type_, attribute), limit in NAME_RULES.items():
        for where, body in _resources(doc, type_):
            value = body.get(attribute)
            if not isinstance(value, str) or _is_reference(value):
                continue
            concrete = _REFERENCE.sub(_INTERPOLATED, value)
            too_long = not limit.min_length <= len(concrete) <= limit.max_length
            if (
                too_long
                or not re.fullmatch(limit.pattern, concrete)
                or (type_.startswith("aws_rds") and "--" in concrete)
            ):
                errors.append(
                    f"[F-8] {where}.{attribute}: {value!r} ({len(concrete)} characters) breaks the AWS limit of {limit.min_length}-{limit.max_length} characters, {limit.allowed}; create would fail mid-deploy. Fix: a shorter ENVIRONMENT_SUFFIX or name."
                )
    return errors


# --- settings only AWS validates, at apply time or when a task starts ----------------------

# RDS API reference (PreferredBackupWindow, PreferredMaintenanceWindow): "Must be in the format
# hh24:mi-hh24:mi" / "ddd:hh24:mi-ddd:hh24:mi", "Must not conflict with the preferred maintenance
# window", "Must be at least 30 minutes". An overlap fails the apply with "InvalidParameterValue:
# The backup window and maintenance window must not overlap." (hashicorp/terraform-provider-aws#14981).
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = r"([01]\d|2[0-3]):([0-5]\d)"
_BACKUP_WINDOW = re.compile(rf"{_CLOCK}-{_CLOCK}")
_MAINTENANCE_WINDOW = re.compile(rf"({'|'.join(_DAYS)}):{_CLOCK}-({'|'.join(_DAYS)}):{_CLOCK}")
_DAY_MINUTES = 24 * 60
_WEEK_MINUTES = 7 * _DAY_MINUTES
_MINIMUM_WINDOW_MINUTES = 30


def _minutes_of_week(start: int, length: int) -> set[int]:
    return {(start + offset) % _WEEK_MINUTES for offset in range(length)}


def _backup_window(window: str) -> set[int] | None:
    """The minutes of the week a daily backup window covers; None if malformed or too short."""
    match = _BACKUP_WINDOW.fullmatch(window)
    if match is None:
        return None
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    start = h1 * 60 + m1
    length = (h2 * 60 + m2 - start) % _DAY_MINUTES
    if length < _MINIMUM_WINDOW_MINUTES:
        return None
    return {minute for day in range(7) for minute in _minutes_of_week(day * _DAY_MINUTES + start, length)}


def _maintenance_window(window: str) -> set[int] | None:
    """The minutes of the week a weekly maintenance window covers; None if malformed or too short."""
    match = _MAINTENANCE_WINDOW.fullmatch(window)
    if match is None:
        return None
    d1, h1, m1, d2, h2, m2 = match.groups()
    start = _DAYS.index(d1) * _DAY_MINUTES + int(h1) * 60 + int(m1)
    length = (_DAYS.index(d2) * _DAY_MINUTES + int(h2) * 60 + int(m2) - start) % _WEEK_MINUTES
    return _minutes_of_week(start, length) if length >= _MINIMUM_WINDOW_MINUTES else None


def check_rds_windows(doc: Json) -> list[str]:
    """R-08: backup and maintenance windows well formed, at least 30 minutes each, and not overlapping."""
    errors = []
    for type_ in ("aws_rds_cluster", "aws_db_instance"):
        for where, body in _resources(doc, type_):
            backup, maintenance = body.get("preferred_backup_window"), body.get("preferred_maintenance_window")
            daily = weekly = None
            if isinstance(backup, str) and not _is_reference(backup):
                daily = _backup_window(backup)
                if daily is None:
                    errors.append(
                        f'[R-08] {where}: preferred_backup_window {backup!r} is not a UTC hh24:mi-hh24:mi window of at least {_MINIMUM_WINDOW_MINUTES} minutes; AWS refuses it at apply. Fix: e.g. "02:00-03:00".'
                    )
            if isinstance(maintenance, str) and not _is_reference(maintenance):
                weekly = _maintenance_window(maintenance)
                if weekly is None:
                    errors.append(
                        f'[R-08] {where}: preferred_maintenance_window {maintenance!r} is not a UTC ddd:hh24:mi-ddd:hh24:mi window (mon-sun) of at least {_MINIMUM_WINDOW_MINUTES} minutes; AWS refuses it at apply. Fix: e.g. "sun:03:30-sun:04:30".'
                    )
            if daily and weekly and daily & weekly:
                errors.append(
                    f'[R-08] {where}: preferred_backup_window {backup!r} overlaps preferred_maintenance_window {maintenance!r} (AWS: "The backup window and maintenance window must not overlap."). Fix: move one of them.'
                )
    return errors


# The fields of the ECS API's ContainerDefinition (Amazon ECS API reference, read 2026-11-23).
# The provider decodes container_definitions into that structure, so a misspelt key such as
# "stopTimeOut" is dropped without a word and the setting silently never applies.
CONTAINER_DEFINITION_KEYS = frozenset(
    {
        "name", "image", "repositoryCredentials", "cpu", "memory", "memoryReservation", "links", "portMappings",
        "essential", "restartPolicy", "entryPoint", "command", "environment", "environmentFiles", "mountPoints",
        "volumesFrom", "linuxParameters", "secrets", "dependsOn", "startTimeout", "stopTimeout",
        "versionConsistency", "hostname", "user", "workingDirectory", "disableNetworking", "privileged",
        "readonlyRootFilesystem", "dnsServers", "dnsSearchDomains", "extraHosts", "dockerSecurityOptions",
        "interactive", "pseudoTerminal", "dockerLabels", "ulimits", "logConfiguration", "healthCheck",
        "systemControls", "resourceRequirements", "firelensConfiguration", "credentialSpecs",
    }
)  # fmt: skip
# Log drivers Fargate supports, and the awslogs options ECS documents
# (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/using_awslogs.html, read 2026-11-23).
FARGATE_LOG_DRIVERS = frozenset({"awslogs", "splunk", "awsfirelens"})
AWSLOGS_OPTIONS = frozenset(
    {
        "awslogs-group", "awslogs-region", "awslogs-stream-prefix", "awslogs-create-group",
        "awslogs-datetime-format", "awslogs-multiline-pattern", "mode", "max-buffer-size",
    }
)  # fmt: skip
# Without a stream prefix a Fargate task definition is refused (aws/aws-cdk#1422); without group
# or region the task cannot start.
AWSLOGS_REQUIRED = ("awslogs-group", "awslogs-region", "awslogs-stream-prefix")
FARGATE_MAX_STOP_TIMEOUT_SECONDS = 120


def _containers(body: Json) -> list[Json]:
    definitions = body.get("container_definitions", "[]")
    containers = json.loads(definitions) if isinstance(definitions, str) else definitions
    return list(containers) if isinstance(containers, list) else []


def check_container_definitions(doc: Json) -> list[str]:
    """R-03 and R-12: container definitions use only fields ECS knows; awslogs is complete and in this region."""
    providers = doc.get("provider", {}).get("aws", [{}])
    region = next((p.get("region") for p in providers if "alias" not in p), None)
    errors = []
    for where, body in _resources(doc, "aws_ecs_task_definition"):
        containers = _containers(body)
        routers = [c for c in containers if "firelensConfiguration" in c]
        for container in containers:
            name = container.get("name")
            unknown = sorted(set(container) - CONTAINER_DEFINITION_KEYS)
            if unknown:
                errors.append(
                    f"[R-03] {where} container {name!r}: {', '.join(unknown)} is not a field of an ECS container definition; the provider drops it and the setting never applies. Fix: the ECS spelling (e.g. stopTimeout)."
                )
            stop = container.get("stopTimeout")
            if isinstance(stop, int) and not 0 <= stop <= FARGATE_MAX_STOP_TIMEOUT_SECONDS:
                errors.append(
                    f"[R-03] {where} container {name!r}: stopTimeout {stop} is over Fargate's {FARGATE_MAX_STOP_TIMEOUT_SECONDS} s; ECS refuses the task definition. Fix: at most {FARGATE_MAX_STOP_TIMEOUT_SECONDS}."
                )
            logging = container.get("logConfiguration")
            if not isinstance(logging, dict):
                continue
            driver, options = logging.get("logDriver"), logging.get("options", {})
            if driver not in FARGATE_LOG_DRIVERS or (driver == "awsfirelens" and not routers):
                errors.append(
                    f"[R-12] {where} container {name!r}: log driver {driver!r} does not deliver logs here (Fargate supports {', '.join(sorted(FARGATE_LOG_DRIVERS))}; awsfirelens needs a log router container). Fix: awslogs."
                )
            if driver != "awslogs":
                continue
            problems = [f"lack {key}" for key in AWSLOGS_REQUIRED if not options.get(key)]
            problems += [f"name unknown {key}" for key in sorted(set(options) - AWSLOGS_OPTIONS)]
            if problems:
                errors.append(
                    f"[R-12] {where} container {name!r}: awslogs options {', '.join(problems)}; the task fails to start or logs nowhere. Fix: set {', '.join(AWSLOGS_REQUIRED)} and nothing ECS does not document."
                )
            group, log_region = options.get("awslogs-group"), options.get("awslogs-region")
            local_group = isinstance(group, str) and group.startswith("${aws_cloudwatch_log_group.")
            if local_group and region and log_region != region:
                errors.append(
                    f"[R-12] {where} container {name!r}: awslogs-region {log_region!r} is not {region!r}, where this stack creates the log group {group}; the task fails to start (ResourceInitializationError). Fix: the stack's region."
                )
    return errors


# Application Auto Scaling: an ECS service's ResourceId is service/<cluster name>/<service name>
# and its only dimension ecs:service:DesiredCount (RegisterScalableTarget, API reference).
_ECS_SCALING_ID = re.compile(
    r"service/(?:[A-Za-z0-9_-]+|\$\{aws_ecs_cluster\.[\w-]+\.name\})/(?:[A-Za-z0-9_-]+|\$\{aws_ecs_service\.[\w-]+\.name\})"
)


def check_autoscaling_targets(doc: Json) -> list[str]:
    """R-07: an ECS scalable target names its service as service/<cluster>/<service> and scales DesiredCount."""
    errors = []
    for where, body in _resources(doc, "aws_appautoscaling_target"):
        if body.get("service_namespace") != "ecs":
            continue
        resource_id, dimension = body.get("resource_id"), body.get("scalable_dimension")
        if not isinstance(resource_id, str) or not _ECS_SCALING_ID.fullmatch(resource_id):
            errors.append(
                f"[R-07] {where}: resource_id {resource_id!r} is not service/<cluster name>/<service name>; RegisterScalableTarget fails at apply. Fix: the cluster's and the service's .name."
            )
        if dimension != "ecs:service:DesiredCount":
            errors.append(
                f"[R-07] {where}: scalable_dimension {dimension!r} is not ecs:service:DesiredCount, the only one ECS services have. Fix: ecs:service:DesiredCount."
            )
        low, high = body.get("min_capacity"), body.get("max_capacity")
        if isinstance(low, int) and isinstance(high, int) and not 0 <= low <= high:
            errors.append(f"[R-07] {where}: min_capacity {low} > max_capacity {high}. Fix: min <= max.")
    return errors


# Elastic Load Balancing (CreateTargetGroup): HTTP matcher codes 200-499; the timeout must be
# smaller than the interval (aws/aws-cdk#22200 quotes the apply-time refusal).
_MATCHER_PART = re.compile(r"(\d{3})(?:-(\d{3}))?")


def check_health_checks(doc: Json) -> list[str]:
    """R-06: target group health checks AWS accepts: timeout under the interval, matcher codes 200-499."""
    errors = []
    for where, body in _resources(doc, "aws_lb_target_group"):
        check = body.get("health_check")
        check = check[0] if isinstance(check, list) and check else check
        if not isinstance(check, dict):
            continue
        timeout, interval = check.get("timeout"), check.get("interval")
        if isinstance(timeout, int) and isinstance(interval, int) and timeout >= interval:
            errors.append(
                f"[R-06] {where}: health check timeout {timeout} s is not smaller than its interval {interval} s; AWS refuses the target group. Fix: a timeout under the interval."
            )
        matcher = check.get("matcher")
        if isinstance(matcher, str) and not _is_reference(matcher):
            parts = [_MATCHER_PART.fullmatch(p.strip()) for p in matcher.split(",")]
            codes = [int(g) for m in parts if m for g in m.groups() if g]
            if not all(parts) or not all(200 <= code <= 499 for code in codes):
                errors.append(
                    f'[R-06] {where}: health check matcher {matcher!r} is not HTTP codes or ranges within 200-499. Fix: e.g. "200".'
                )
    return errors


_TRAFFIC_SHIFTING = ("BLUE_GREEN", "CANARY", "LINEAR")
_REFERENCE = re.compile(r"\$\{(?:data\.)?([a-z0-9_]+)\.([^.}]+)\.([a-z_]+)\}")


def _referenced(doc: Json, value: object, type_: str, attribute: str) -> Json | None:
    """The resource ``value`` refers to, if it is ``${<type_>.<name>.<attribute>}`` of one in ``doc``."""
    match = _REFERENCE.fullmatch(value) if isinstance(value, str) else None
    if match is None or match.group(1) != type_ or match.group(3) != attribute:
        return None
    found: Json | None = doc.get("resource", {}).get(type_, {}).get(match.group(2))
    return found


def _minutes(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def check_releases(doc: Json) -> list[str]:
    """S-03: a canary/linear/blue-green ECS service has everything ECS needs to shift traffic and roll back.

    AWS limits: ECS API reference, DeploymentConfiguration (bakeTimeInMinutes), CanaryConfiguration
    (canaryPercent 0.1-100 in steps of 0.1, canaryBakeTimeInMinutes 0-1440), LinearConfiguration
    (stepPercent 3-100) and AdvancedConfiguration; read 2026-11-29. Only the ECS deployment
    controller supports these strategies and alarm rollback.
    """
    errors = []
    alarm_names = {
        body.get("alarm_name") for _, body in _resources(doc, "aws_cloudwatch_metric_alarm") if body.get("alarm_name")
    }
    for where, body in _resources(doc, "aws_ecs_service"):
        config = body.get("deployment_configuration") or {}
        strategy = config.get("strategy", "ROLLING")
        if strategy not in _TRAFFIC_SHIFTING:
            continue
        fix = "Fix: build the service with shared.components.fargate_service.CanaryRelease."
        if (body.get("deployment_controller") or {}).get("type", "ECS") != "ECS":
            errors.append(f"[S-03] {where}: strategy {strategy} needs deployment_controller type ECS. {fix}")
        balancers = body.get("load_balancer") or []
        if not balancers:
            errors.append(
                f"[S-03] {where}: strategy {strategy} shifts traffic through a load balancer, but none is set. {fix}"
            )
        for index, balancer in enumerate(balancers):
            advanced = balancer.get("advanced_configuration") or {}
            label = f"{where}.load_balancer[{index}].advanced_configuration"
            alternate = advanced.get("alternate_target_group_arn")
            if _referenced(doc, alternate, "aws_lb_target_group", "arn") is None:
                errors.append(
                    f"[S-03] {label}.alternate_target_group_arn: {alternate!r} is not a target group of this stack; ECS has nowhere to start the new version. {fix}"
                )
            elif alternate == balancer.get("target_group_arn"):
                errors.append(
                    f"[S-03] {label}.alternate_target_group_arn is the primary target group; a release needs a second one. {fix}"
                )
            for key, required in (("production_listener_rule", True), ("test_listener_rule", False)):
                value = advanced.get(key)
                if value is None and not required:
                    continue
                rule = _referenced(doc, value, "aws_lb_listener_rule", "arn")
                if rule is None:
                    errors.append(
                        f"[S-03] {label}.{key}: {value!r} is not a listener rule of this stack (ECS needs a rule ARN for an ALB, not a listener). {fix}"
                    )
                elif "action" not in ((rule.get("lifecycle") or {}).get("ignore_changes") or []):
                    errors.append(
                        f"[S-03] {label}.{key}: the rule's action is not in lifecycle.ignore_changes; ECS rewrites its weights in every release and the next apply would undo the release. {fix}"
                    )
            if _referenced(doc, advanced.get("role_arn"), "aws_iam_role", "arn") is None:
                errors.append(
                    f"[S-03] {label}.role_arn: not a role of this stack; ECS needs a role to change the listener rules. {fix}"
                )
        alarms = body.get("alarms") or {}
        names = alarms.get("alarm_names") or []
        if not (alarms.get("enable") and alarms.get("rollback") and names):
            errors.append(
                f"[S-03] {where}: strategy {strategy} without alarms {{enable, rollback}} and alarm names: a bad release is never rolled back by its metrics. {fix}"
            )
        for name in names:
            if name not in alarm_names and _referenced(doc, name, "aws_cloudwatch_metric_alarm", "alarm_name") is None:
                errors.append(
                    f"[S-03] {where}: rollback alarm {name!r} is not an alarm of this stack; ECS would watch an alarm that never fires. Fix: name an aws_cloudwatch_metric_alarm's alarm_name."
                )
        bakes = [("bake_time_in_minutes", config.get("bake_time_in_minutes"))]
        canary = config.get("canary_configuration") or {}
        linear = config.get("linear_configuration") or {}
        bakes += [("canary_configuration.canary_bake_time_in_minutes", canary.get("canary_bake_time_in_minutes"))]
        bakes += [("linear_configuration.step_bake_time_in_minutes", linear.get("step_bake_time_in_minutes"))]
        for key, value in bakes:
            minutes = _minutes(value) if value is not None else 0
            if minutes is None or not 0 <= minutes <= 1440:
                errors.append(
                    f"[S-03] {where}.deployment_configuration.{key}: {value!r} is not 0 to 1440 minutes (AWS's limit)."
                )
        if strategy == "CANARY":
            percent = canary.get("canary_percent")
            if (
                not isinstance(percent, int | float)
                or not 0.1 <= percent <= 100
                or not float(round(percent * 10, 6)).is_integer()
            ):
                errors.append(
                    f"[S-03] {where}.deployment_configuration.canary_configuration.canary_percent: {percent!r} is not 0.1 to 100 in steps of 0.1 (AWS's limit; the provider requires it)."
                )
        if strategy == "LINEAR":
            step = linear.get("step_percent")
            if not isinstance(step, int | float) or not 3 <= step <= 100:
                errors.append(
                    f"[S-03] {where}.deployment_configuration.linear_configuration.step_percent: {step!r} is not 3 to 100 (AWS's limit)."
                )
    return errors


def rules(*, facts: AuroraFacts | None = None) -> list[Rule]:
    """All guardrails: SPEC order (F-… then P-…), then the settings only AWS validates (R-…)."""
    return [
        check_backend,
        check_aurora_version(facts or aurora_facts()),
        check_cache_behaviors,
        check_capacity_providers,
        check_lifecycle_rules,
        check_secret_recovery_window,
        check_names,
        check_container_images,
        check_final_snapshot,
        check_rds_windows,
        check_container_definitions,
        check_autoscaling_targets,
        check_health_checks,
        check_releases,
    ]


def check_stack(doc: Json, stack_rules: Sequence[Rule]) -> list[str]:
    """Every violation of ``stack_rules`` in one stack's Terraform JSON."""
    return [message for rule in stack_rules for message in rule(doc)]


@jsii.implements(IValidation)
class _StackValidation:
    def __init__(self, stack: TerraformStack, stack_rules: Sequence[Rule]) -> None:
        self._stack = stack
        self._rules = stack_rules

    def validate(self) -> list[str]:
        return check_stack(self._stack.to_terraform(), self._rules)


@jsii.implements(IAspect)
class Guardrails:
    """Aspect adding the guardrail validation to every stack of the app."""

    def __init__(self, *, facts: AuroraFacts | None = None) -> None:
        self._rules = rules(facts=facts)
        self._seen: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, TerraformStack) and node.node.path not in self._seen:
            self._seen.add(node.node.path)
            node.node.add_validation(_StackValidation(node, self._rules))
