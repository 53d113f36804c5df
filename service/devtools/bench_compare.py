"""`make bench BENCH_FLAGS="--compare REV"`: requests per CPU-second of this tree against an older commit.

The machine is shared and noisy, so raw requests/s of two runs minutes apart say little. This
runs the service of REV (its `service/` directory taken with `git archive`) beside the working
tree's, against one throwaway PostgreSQL with one data set, and loads them in turn: for each
round and call, old then new (the order alternates per round), under two loads each:

- paced: the same rate for both (hey), a light load at which every request wakes the event
  loop on its own, so fixed per-request costs weigh most;
- saturation: a closed loop (wrk, 16 connections) that keeps the service busy, as a task near
  its CPU target is, and as a service is measured "on one CPU" when two are compared.

What is compared is the service process's CPU time (user + system, from /proc) per request,
so load from other work on the machine moves both columns alike. Both run on this virtualenv.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from devtools import pgserver, seed
from devtools.bench import ENDPOINTS, HEY_WORKERS, PRODUCTS, WRK_CONNECTIONS, cpu_seconds, wrk_latency_ms

SERVICE_DIR = Path(__file__).resolve().parent.parent
# Below what the old service carries at saturation on this machine, so both serve the same load.
DEFAULT_RATE = 300.0
DEFAULT_ROUNDS = 4
DEFAULT_SECONDS = 5
WARMUP_S = 2


@dataclass
class Sample:
    requests: int
    cpu_s: float
    p50_ms: float
    p99_ms: float
    errors: int

    @property
    def per_cpu_s(self) -> float:
        return self.requests / max(self.cpu_s, 1e-6)


@dataclass
class Samples:
    runs: list[Sample] = field(default_factory=list)

    def per_cpu_s(self) -> float:
        """Pooled: all requests of all rounds over all their CPU time."""
        return sum(s.requests for s in self.runs) / max(sum(s.cpu_s for s in self.runs), 1e-6)

    def p50_ms(self) -> float:
        return statistics.median(s.p50_ms for s in self.runs)

    def p99_ms(self) -> float:
        return statistics.median(s.p99_ms for s in self.runs)

    def errors(self) -> int:
        return sum(s.errors for s in self.runs)


def hey_run(pid: int, url: str, rate: float, seconds: int) -> Sample:
    per_worker = max(rate / HEY_WORKERS, 0.1)
    command = ["hey", "-z", f"{seconds}s", "-c", str(HEY_WORKERS), "-q", f"{per_worker:.2f}", url]
    before = cpu_seconds(pid)
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    cpu = cpu_seconds(pid) - before
    counts = {int(code): int(n) for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", output)}
    p50 = re.search(r"50%+ in ([\d.]+) secs", output)
    p99 = re.search(r"99%+ in ([\d.]+) secs", output)
    assert p50 and p99, output
    errors = sum(n for code, n in counts.items() if code != 200)
    errors += sum(int(n) for n in re.findall(r"^\s+\[(\d+)\]\s+Get ", output, re.M))
    return Sample(sum(counts.values()), cpu, float(p50.group(1)) * 1000, float(p99.group(1)) * 1000, errors)


def wrk_run(pid: int, url: str, seconds: int) -> Sample:
    """A closed-loop run: as many requests as the service answers, 16 at a time."""
    command = ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", url]
    before = cpu_seconds(pid)
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=seconds + 30).stdout
    cpu = cpu_seconds(pid) - before
    requests = re.search(r"(\d+) requests in", output)
    assert requests, output
    p50, p99, errors = wrk_latency_ms(output)
    return Sample(int(requests.group(1)), cpu, p50, p99, errors)


LOADS = ("paced", "saturation")


def export_service(rev: str, into: Path) -> Path:
    """REV's `service/` directory, unpacked under `into`."""
    into.mkdir(parents=True)
    archive = into / "service.tar"
    top = subprocess.run(
        ["git", "-C", str(SERVICE_DIR), "rev-parse", "--show-toplevel"], check=True, capture_output=True, text=True
    ).stdout.strip()
    subprocess.run(["git", "-C", top, "archive", "--format=tar", f"--output={archive}", rev, "service"], check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return into / "service"


@contextmanager
def seeded_database() -> Iterator[dict[str, str]]:
    """A throwaway PostgreSQL, migrated, with the bench's products; yields the service's environment
    (access log at info, as in production). Raises pgserver.PostgresUnavailableError."""
    db = pgserver.start()
    try:
        env = {**db.env(), "LOG_LEVEL": "info"}
        settings = load_settings({**env, "PORT": "3000"})
        migrate.upgrade(settings, build_credentials(settings))
        seed.seed_generated(db.conninfo(), PRODUCTS)
        yield env
    finally:
        db.stop()


@contextmanager
def running_service(source: Path, env: dict[str, str], log: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = pgserver.free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "catalog_api", "serve"],
            cwd=source,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(source), **env, "PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while subprocess.run(["curl", "-sf", "-o", "/dev/null", f"{base}/health"], check=False).returncode != 0:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the service in {source} did not start; see {log}")
            time.sleep(0.2)
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()


def same_answers(old_base: str, new_base: str) -> list[str]:
    """Calls whose status or body differ between the two services (the comparison is void if any do)."""
    differ = []
    for _, path in ENDPOINTS:
        answers = [
            subprocess.run(["curl", "-s", "-w", "\n%{http_code}", base + path], check=True, capture_output=True).stdout
            for base in (old_base, new_base)
        ]
        if answers[0] != answers[1]:
            differ.append(path)
    return differ


def report(
    rev: str,
    new_rev: str,
    rate: float,
    rounds: int,
    seconds: int,
    load: tuple[float, float],
    results: dict[tuple[str, str], dict[str, Samples]],
) -> str:
    lines = [
        f"Old: `{rev}`; new: `{new_rev}`. One uvicorn worker each, {PRODUCTS} products, loopback,"
        f" {os.cpu_count()} cores shared with PostgreSQL and the load tools; {rounds} rounds of {seconds} s per"
        f" call, load and service, old and new alternating; paced: {rate:.0f} requests/s for both (hey,"
        f" {HEY_WORKERS} workers); saturation: a closed loop (wrk, {WRK_CONNECTIONS} connections);"
        f" 1-minute load average {load[0]:.1f} before, {load[1]:.1f} after.",
        "",
        "| call | load | requests per CPU-second old | new | ratio | p50 ms old / new | p99 ms old / new |"
        " errors old / new |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, path in ENDPOINTS:
        for load_name in LOADS:
            old, new = results[(name, load_name)]["old"], results[(name, load_name)]["new"]
            what = f"paced, {rate:.0f}/s" if load_name == "paced" else "saturation"
            lines.append(
                f"| {name} `GET {path}` | {what} | {old.per_cpu_s():.0f} | {new.per_cpu_s():.0f} |"
                f" {new.per_cpu_s() / old.per_cpu_s():.2f}× | {old.p50_ms():.1f} / {new.p50_ms():.1f} |"
                f" {old.p99_ms():.1f} / {new.p99_ms():.1f} | {old.errors()} / {new.errors()} |"
            )
    return "\n".join(lines)


def compare(rev: str, *, new_rev: str | None = None, rate: float, rounds: int, seconds: int) -> int:
    missing = [tool for tool in ("hey", "wrk", "curl", "git") if shutil.which(tool) is None]
    if missing:
        print(
            f"bench: {' and '.join(missing)} not installed (Debian: apt-get install -y hey wrk curl git)",
            file=sys.stderr,
        )
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="catalog-compare-"))
    try:
        old_source = export_service(rev, workdir / "old")
        new_source = export_service(new_rev, workdir / "new") if new_rev is not None else SERVICE_DIR
        with (
            seeded_database() as env,
            running_service(old_source, env, workdir / "old.log") as (old, old_base),
            running_service(new_source, env, workdir / "new.log") as (new, new_base),
        ):
            differ = same_answers(old_base, new_base)
            if differ:
                print(f"bench: old and new answer differently on {', '.join(differ)}", file=sys.stderr)
                return 1
            for base in (old_base, new_base):
                for _, path in ENDPOINTS:
                    hey_run(old.pid if base == old_base else new.pid, base + path, rate, WARMUP_S)
            services = {"old": (old.pid, old_base), "new": (new.pid, new_base)}
            results = {(name, load): {"old": Samples(), "new": Samples()} for name, _ in ENDPOINTS for load in LOADS}
            load_before = os.getloadavg()[0]
            for round_no in range(rounds):
                order = ("old", "new") if round_no % 2 == 0 else ("new", "old")
                for name, path in ENDPOINTS:
                    for load in LOADS:
                        for which in order:
                            pid, base = services[which]
                            if load == "paced":
                                sample = hey_run(pid, base + path, rate, seconds)
                            else:
                                sample = wrk_run(pid, base + path, seconds)
                            results[(name, load)][which].runs.append(sample)
                            print(
                                f"round {round_no + 1} {name:9} {load:10} {which}: {sample.per_cpu_s:6.0f} req/CPU-s"
                                f"  p50 {sample.p50_ms:5.1f} ms  p99 {sample.p99_ms:6.1f} ms",
                                file=sys.stderr,
                            )
            print()
            load_after = (load_before, os.getloadavg()[0])
            print(report(rev, new_rev or "the working tree", rate, rounds, seconds, load_after, results))
        return 0
    except (subprocess.CalledProcessError, pgserver.PostgresUnavailableError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.bench_compare", description=__doc__)
    parser.add_argument("rev", help="the older commit (e.g. main, or a commit id)")
    parser.add_argument(
        "--rate", type=float, default=DEFAULT_RATE, help="paced requests/s for both (default %(default)s)"
    )
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS, help="default %(default)s")
    parser.add_argument("--seconds", type=int, default=DEFAULT_SECONDS, help="per run (default %(default)s)")
    parser.add_argument("--new", dest="new_rev", help="a newer commit instead of the working tree")
    args = parser.parse_args(argv)
    return compare(args.rev, new_rev=args.new_rev, rate=args.rate, rounds=args.rounds, seconds=args.seconds)


if __name__ == "__main__":
    sys.exit(main())
