"""`make bench`: how long a synth, the test suite and a configuration error take.

Runs, interleaved and three times each: a full synth of all four stacks with the
lazy provider import, the same synth with the provider's eager import
(CATALOG_EAGER_PROVIDER_IMPORT=1), the whole pytest run, and a synth with a bad
ENVIRONMENT_SUFFIX override. Prints medians, the phase split of the synth and the ratios
against the targets; exits 1 if a target is missed or the two synths differ by a byte.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / ".bench"
RUNS = 3
PHASES = {"import": "provider + cdktf import", "build": "building the constructs", "synth": "writing cdktf.out/"}


def _timed(command: list[str], env: Mapping[str, str], expect: int) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=dict(env), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != expect:
        sys.exit(f"bench: {' '.join(command)} exited {result.returncode}, expected {expect}:\n{result.stderr[-2000:]}")
    return elapsed


def _synth(mode: str, run: int, base: Mapping[str, str]) -> tuple[float, dict[str, float], Path]:
    outdir = WORK / f"{mode}-{run}"
    timings = WORK / f"{mode}-{run}.json"
    env = {**base, "CDKTF_OUTDIR": str(outdir), "CATALOG_SYNTH_TIMINGS": str(timings)}
    if mode == "eager":
        env["CATALOG_EAGER_PROVIDER_IMPORT"] = "1"
    wall = _timed([sys.executable, "main.py"], env, 0)
    phases: dict[str, float] = json.loads(timings.read_text())
    return wall, phases, outdir


def _stack_bytes(outdir: Path) -> dict[str, bytes]:
    return {p.parent.name: p.read_bytes() for p in sorted((outdir / "stacks").glob("*/cdk.tf.json"))}


def main() -> int:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    variables = ("ENV", "CATALOG_OVERRIDES", "CATALOG_ENVIRONMENTS_DIR", "CATALOG_EAGER_PROVIDER_IMPORT")
    base = {k: v for k, v in os.environ.items() if k not in variables}
    walls: dict[str, list[float]] = {"lazy": [], "eager": [], "pytest": [], "config error": []}
    phases: dict[str, dict[str, list[float]]] = {"lazy": {}, "eager": {}}
    identical = True
    for run in range(RUNS):
        outputs = {}
        for mode in ("lazy", "eager"):
            wall, split, outdir = _synth(mode, run, base)
            walls[mode].append(wall)
            outputs[mode] = _stack_bytes(outdir)
            for phase, seconds in split.items():
                phases[mode].setdefault(phase, []).append(seconds)
        identical &= outputs["lazy"] == outputs["eager"] and len(outputs["lazy"]) == 4
        walls["pytest"].append(_timed([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], base, 0))
        bad = {
            **base,
            "CATALOG_OVERRIDES": "ENVIRONMENT_SUFFIX",
            "ENVIRONMENT_SUFFIX": "Not_Valid",
            "CDKTF_OUTDIR": str(WORK / "never"),
        }
        walls["config error"].append(_timed([sys.executable, "main.py"], bad, 2))
        print(f"run {run + 1}/{RUNS}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in walls.items()), flush=True)

    median = {name: statistics.median(values) for name, values in walls.items()}
    print(f"\nmedians of {RUNS} runs on {os.cpu_count()} cores (wall seconds)")
    print(f"  {'full synth, lazy provider import':<44}{median['lazy']:7.2f}")
    for phase, label in PHASES.items():
        print(f"    {label:<42}{statistics.median(phases['lazy'][phase]):7.2f}")
    print(f"  {'full synth, eager provider import':<44}{median['eager']:7.2f}")
    for phase, label in PHASES.items():
        print(f"    {label:<42}{statistics.median(phases['eager'][phase]):7.2f}")
    print(f"  {'pytest run (whole suite)':<44}{median['pytest']:7.2f}")
    print(f"  {'configuration error reported':<44}{median['config error']:7.2f}")

    checks = [
        ("full synth / eager-import synth", median["lazy"] / median["eager"], 0.40, "ratio"),
        ("pytest run / full synth", median["pytest"] / median["lazy"], 2.0, "ratio"),
        ("configuration error", median["config error"], 2.0, "s"),
    ]
    print("\ntargets")
    failed = not identical
    for label, value, limit, unit in checks:
        ok = value <= limit
        failed |= not ok
        shown = f"{value:.2f}" + (" s" if unit == "s" else "")
        print(f"  {'PASS' if ok else 'FAIL'}  {label:<34}{shown:>9}  (target <= {limit}{' s' if unit == 's' else ''})")
    print(f"  {'PASS' if identical else 'FAIL'}  lazy and eager synth byte-identical ({RUNS} runs, 4 stacks)")
    (WORK / "results.json").write_text(json.dumps({"runs": walls, "phases": phases, "identical": identical}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
