"""`make bench`: throughput and latency of ONE uvicorn worker (one 1-vCPU task) on loopback.

For a list call and a get-by-id call it measures:
- saturation: wrk, closed loop, as fast as the service answers;
- the autoscaling point: a paced load (hey, fixed requests per second per worker) at the rate
  where the service process uses about 70 % of one CPU, found in at most four runs.
Prints a markdown table. Every load run is bounded in time and targets 127.0.0.1 only.

`--compare REV [--rate R --rounds N --seconds S]` instead compares requests per CPU-second of
this tree with those of commit REV, both served at once (devtools/bench_compare.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from devtools import pgserver, seed

PRODUCTS = 1000
RUN_S = 8
WARMUP_S = 3
TARGET_CPU = 0.70
CPU_TOLERANCE = 0.06
MAX_PACED_RUNS = 4
WRK_CONNECTIONS = 16
HEY_WORKERS = 10
# Canonical URLs: the list at its default limit (20) is /products; ?limit=20 would answer 301.
ENDPOINTS = (("list", "/products"), ("get by id", "/products/500"))
_CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    cpu: float
    errors: int


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def _measured(pid: int, command: list[str]) -> tuple[str, float]:
    """Run a load command; return its output and the service's CPU share (1.0 = one core) meanwhile."""
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    output = subprocess.run(command, check=True, capture_output=True, text=True, timeout=RUN_S + 30).stdout
    cpu = (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)
    return output, cpu


def _ms(value: str, unit: str) -> float:
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0, "secs": 1000.0}[unit]
    return float(value) * scale


def wrk_latency_ms(output: str) -> tuple[float, float, int]:
    """p50 and p99 in ms, and the errors (non-2xx/3xx answers and socket errors), of a wrk --latency run."""
    p50 = re.search(r"^\s+50%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    count = int(errors.group(1)) if errors else 0
    if socket_errors:
        count += sum(int(g) for g in socket_errors.groups())
    assert p50 and p99, output
    return _ms(*p50.groups()), _ms(*p99.groups()), count


def wrk(pid: int, url: str) -> Result:
    output, cpu = _measured(pid, ["wrk", "-t1", f"-c{WRK_CONNECTIONS}", f"-d{RUN_S}s", "--latency", url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50, p99, count = wrk_latency_ms(output)
    return Result(rps, p50, p99, cpu, count)


def hey(pid: int, url: str, rate: float) -> Result:
    per_worker = max(rate / HEY_WORKERS, 0.1)
    output, cpu = _measured(pid, ["hey", "-z", f"{RUN_S}s", "-c", str(HEY_WORKERS), "-q", f"{per_worker:.2f}", url])
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%+ in ([\d.]+) secs", output)
    p99 = re.search(r"99%+ in ([\d.]+) secs", output)
    non_200 = sum(int(n) for code, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", output) if code != "200")
    assert p50 and p99, output
    return Result(rps, float(p50.group(1)) * 1000, float(p99.group(1)) * 1000, cpu, non_200)


def at_target_cpu(pid: int, url: str, saturated: Result) -> Result:
    """Paced runs, each aimed by the last one's requests per CPU-second, until CPU is within tolerance."""
    rate = saturated.rps * TARGET_CPU / max(saturated.cpu, 0.05)
    result = hey(pid, url, rate)
    for _ in range(MAX_PACED_RUNS - 1):
        if abs(result.cpu - TARGET_CPU) <= CPU_TOLERANCE:
            break
        rate = result.rps * TARGET_CPU / max(result.cpu, 0.05)
        result = hey(pid, url, rate)
    return result


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--compare"]:
        # Lazy: the comparison imports this module for its constants.
        from devtools import bench_compare

        return bench_compare.main(args[1:])
    missing = [tool for tool in ("wrk", "hey") if shutil.which(tool) is None]
    if missing:
        print(f"bench: {' and '.join(missing)} not installed (Debian: apt-get install -y wrk hey)", file=sys.stderr)
        return 1
    try:
        db = pgserver.start()
    except pgserver.PostgresUnavailableError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    workdir = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    service: subprocess.Popen[bytes] | None = None
    try:
        port = pgserver.free_port()
        # Production settings: access log at info, written to a file as the log driver would read it.
        env = {**db.env(), "PORT": str(port), "LOG_LEVEL": "info"}
        settings = load_settings(env)
        migrate.upgrade(settings, build_credentials(settings))
        seed.seed_generated(db.conninfo(), PRODUCTS)
        with (workdir / "service.log").open("wb") as log:
            service = subprocess.Popen(
                [sys.executable, "-m", "catalog_api", "serve"],
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while subprocess.run(["curl", "-sf", "-o", "/dev/null", f"{base}/health"], check=False).returncode != 0:
            if time.monotonic() > deadline or service.poll() is not None:
                print("bench: the service did not start", file=sys.stderr)
                return 1
            time.sleep(0.2)
        subprocess.run(["wrk", "-t1", "-c4", f"-d{WARMUP_S}s", f"{base}/products"], check=True, capture_output=True)

        load_before = os.getloadavg()[0]
        rows = []
        for name, path in ENDPOINTS:
            saturated = wrk(service.pid, base + path)
            paced = at_target_cpu(service.pid, base + path, saturated)
            rows.append((name, path, saturated, paced))

        print(
            f"\nOne uvicorn worker, {PRODUCTS} products, loopback, {os.cpu_count()} cores shared with PostgreSQL and the"
            f" load tool; {RUN_S} s per run; 1-minute load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after.\n"
        )
        print("| call | load | requests/s | p50 ms | p99 ms | service CPU | errors |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for name, path, saturated, paced in rows:
            print(
                f"| {name} `GET {path}` | saturation (wrk, {WRK_CONNECTIONS} connections) | {saturated.rps:.0f} |"
                f" {saturated.p50_ms:.1f} | {saturated.p99_ms:.1f} | {saturated.cpu:.0%} | {saturated.errors} |"
            )
            print(
                f"| {name} `GET {path}` | paced at ~70 % CPU (hey, {HEY_WORKERS} workers) | {paced.rps:.0f} |"
                f" {paced.p50_ms:.1f} | {paced.p99_ms:.1f} | {paced.cpu:.0%} | {paced.errors} |"
            )
        return 0
    finally:
        if service is not None and service.poll() is None:
            service.terminate()
            try:
                service.wait(timeout=40)
            except subprocess.TimeoutExpired:
                service.kill()
        db.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
