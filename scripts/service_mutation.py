#!/usr/bin/env python
"""`make mutation-service`: how many realistic mistakes in service/ the service's tests catch.

Each mutant of scripts/service_mutants.py is one exact edit of a file under service/. It is
applied to a fresh copy of service/ in a temporary folder (the working tree is never touched;
service/.venv is symlinked), and pytest runs there with ``-x`` over the mutant's own test
files (``tests`` in the list; the whole suite takes minutes per run on two cores), each run
with its own throwaway PostgreSQL. A mutant is killed when a test fails.

Every kill is re-checked by a second run of the same mutant: a kill that does not repeat is
a flaky test, not a caught mistake, so the mutant counts as surviving and is named as flaky.

Before the mutants, the unmutated copy runs every test file any mutant uses. A test that
already fails there is deselected for the run and named (it could tell nothing).

``--source DIR`` measures another copy of the service (for example an older commit's
service/ from ``git archive``); mutants whose snippet is absent there count as survivors,
marked "absent" (the mistake is already in that code). Without it, a snippet that no longer
matches stops the run.

Prints the kill rate and the survivors, writes .mutation/service-report.json and exits 1
when the kill rate is under 90 %. Usage:

    python scripts/service_mutation.py [--jobs 1] [--only ID ...] [--list] [--source DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.mutation import (  # noqa: E402
    MutantError,
    Outcome,
    apply,
    check_mutants,
    failing_tests,
    write_report,
)
from scripts.service_mutants import SERVICE_MUTANTS, ServiceMutant  # noqa: E402

SERVICE = ROOT / "service"
MAX_JOBS = 2
# One run of a mutant's test files takes well under two minutes; longer means stuck.
TIMEOUT_SECONDS = 300
REPORT = ROOT / ".mutation" / "service-report.json"
NOT_COPIED = (".venv", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".hypothesis", "__pycache__")
# The service reads only its contract variables; these would change what the tests measure.
CLEARED_VARIABLES = ("FUZZ_EXAMPLES", "FUZZ_RANDOM", "PYTEST_ADDOPTS")


def copy_service(source: Path, destination: Path) -> None:
    """service/ without caches, its virtualenv linked (the one of the working tree)."""
    shutil.copytree(source, destination, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    (destination / ".venv").symlink_to((SERVICE / ".venv").resolve(), target_is_directory=True)


def _environment() -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if k not in CLEARED_VARIABLES}
    return environ | {"PYTHONDONTWRITEBYTECODE": "1"}


def _pytest(tree: Path, tests: Sequence[str], *, stop_first: bool, deselected: Sequence[str]) -> tuple[int | None, str]:
    command = [str(tree / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += [f"--basetemp={tree.parent / 'tmp'}"]
    command += ["-x"] if stop_first else []
    command += list(tests)
    command += [f"--deselect={node}" for node in deselected]
    try:
        done = subprocess.run(
            command, cwd=tree, env=_environment(), capture_output=True, text=True, timeout=TIMEOUT_SECONDS
        )
    except subprocess.TimeoutExpired:
        return None, ""
    return done.returncode, done.stdout + done.stderr


def _one_run(
    source: Path, mutant: ServiceMutant | None, tests: Sequence[str], deselected: Sequence[str]
) -> tuple[str, str, str]:
    """(status, caught_by, output) of one pytest run over a fresh copy with ``mutant`` applied."""
    with tempfile.TemporaryDirectory(prefix="catalog-service-mutant-") as scratch:
        tree = Path(scratch) / "service"
        copy_service(source, tree)
        if mutant is not None:
            apply(mutant, tree)
        # An older --source may lack a test file the list names: it had no such test.
        present = [t for t in tests if (tree / t).is_file()]
        if not present:
            return "survived", "", ""
        code, output = _pytest(tree, present, stop_first=mutant is not None, deselected=deselected)
    if code is None:
        return "timeout", f"no result within {TIMEOUT_SECONDS} s", output
    if code == 0:
        return "survived", "", output
    if code in (1, 2):
        # Only test node ids: pytest's captured log lines also start with "ERROR".
        failed = [node for node in failing_tests(output) if node.startswith("tests/")]
        return "killed", failed[0] if failed else "collection or setup error", output
    raise MutantError(f"{mutant.id if mutant else 'baseline'}: pytest exited with {code}:\n{output[-2000:]}")


def run_mutant(source: Path, mutant: ServiceMutant, deselected: Sequence[str]) -> Outcome:
    """Killed only if a second run kills it too; a kill that does not repeat is reported as flaky."""
    started = time.monotonic()
    status, caught_by, _ = _one_run(source, mutant, mutant.tests, deselected)
    if status != "survived":
        again, caught_again, _ = _one_run(source, mutant, mutant.tests, deselected)
        if again == "survived":
            status, caught_by = "flaky", f"killed once ({caught_by}), survived the re-check"
        elif caught_again != caught_by:
            caught_by = f"{caught_by}; re-check: {caught_again}"
    return Outcome(mutant.id, status, time.monotonic() - started, caught_by)


def _absent(source: Path, mutant: ServiceMutant) -> bool:
    path = source / mutant.file
    return not path.is_file() or path.read_text(encoding="utf-8").count(mutant.original) != 1


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--jobs", type=int, default=1, help=f"parallel mutant runs, 1-{MAX_JOBS}")
    parser.add_argument("--only", nargs="+", metavar="ID", help="run only these mutants (no threshold check)")
    parser.add_argument("--list", action="store_true", help="list the mutants and their test files, then exit")
    parser.add_argument("--source", type=Path, help="the service folder to measure (default: service/)")
    args = parser.parse_args(argv)
    if not 1 <= args.jobs <= MAX_JOBS:
        parser.error(f"--jobs {args.jobs} is not allowed: 1 to {MAX_JOBS} (the machine has 2 cores)")
    if args.source is not None and not (args.source / "catalog_api").is_dir():
        parser.error(f"--source {args.source} is not a copy of service/ (no catalog_api folder in it)")
    return args


def main(argv: Sequence[str]) -> int:
    args = _parse(argv)
    if args.list:
        for mutant in SERVICE_MUTANTS:
            print(f"{mutant.id:36} {mutant.file}: {mutant.what}  [{', '.join(mutant.tests)}]")
        return 0
    source: Path = (args.source or SERVICE).resolve()
    selected = list(SERVICE_MUTANTS)
    if args.only:
        unknown = sorted(set(args.only) - {m.id for m in SERVICE_MUTANTS})
        if unknown:
            print(f"mutation-service: unknown mutant id {unknown[0]!r}; see --list", file=sys.stderr)
            return 2
        selected = [m for m in SERVICE_MUTANTS if m.id in args.only]
    absent: list[ServiceMutant] = []
    if args.source is None:
        problems = check_mutants([_rooted(m) for m in SERVICE_MUTANTS])
        if problems:
            print("mutation-service: the mutant list does not match the code:", *problems, sep="\n  ", file=sys.stderr)
            return 2
    else:
        absent = [m for m in selected if _absent(source, m)]
        selected = [m for m in selected if m not in absent]

    started = time.monotonic()
    baseline_tests = sorted({t for m in selected for t in m.tests})
    print(f"mutation-service: baseline run of the unmutated service ({len(baseline_tests)} test files)", flush=True)
    status, _, output = _one_run(source, None, baseline_tests, ())
    deselected = [n for n in failing_tests(output) if n.startswith("tests/")] if status != "survived" else []
    if status != "survived" and not deselected:
        print(f"mutation-service: the unmutated service does not pass and no failing test is named:\n{output[-3000:]}")
        return 2
    for node in deselected:
        print(f"mutation-service: WARNING {node} fails without any mutant; deselected for this run", flush=True)

    outcomes: list[Outcome] = [Outcome(m.id, "absent", 0.0, "") for m in absent]
    total = len(selected) + len(absent)

    def one(mutant: ServiceMutant) -> Outcome:
        outcome = run_mutant(source, mutant, deselected)
        outcomes.append(outcome)
        print(
            f"[{len(outcomes):3}/{total}] {outcome.status:8} {mutant.id:36} {outcome.seconds:5.1f}s {outcome.caught_by}",
            flush=True,
        )
        return outcome

    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        list(pool.map(one, selected))
    return _report(
        [*absent, *selected], outcomes, deselected, time.monotonic() - started, check_threshold=not args.only
    )


def _rooted(mutant: ServiceMutant) -> ServiceMutant:
    """The mutant with its path from the project root, for check_mutants (which reads the working tree)."""
    return ServiceMutant(**{**asdict(mutant), "file": f"service/{mutant.file}", "tests": mutant.tests})


def _report(
    mutants: Sequence[ServiceMutant],
    results: Sequence[Outcome],
    deselected: Sequence[str],
    elapsed: float,
    *,
    check_threshold: bool,
) -> int:
    by_id = {m.id: m for m in mutants}
    killed = sum(1 for r in results if r.status in ("killed", "timeout"))
    rate = 100.0 * killed / len(results) if results else 0.0
    print(f"\nmutation-service: {killed} of {len(results)} mutants killed ({rate:.1f} %) in {elapsed / 60:.1f} min")
    for label in ("survived", "flaky", "absent"):
        rows = [r for r in results if r.status == label]
        if rows:
            print(f"{label}:")
            for outcome in rows:
                mutant = by_id[outcome.id]
                print(f"  {mutant.id:36} {mutant.file}: {mutant.what}")
    return write_report(
        "mutation-service", REPORT, mutants, results, killed, deselected, elapsed, check_threshold=check_threshold
    )


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except MutantError as error:
        print(f"mutation-service: {error}", file=sys.stderr)
        sys.exit(2)
