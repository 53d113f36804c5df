"""Refuse a migration that would lock the products table or break the version still serving.

`make lint` runs it. Each Alembic revision's SQL is rendered offline, exactly as
`alembic upgrade <previous>:<revision> --sql` writes it (migrations/env.py's offline branch, with
the session's lock and statement timeouts), and linted by squawk (`squawk-cli`, pinned in
requirements-dev.txt). A refused revision is named by its file, with each rule, the SQL line and
squawk's advice. README.md, "Migrations: expand, then contract", is the rule this enforces.

A revision may allow a rule for itself alone with a reason, for the one step that must break it
(the contract release that drops a column the running version no longer reads):

    LINT_ALLOW = {"ban-drop-column": "since 1.4 no version reads legacy_sku"}

Every allowance is printed on every run, so it stays visible in review and in CI logs.

Usage: python -m devtools.migration_lint [--versions DIR]...
Exit 0 when every revision passes, 1 when one is refused, 2 when the lint cannot run.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.script import Script, ScriptDirectory

from catalog_api.migrate import alembic_config

SERVICE_DIR = Path(__file__).resolve().parent.parent
# The engine the platform runs (R-08: Aurora PostgreSQL 16): squawk's advice depends on it (for
# example, ADD COLUMN with a constant default rewrites no table since PostgreSQL 11).
PG_VERSION = "16"
# Every other rule of squawk 2.70.0 is on (all its default rules; the opt-in require-table-schema
# stays off: the service owns one schema, `public`). Rules switched off, each for a reason:
RULES_OFF: Mapping[str, str] = {
    "prefer-bigint-over-int": "a column's range is a design decision for review; it takes no lock and breaks no running version",
    "prefer-bigint-over-smallint": "the same: a range decision, not a release hazard",
}


class LintUnavailableError(RuntimeError):
    """squawk is missing or the revisions cannot be read: the lint cannot run at all."""


@dataclass(frozen=True)
class Violation:
    rule: str
    message: str
    help: str | None
    sql_line: str


@dataclass(frozen=True)
class Verdict:
    path: Path
    """The revision's file."""
    range: str
    """The `alembic upgrade` range its SQL was rendered from, e.g. `0001:0002`."""
    allowed: Mapping[str, str]
    """Rules the revision allows for itself (LINT_ALLOW), with its reasons."""
    violations: tuple[Violation, ...]
    error: str | None = None
    """Why it could not be linted at all (a refusal too: what cannot be linted does not ship)."""

    @property
    def refused(self) -> bool:
        return bool(self.violations) or self.error is not None


def squawk_path() -> Path:
    """The squawk of this virtualenv (installed by `make install` from requirements-dev.txt)."""
    path = Path(sys.executable).parent / "squawk"
    if not path.exists():
        raise LintUnavailableError(
            f"squawk not found at {path}: run `make -C service install` (squawk-cli is pinned in requirements-dev.txt)"
        )
    return path


def revisions(script_dir: ScriptDirectory) -> list[Script]:
    """The revisions from base to head; more than one head is refused (`upgrade head` could not run)."""
    heads = script_dir.get_heads()
    if len(heads) > 1:
        files = ", ".join(sorted(_display(Path(s.path)) for s in (script_dir.get_revision(h) for h in heads) if s))
        raise LintUnavailableError(
            f"the migrations have {len(heads)} heads ({files}): give one a down_revision of the other"
        )
    return list(reversed(list(script_dir.walk_revisions())))


def render(extra_versions: Sequence[Path], script: Script) -> tuple[str, str]:
    """(range, SQL) of one revision, rendered offline as `alembic upgrade <range> --sql` writes it."""
    down = script.down_revision
    if isinstance(down, tuple | list):
        raise ValueError("a merge revision: keep the history linear")
    upgrade_range = f"{down}:{script.revision}" if down else script.revision
    cfg = alembic_config(extra_versions)
    buffer = io.StringIO()
    cfg.output_buffer = buffer
    command.upgrade(cfg, upgrade_range, sql=True)
    return upgrade_range, buffer.getvalue()


def allowances(script: Script) -> dict[str, str]:
    allow = getattr(script.module, "LINT_ALLOW", {})
    if not isinstance(allow, dict) or not all(
        isinstance(rule, str) and isinstance(why, str) and why.strip() for rule, why in allow.items()
    ):
        raise ValueError('LINT_ALLOW must map each rule name to a non-empty reason, e.g. {"ban-drop-column": "why"}')
    return dict(allow)


def squawk(squawk_bin: Path, sql: str, path: Path, excluded: Sequence[str]) -> tuple[Violation, ...]:
    lines = sql.splitlines()
    with tempfile.TemporaryDirectory() as tmp:
        # An empty config file: no .squawk.toml found above the working directory changes the rules.
        config = Path(tmp) / ".squawk.toml"
        config.write_text("")
        cmd = [
            str(squawk_bin),
            f"--config={config}",
            f"--pg-version={PG_VERSION}",
            "--no-assume-in-transaction",  # Alembic's BEGIN/COMMIT are in the rendered SQL itself
            "--reporter=json",
            f"--stdin-filepath={_display(path)}",
        ]
        if excluded:
            cmd.append(f"--exclude={','.join(sorted(excluded))}")
        result = subprocess.run(cmd, input=sql, capture_output=True, text=True, cwd=tmp, check=False)
    try:
        found = json.loads(result.stdout) if result.stdout.strip() else []
    except json.JSONDecodeError:
        found = None
    if result.returncode not in (0, 1) or not isinstance(found, list):
        raise LintUnavailableError(f"squawk failed (exit {result.returncode}): {result.stderr.strip()[:300]}")
    return tuple(
        Violation(
            rule=str(item["rule_name"]),
            message=str(item["message"]),
            help=item.get("help"),
            sql_line=lines[int(item["line"])].strip() if 0 <= int(item["line"]) < len(lines) else "",
        )
        for item in found
    )


def lint(extra_versions: Sequence[Path] = ()) -> list[Verdict]:
    squawk_bin = squawk_path()
    try:
        script_dir = ScriptDirectory.from_config(alembic_config(extra_versions))
        ordered = revisions(script_dir)
    except LintUnavailableError:
        raise
    except Exception as exc:
        raise LintUnavailableError(f"cannot read the migrations: {type(exc).__name__}: {exc}") from exc
    verdicts: list[Verdict] = []
    for script in ordered:
        path = Path(script.path)
        try:
            allowed = allowances(script)
        except ValueError as exc:
            verdicts.append(Verdict(path, script.revision, {}, (), error=str(exc)))
            continue
        try:
            upgrade_range, sql = render(extra_versions, script)
        except Exception as exc:  # noqa: BLE001 - a revision's own code may raise anything: a refusal
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            verdicts.append(
                Verdict(
                    path, script.revision, allowed, (), error=f"its SQL cannot be rendered offline (--sql): {reason}"
                )
            )
            continue
        excluded = sorted({*RULES_OFF, *allowed})
        verdicts.append(Verdict(path, upgrade_range, allowed, squawk(squawk_bin, sql, path, excluded)))
    return verdicts


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(SERVICE_DIR))
    except ValueError:
        return str(path)


def report(verdicts: Sequence[Verdict]) -> list[str]:
    out: list[str] = []
    for rule, why in RULES_OFF.items():
        out.append(f"migration lint: rule {rule} off for every revision: {why}")
    for verdict in verdicts:
        name = _display(verdict.path)
        for rule, why in verdict.allowed.items():
            out.append(f"migration lint: {name} allows {rule} (LINT_ALLOW): {why}")
        if verdict.error is not None:
            out.append(f"{name}: REFUSED: {verdict.error}")
        elif verdict.violations:
            rules = ", ".join(sorted({v.rule for v in verdict.violations}))
            out.append(f"{name}: REFUSED by squawk ({rules}); SQL of `alembic upgrade {verdict.range} --sql`:")
            for v in verdict.violations:
                out.append(f"  {v.rule}: {v.message}")
                out.append(f"    at: {v.sql_line}")
                if v.help:
                    out.append(f"    fix: {v.help}")
        else:
            out.append(f"{name}: ok")
    refused = [v for v in verdicts if v.refused]
    if refused:
        out.append(
            f"migration lint: {len(refused)} of {len(verdicts)} migrations refused: "
            + ", ".join(_display(v.path) for v in refused)
            + " (see service/README.md, 'Migrations: expand, then contract')"
        )
    else:
        out.append(f"migration lint: {len(verdicts)} migrations pass")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.migration_lint", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--versions",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="another folder of revisions to lint with the service's own (repeatable)",
    )
    args = parser.parse_args(argv)
    missing = [str(d) for d in args.versions if not d.is_dir()]
    if missing:
        print(f"migration lint: --versions {missing[0]} is not a directory", file=sys.stderr)
        return 2
    try:
        verdicts = lint([d.resolve() for d in args.versions])
    except LintUnavailableError as exc:
        print(f"migration lint: {exc}", file=sys.stderr)
        return 2
    lines = report(verdicts)
    print("\n".join(lines))
    return 1 if any(v.refused for v in verdicts) else 0


if __name__ == "__main__":
    sys.exit(main())
