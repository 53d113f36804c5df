"""`make profile`: where one uvicorn worker spends its CPU on a read, sampled with py-spy.

The service runs as `make bench` runs it (one worker, 1000 products, access log at info, a
throwaway PostgreSQL on loopback) under a paced load (hey), while py-spy samples the process's
Python stacks; C code (asyncpg's protocol, uvloop, orjson, system calls) is counted in the
Python function that called it. It prints each function's and each package's share of the
samples taken while the process ran (py-spy leaves out idle time) and keeps the raw stacks.
It measures shares, not speed: py-spy slows what it samples a little, alike for every function.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from devtools import pgserver
from devtools.bench import ENDPOINTS
from devtools.bench_compare import SERVICE_DIR, hey_run, running_service, seeded_database

SAMPLE_RATE_HZ = 500
_FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def shares(collapsed: Iterable[str]) -> tuple[int, Counter[str], Counter[str]]:
    """Samples, and self samples by function and by package, from py-spy's raw (collapsed) output.

    Each line is `frame;frame;...;innermost count`, a frame `function (file:line)`.
    """
    total = 0
    by_function: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    for line in collapsed:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        total += samples
        innermost = stack.rsplit(";", 1)[-1]
        match = _FRAME.match(innermost)
        function, file = (match["function"], match["file"]) if match else (innermost, innermost)
        by_function[f"{function} ({file})"] += samples
        by_package[file.split("/", 1)[0] if "/" in file else file] += samples
    return total, by_function, by_package


def report(call: str, total: int, by_function: Counter[str], by_package: Counter[str], top: int) -> str:
    lines = [f"{call}: {total} samples", "", "| package | self share |", "|---|---:|"]
    lines += [f"| {name} | {count / total:.1%} |" for name, count in by_package.most_common(12)]
    lines += ["", "| function (file) | self share |", "|---|---:|"]
    lines += [f"| {name} | {count / total:.1%} |" for name, count in by_function.most_common(top)]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.profile", description=__doc__)
    parser.add_argument("--seconds", type=int, default=15, help="sampling time per call (default %(default)s)")
    parser.add_argument("--rate", type=float, default=300.0, help="paced requests/s (default %(default)s)")
    parser.add_argument("--top", type=int, default=25, help="functions listed per call (default %(default)s)")
    parser.add_argument("--keep", type=Path, help="a folder to keep py-spy's raw stacks in, one file per call")
    args = parser.parse_args(argv)
    # py-spy comes with the virtualenv (requirements-dev.txt), whether or not it is activated.
    search_path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    py_spy = shutil.which("py-spy", path=search_path)
    missing = [
        tool for tool, found in (("py-spy", py_spy), *((t, shutil.which(t)) for t in ("hey", "curl"))) if not found
    ]
    if missing:
        print(
            f"profile: {' and '.join(missing)} not found (py-spy: requirements-dev.txt; Debian: hey curl)",
            file=sys.stderr,
        )
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="catalog-profile-"))
    try:
        with (
            seeded_database() as env,
            running_service(SERVICE_DIR, env, workdir / "service.log") as (service, base),
        ):
            for name, path in ENDPOINTS:
                hey_run(service.pid, base + path, args.rate, 2)
                raw = workdir / f"{name.replace(' ', '-')}.txt"
                command = [str(py_spy), "record", "--pid", str(service.pid), "--duration", str(args.seconds)]
                command += ["--rate", str(SAMPLE_RATE_HZ), "--format", "raw", "--output", str(raw)]
                spy = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                # py-spy attaches within a moment; the load outlasts its sampling window.
                time.sleep(1)
                hey_run(service.pid, base + path, args.rate, args.seconds)
                _, error = spy.communicate(timeout=args.seconds + 60)
                if spy.returncode != 0 or not raw.exists():
                    print(f"profile: py-spy failed: {error.decode(errors='replace').strip()[:300]}", file=sys.stderr)
                    return 1
                total, by_function, by_package = shares(raw.read_text().splitlines())
                print(
                    report(
                        f"{name} `GET {path}` at {args.rate:.0f} requests/s", total, by_function, by_package, args.top
                    )
                )
                print()
                if args.keep is not None:
                    args.keep.mkdir(parents=True, exist_ok=True)
                    shutil.copy(raw, args.keep / raw.name)
        return 0
    except pgserver.PostgresUnavailableError as exc:
        print(f"profile: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
