"""The CI roles' permissions, read from the reviewed table shared/data/iam_actions.toml.

Each row maps a Terraform type of the four layers (or the S3 state backend) to the IAM
actions Terraform needs for it, split into read calls (a plan's refresh), write calls
(create, update, delete) and sensitive calls (reading a secret value), each with the ARN
patterns it may touch. The deploy role gets every action, the plan role the read ones.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shared.components.policy import Statement

TABLE = Path(__file__).resolve().parent / "data" / "iam_actions.toml"
# A managed policy may hold 6,144 characters, whitespace not counted (IAM and AWS STS
# quotas, IAM user guide, read 2026-11-29); a margin for the tokens measured below.
MANAGED_POLICY_LIMIT = 6144
_MARGIN = 200
# Read calls: what a refresh may make. Anything else a read list names is an error.
READ_VERBS = ("Describe", "Get", "List", "Check", "Validate")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
# What an ARN pattern or condition may name (Placeholders.values).
PLACEHOLDERS = frozenset(
    {"region", "global", "account", "project", "suffix", "name", "roles", "state_bucket", "state_objects"}
    | {"lock_table", "boundary", "zone"}
)
_TOKEN = re.compile(r"\$\{[^}]*\}")


class TableError(ValueError):
    """The table is malformed: one line naming the row and what is wrong."""


@dataclass(frozen=True, kw_only=True)
class Grant:
    """Actions on one set of ARN patterns (one IAM statement before merging)."""

    read: tuple[str, ...] = ()
    """Calls a refresh makes (plan and deploy role)."""
    write: tuple[str, ...] = ()
    """Create/update/delete calls (deploy role; the plan role too when ``lock``)."""
    sensitive: tuple[str, ...] = ()
    """Calls that return a secret value (deploy role only)."""
    resources: tuple[str, ...] = ()
    """ARN patterns with placeholders, or ("*",)."""
    star: str | None = None
    """Why IAM cannot narrow a ("*",) grant; None for named resources."""
    condition: Mapping[str, Any] | None = None
    """IAM Condition block, placeholders allowed; None: none."""
    lock: bool = False
    """The Terraform state lock: the plan role takes it too."""


@dataclass(frozen=True, kw_only=True)
class Row:
    """One Terraform type and what Terraform needs to manage it."""

    type: str
    """Terraform type; data sources as data.<type>, the backend as backend.s3."""
    layers: tuple[str, ...]
    """Layers that contain the type (informational)."""
    source: str
    """Provider service file at 6.25.0 and/or the AWS page (with the date read)."""
    grants: tuple[Grant, ...] = ()
    """What the roles get for it."""
    no_api: str | None = None
    """Why the type needs no AWS permission; None when it has grants."""


@dataclass(frozen=True, kw_only=True)
class Placeholders:
    """Values of the table's {placeholders} for one environment."""

    region: str
    """Region the layers deploy to, e.g. eu-north-1."""
    global_region: str
    """Region of CloudFront, its WAF and log group: us-east-1."""
    account: str
    """The deploying account's id (a token)."""
    project: str
    """Project prefix, e.g. catalog-api."""
    suffix: str
    """Environment suffix, e.g. prod."""
    state_bucket: str
    """ARN of the state bucket."""
    state_prefix: str
    """Key prefix of this environment's state objects, e.g. prod."""
    boundary: str
    """ARN of the workload roles' permissions boundary policy."""
    lock_table: str | None = None
    """ARN of the DynamoDB lock table; None drops the grants that name it. Default: None."""
    zone: str | None = None
    """Route 53 hosted zone id of [domain]; None drops the grants that name it (no records). Default: None."""

    def values(self) -> dict[str, str | None]:
        name = f"{self.project}-*-{self.suffix}"
        return {
            "region": self.region,
            "global": self.global_region,
            "account": self.account,
            "project": self.project,
            "suffix": self.suffix,
            "name": name,
            "roles": f"arn:aws:iam::{self.account}:role/{name}",
            "state_bucket": self.state_bucket,
            "state_objects": f"{self.state_bucket}/{self.state_prefix}/*",
            "lock_table": self.lock_table,
            "boundary": self.boundary,
            "zone": self.zone,
        }


def _strings(row: str, key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TableError(f"{row}: {key} must be a list of strings")
    return tuple(value)


def _grant(row: str, raw: Mapping[str, Any]) -> Grant:
    unknown = set(raw) - {"read", "write", "sensitive", "resources", "star", "condition", "lock"}
    if unknown:
        raise TableError(f"{row}: unknown grant key {sorted(unknown)[0]!r}")
    grant = Grant(
        read=_strings(row, "read", raw.get("read", [])),
        write=_strings(row, "write", raw.get("write", [])),
        sensitive=_strings(row, "sensitive", raw.get("sensitive", [])),
        resources=_strings(row, "resources", raw.get("resources", [])),
        star=raw.get("star"),
        condition=raw.get("condition"),
        lock=bool(raw.get("lock", False)),
    )
    if not grant.resources:
        raise TableError(f"{row}: a grant needs resources")
    if "*" in grant.resources and (grant.resources != ("*",) or not grant.star):
        raise TableError(f'{row}: resources = ["*"] needs a star = "why IAM cannot narrow it"')
    if not (grant.read or grant.write or grant.sensitive):
        raise TableError(f"{row}: a grant needs actions")
    unknown_names = sorted(set(_PLACEHOLDER.findall(json.dumps([grant.resources, grant.condition]))) - PLACEHOLDERS)
    if unknown_names:
        raise TableError(
            f"{row}: unknown placeholder {{{unknown_names[0]}}}; allowed: {', '.join(sorted(PLACEHOLDERS))}"
        )
    not_read = [a for a in grant.read if not a.split(":", 1)[-1].startswith(READ_VERBS)]
    if not_read:
        raise TableError(f"{row}: {not_read[0]} is not a read call ({', '.join(READ_VERBS)}…); move it to write")
    return grant


def load(path: Path = TABLE) -> tuple[Row, ...]:
    """The table's rows; TableError names the first malformed one."""
    document = tomllib.loads(path.read_text())
    rows: list[Row] = []
    for raw in document.get("row", []):
        type_ = raw.get("type")
        if not isinstance(type_, str):
            raise TableError(f"{path.name}: a row without a type")
        grants = tuple(_grant(type_, g) for g in raw.get("grant", []))
        row = Row(
            type=type_,
            layers=_strings(type_, "layers", raw.get("layers", [])),
            source=str(raw.get("source", "")),
            grants=grants,
            no_api=raw.get("no_api"),
        )
        if not row.source.strip():
            raise TableError(f"{type_}: every row names its source")
        if bool(row.grants) == bool(row.no_api):
            raise TableError(f"{type_}: give grants or no_api (why no AWS call is made), not both or neither")
        rows.append(row)
    return tuple(rows)


def _render(value: Any, values: Mapping[str, str | None]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), value)
    if isinstance(value, Mapping):
        return {k: _render(v, values) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_render(v, values) for v in value]
    return value


def _uses_missing(grant: Grant, values: Mapping[str, str | None]) -> bool:
    text = json.dumps([grant.resources, grant.condition])
    return any(values[name] is None for name in _PLACEHOLDER.findall(text))


def actions(grant: Grant, *, plan: bool) -> tuple[str, ...]:
    """What a role gets from ``grant``: the plan role reads (and takes the state lock)."""
    if plan:
        return grant.read + (grant.write if grant.lock else ())
    return grant.read + grant.write + grant.sensitive


def statements(rows: Sequence[Row], placeholders: Placeholders, *, plan: bool) -> list[Statement]:
    """One Allow statement per distinct (resources, condition), actions merged and sorted."""
    values = placeholders.values()
    regions = {"StringEquals": {"aws:RequestedRegion": sorted({placeholders.region, placeholders.global_region})}}
    merged: dict[str, tuple[list[str], Any, set[str]]] = {}
    for row in rows:
        for grant in row.grants:
            granted = actions(grant, plan=plan)
            if not granted or _uses_missing(grant, values):
                continue
            resources = sorted(set(_render(grant.resources, values)))
            # What IAM cannot narrow by ARN stays in the regions the project deploys to.
            condition = _render(grant.condition, values) if grant.condition else None
            if resources == ["*"] and condition is None:
                condition = regions
            key = json.dumps([resources, condition], sort_keys=True)
            merged.setdefault(key, (resources, condition, set()))[2].update(granted)
    result: list[Statement] = []
    for resources, condition, merged_actions in merged.values():
        statement: dict[str, Any] = {
            "Effect": "Allow",
            "Action": sorted(merged_actions),
            "Resource": resources[0] if len(resources) == 1 else resources,
        }
        if condition is not None:
            statement["Condition"] = condition
        result.append(statement)
    return result


def _measured(statements: Sequence[Statement]) -> int:
    # IAM counts the resolved document without whitespace: an account id is 12 digits,
    # any other token (a bucket ARN) is counted as 120 to stay on the safe side.
    text = json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, separators=(",", ":"))
    text = text.replace("${data.aws_caller_identity.account.account_id}", "0" * 12)
    return len(_TOKEN.sub("x" * 120, text))


def pack(statements: Sequence[Statement], limit: int = MANAGED_POLICY_LIMIT - _MARGIN) -> list[list[Statement]]:
    """The statements split into as few managed-policy documents under ``limit`` as first-fit finds."""
    pieces: list[Statement] = []
    for statement in statements:
        if _measured([statement]) <= limit:
            pieces.append(statement)
            continue
        # One statement too large on its own: split its action list in halves.
        listed = list(statement["Action"])
        half = len(listed) // 2
        pieces += [{**statement, "Action": listed[:half]}, {**statement, "Action": listed[half:]}]
    policies: list[list[Statement]] = []
    # Largest first, each into the first document with room: stable for a given table.
    for piece in sorted(pieces, key=lambda s: -_measured([s])):
        home = next((p for p in policies if _measured([*p, piece]) <= limit), None)
        if home is None:
            policies.append([piece])
        else:
            home.append(piece)
    return policies


def summary(rows: Sequence[Row]) -> tuple[int, int, int]:
    """(types, distinct actions, distinct read actions) of the table."""
    every = {a for row in rows for g in row.grants for a in actions(g, plan=False)}
    reads = {a for row in rows for g in row.grants for a in g.read}
    return len(rows), len(every), len(reads)
