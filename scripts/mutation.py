#!/usr/bin/env python
"""`make mutation`: how many realistic mistakes the property tests and guardrails catch.

Every mutant of scripts/mutants.py is one exact edit of stacks/, shared/ or main.py. Each
is applied to a fresh copy of the project in a temporary folder (the working tree is never
touched; .venv and node_modules are symlinked), and pytest runs there with ``-x`` in a
process of its own, so the app is synthesized anew with the mutant in it (the property
tests run first: with ``-x`` most mutants stop there, early). A mutant is
killed when a test fails or a guardrail refuses the synth, and survives when the suite
passes. The snapshot tests and the eager-import digest test (tests/test_snapshots.py)
are left out: they catch any change at all, so with them the number would measure
nothing.

Before the mutants, the unmutated copy runs the same suite once. A test that already
fails there cannot tell anything about a mutant; it is deselected for the run and named
in the output and the report.

Prints the kill rate and the survivors, writes .mutation/report.json and exits 1 when
the kill rate is under the threshold (90 %). Usage:

    python scripts/mutation.py [--jobs 2] [--only ID ...] [--list]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.mutants import MUTANTS, Mutant  # noqa: E402 - after the project root is importable

THRESHOLD_PERCENT = 90.0
MAX_JOBS = 2
# A mutant run that takes longer than this is stuck (the whole suite takes well under a minute).
TIMEOUT_SECONDS = 300
REPORT = ROOT / ".mutation" / "report.json"
# Snapshot tests and the lazy-vs-eager digest test: any change fails them (see the module docstring).
# The mutant-list check fails for every applied mutant too (its snippet is gone from the code), so
# it would kill each one without telling anything about the tests.
EXCLUDED_TESTS = ("tests/test_snapshots.py", "tests/test_mutant_lists.py")
# Not copied into a mutant's tree: version control, environments, build output, caches, state.
NOT_COPIED = (
    ".git", ".venv", "node_modules", ".checkov-venv", ".docs-tools", ".mutation", ".state", ".terraform",
    "cdktf.out", "cdktf.out.bootstrap", ".cdktf.out.*", ".pytest_cache", ".mypy_cache", ".ruff_cache",
    ".bench", "__pycache__",
)  # fmt: skip
LINKED = (".venv", "node_modules")
# Variables that select another environment file or import mode: a mutation run always measures the defaults.
CLEARED_VARIABLES = ("ENV", "CATALOG_ENVIRONMENTS_DIR", "CATALOG_OVERRIDES", "CATALOG_EAGER_PROVIDER_IMPORT")
_SUMMARY_LINE = re.compile(r"^(FAILED|ERROR) (.+?)(?: - .*)?$")


class MutantError(Exception):
    """A mutant that cannot be applied: its snippet is gone or duplicated, or it breaks the syntax."""


@dataclass(frozen=True)
class Outcome:
    """What one pytest run over a mutated copy found."""

    id: str
    """The mutant's id; "baseline" for the unmutated run."""
    status: str
    """killed, survived or timeout (a timeout counts as killed)."""
    seconds: float
    """Wall-clock time of the pytest run."""
    caught_by: str
    """The first failing test or the guardrail line, empty when the mutant survived."""


def apply(mutant: Mutant, root: Path) -> None:
    """Edit ``mutant.file`` under ``root``; refuse unless the snippet occurs exactly once."""
    path = root / mutant.file
    if not path.is_file():
        raise MutantError(f"{mutant.id}: {mutant.file} does not exist")
    text = path.read_text(encoding="utf-8")
    count = text.count(mutant.original)
    if count != 1:
        raise MutantError(
            f"{mutant.id}: the snippet occurs {count} times in {mutant.file}, expected exactly once; "
            "update scripts/mutants.py with the code"
        )
    if mutant.replacement == mutant.original:
        raise MutantError(f"{mutant.id}: the replacement equals the original")
    mutated = text.replace(mutant.original, mutant.replacement)
    if path.suffix == ".py":
        try:
            compile(mutated, str(path), "exec")
        except SyntaxError as error:
            raise MutantError(f"{mutant.id}: the mutated {mutant.file} is not valid Python: {error}") from None
    path.write_text(mutated, encoding="utf-8")


def check_mutants(mutants: Sequence[Mutant]) -> list[str]:
    """Every problem of the mutant list against the working tree: duplicate ids, stale or ambiguous snippets."""
    problems = []
    seen: set[str] = set()
    for mutant in mutants:
        if mutant.id in seen:
            problems.append(f"{mutant.id}: duplicate id")
        seen.add(mutant.id)
        with tempfile.TemporaryDirectory(prefix="catalog-mutant-check-") as scratch:
            target = Path(scratch) / mutant.file
            target.parent.mkdir(parents=True, exist_ok=True)
            source = ROOT / mutant.file
            if source.is_file():
                shutil.copy2(source, target)
            try:
                apply(mutant, Path(scratch))
            except MutantError as error:
                problems.append(str(error))
    return problems


def copy_project(destination: Path) -> None:
    """The project without version control, environments and build output; .venv and node_modules linked."""
    shutil.copytree(ROOT, destination, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    for name in LINKED:
        (destination / name).symlink_to((ROOT / name).resolve(), target_is_directory=True)


def _environment() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}
    return environ | {"PYTHONDONTWRITEBYTECODE": "1", "CHECKPOINT_DISABLE": "1"}


def _pytest(tree: Path, *, stop_first: bool, deselected: Sequence[str]) -> tuple[int | None, str, float]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--basetemp={tree.parent / 'tmp'}"]
    command += ["-x"] if stop_first else []
    command += [f"--ignore={path}" for path in EXCLUDED_TESTS]
    command += test_files(tree)
    command += [f"--deselect={node}" for node in deselected]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=tree, env=_environment(), capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return None, "", time.monotonic() - started
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


def test_files(tree: Path) -> list[str]:
    """The test modules, property tests first: with -x a mutant is usually caught there, and sooner."""
    names = sorted(p.relative_to(tree).as_posix() for p in (tree / "tests").glob("test_*.py"))
    kept = [name for name in names if name not in EXCLUDED_TESTS]
    return sorted(kept, key=lambda name: not Path(name).name.startswith("test_properties_"))


def failing_tests(output: str) -> list[str]:
    """Node ids from pytest's short summary (``FAILED x::y - …`` and ``ERROR x::y - …``)."""
    return [m.group(2) for line in output.splitlines() if (m := _SUMMARY_LINE.match(line.strip()))]


def _caught_by(output: str) -> str:
    """The guardrail message when the synth was refused, else the first failing test."""
    refusal = re.search(r"^\s*(?:E\s+)?(\[\w+\] \[[A-Z]-\d+\] .*)$", output, re.MULTILINE)
    setup_error = any(line.startswith("ERROR ") for line in output.splitlines())
    if refusal and setup_error:
        return f"synth refused: {refusal.group(1)[:160]}"
    failed = failing_tests(output)
    return failed[0] if failed else "collection or setup error"


def run_mutant(mutant: Mutant | None, deselected: Sequence[str]) -> tuple[Outcome, str]:
    """Copy the project, apply ``mutant`` (None: the baseline), run pytest; the outcome and pytest's output."""
    with tempfile.TemporaryDirectory(prefix="catalog-mutant-") as scratch:
        tree = Path(scratch) / "project"
        copy_project(tree)
        if mutant is not None:
            apply(mutant, tree)
        code, output, seconds = _pytest(tree, stop_first=mutant is not None, deselected=deselected)
    name = mutant.id if mutant else "baseline"
    if code is None:
        return Outcome(name, "timeout", seconds, f"no result within {TIMEOUT_SECONDS} s"), output
    if code == 0:
        return Outcome(name, "survived", seconds, ""), output
    if code in (1, 2):  # tests failed / collection interrupted by an error
        return Outcome(name, "killed", seconds, _caught_by(output)), output
    raise MutantError(f"{name}: pytest exited with {code} (usage or internal error):\n{output[-2000:]}")


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=MAX_JOBS, help=f"parallel mutant runs, 1-{MAX_JOBS}")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants (no threshold check)")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= MAX_JOBS:
        parser.error(f"--jobs {args.jobs} is not allowed: 1 to {MAX_JOBS} (the machine has 2 cores)")
    return args


def main(argv: Sequence[str]) -> int:
    args = _parse(argv)
    if args.list:
        for mutant in MUTANTS:
            print(f"{mutant.id:40} {mutant.file}: {mutant.what}")
        return 0
    problems = check_mutants(MUTANTS)
    if problems:
        print("mutation: the mutant list does not match the code:", *problems, sep="\n  ", file=sys.stderr)
        return 2
    selected = list(MUTANTS)
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in MUTANTS})
        if unknown:
            print(f"mutation: unknown mutant id {unknown[0]!r}; see --list", file=sys.stderr)
            return 2
        selected = [m for m in MUTANTS if m.id in args.only]

    started = time.monotonic()
    print(f"mutation: baseline run of the unmutated project (excluded: {', '.join(EXCLUDED_TESTS)})", flush=True)
    baseline, output = run_mutant(None, ())
    deselected = failing_tests(output) if baseline.status != "survived" else []
    if baseline.status != "survived" and not deselected:
        print(f"mutation: the unmutated project does not pass and no failing test is named:\n{output[-3000:]}")
        return 2
    for node in deselected:
        print(f"mutation: WARNING {node} fails without any mutant; deselected for this run", flush=True)

    outcomes: list[Outcome] = []

    def one(mutant: Mutant) -> Outcome:
        outcome, _ = run_mutant(mutant, deselected)
        outcomes.append(outcome)
        print(
            f"[{len(outcomes):3}/{len(selected)}] {outcome.status:8} {mutant.id:40} {outcome.seconds:5.1f}s "
            f"{outcome.caught_by}",
            flush=True,
        )
        return outcome

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(one, selected))
    elapsed = time.monotonic() - started
    return _report(selected, results, deselected, elapsed, check_threshold=not args.only)


def _report(
    mutants: Sequence[Mutant], results: Sequence[Outcome], deselected: Sequence[str], elapsed: float, *,
    check_threshold: bool,
) -> int:  # fmt: skip
    by_id = {m.id: m for m in mutants}
    survivors = [r for r in results if r.status == "survived"]
    killed = len(results) - len(survivors)
    rate = 100.0 * killed / len(results) if results else 0.0
    print(f"\nmutation: {killed} of {len(results)} mutants killed ({rate:.1f} %) in {elapsed / 60:.1f} min")
    if survivors:
        print("survivors:")
        for outcome in survivors:
            mutant = by_id[outcome.id]
            reason = f"  [accepted: {mutant.survives}]" if mutant.survives else ""
            print(f"  {mutant.id:40} {mutant.file}: {mutant.what}{reason}")
    newly_killed = [r.id for r in results if r.status != "survived" and by_id[r.id].survives]
    for name in newly_killed:
        print(f"note: {name} is marked as a surviving mutant but was killed; drop its reason in scripts/mutants.py")
    extra = {"excluded_tests": list(EXCLUDED_TESTS)}
    return write_report(
        "mutation", REPORT, mutants, results, killed, deselected, elapsed, check_threshold=check_threshold, extra=extra
    )


def write_report(
    command: str,
    path: Path,
    mutants: Sequence[Mutant],
    results: Sequence[Outcome],
    killed: int,
    deselected: Sequence[str],
    elapsed: float,
    *,
    check_threshold: bool,
    extra: Mapping[str, object] | None = None,
) -> int:
    """Write the JSON report of a run (make mutation, make mutation-service); exit 1 under the threshold."""
    by_id = {m.id: m for m in mutants}
    rate = 100.0 * killed / len(results) if results else 0.0
    path.parent.mkdir(exist_ok=True)
    # The folder ignores itself, so the report never shows up in git status.
    (path.parent / ".gitignore").write_text("*\n", encoding="utf-8")
    report = {
        "killed": killed,
        "total": len(results),
        "kill_rate_percent": round(rate, 1),
        "threshold_percent": THRESHOLD_PERCENT,
        "minutes": round(elapsed / 60, 1),
        **(extra or {}),
        "deselected_baseline_failures": list(deselected),
        "mutants": [asdict(by_id[r.id]) | asdict(r) for r in results],
    }
    path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"report: {path.relative_to(ROOT)}")
    if check_threshold and rate < THRESHOLD_PERCENT:
        print(f"{command}: kill rate {rate:.1f} % is under {THRESHOLD_PERCENT:.0f} %", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MutantError as error:
        print(f"mutation: {error}", file=sys.stderr)
        sys.exit(2)
