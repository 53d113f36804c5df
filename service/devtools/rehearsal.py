"""`make sale-rehearsal`: a sale you can watch beforehand, on this machine.

Two service processes (standing for two tasks) against a throwaway PostgreSQL seeded with a
shop-like catalog, behind nginx's proxy cache (standing for CloudFront), which honours the
origin's Cache-Control as the edge does. A Python load generator ramps an open-loop request rate
in steps over a mix of list pages, popular and unpopular products, searches, a few stock
updates and a few links to products that no longer exist, and prints per step: offered and
achieved requests/s, the edge's hit ratio, requests/s that reached the origin (counted in the
services' own access logs), p50/p99 latency and errors; then draws the curves into a PNG.

A MODEL of the edge, not CloudFront: one cache on loopback instead of hundreds of edge
locations, no regional edge caches, no Origin Shield, no network between viewer, edge and origin,
and two processes on a shared 2-core machine instead of Fargate tasks and Aurora. The hit
ratio's shape (cold start, then rising with repeated URLs) carries over; absolute numbers do not.

Everything it starts (PostgreSQL, the services, nginx) stops on success, on failure and on
Ctrl-C, and its work directory is removed.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import pwd
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from devtools import pgserver, seed
from devtools.bench import cpu_seconds

NGINX_PACKAGE = "nginx-light"
REQUEST_TIMEOUT_S = 5.0
START_TIMEOUT_S = 60.0
# Served from the edge without a request to the origin at that moment. REVALIDATED asked the
# origin (answered 304), EXPIRED and MISS fetched from it, BYPASS and an empty status never looked.
CACHE_HITS = frozenset({"HIT", "STALE", "UPDATING"})
MODEL_NOTE = (
    "nginx's proxy cache stands in for CloudFront: ONE cache on loopback, not hundreds of edge locations; "
    "no regional edge caches, no Origin Shield, no network. Numbers are of this machine "
    f"({os.cpu_count()} cores shared by PostgreSQL, two service processes, nginx and the load generator), not Fargate."
)

# Share of each kind of request in the mix (sums to 1). During a sale most viewers open a few
# listing pages and the products on promotion; a few search, a few follow stale links, and the
# shop updates stock as things sell.
MIX = (
    ("product", 0.55),
    ("list", 0.27),
    ("search", 0.12),
    ("missing", 0.03),
    ("write", 0.03),
)
UNCACHEABLE_KINDS = frozenset({"missing", "write"})
"""Answers that carry `Cache-Control: no-store` (404s and writes): the edge must never serve them from cache."""


class PrerequisiteError(RuntimeError):
    """Something the rehearsal needs is not installed or did not start; the message says what."""


@dataclass
class Options:
    steps: int = 5
    step_seconds: float = 10.0
    start_rate: float = 40.0
    peak_rate: float = 240.0
    products: int = 5000
    max_in_flight: int = 64
    zipf_s: float = 1.1
    plot: Path = Path("sale-rehearsal.png")
    json_path: Path | None = None
    seed: int = 16

    def rates(self) -> list[float]:
        if self.steps == 1:
            return [self.peak_rate]
        return [self.start_rate + (self.peak_rate - self.start_rate) * i / (self.steps - 1) for i in range(self.steps)]


@dataclass
class StepResult:
    step: int
    offered_rps: float
    achieved_rps: float
    sent: int
    completed: int
    not_sent: int
    hits: int
    hit_ratio: float
    origin_requests: int
    origin_rps: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int]
    statuses: dict[str, int]
    cache_statuses: dict[str, int]
    uncacheable: int
    uncacheable_from_cache: int
    origin_cpu: float
    edge_cpu: float
    loadgen_cpu: float

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


@dataclass
class Outcome:
    kind: str
    status: int | None
    error: str | None
    cache_status: str
    latency_s: float


# --- the mix of URLs -------------------------------------------------------------------------


@dataclass
class Mix:
    """Draws requests as a sale's viewers would make them; every URL is in its canonical spelling
    (parameters in alphabetical order, each once, integers without leading zeros, `q` of 3+ characters)."""

    products: int
    zipf_s: float
    rng: random.Random
    _cumulative: list[float] = field(init=False, repr=False)
    _id_by_rank: list[int] = field(init=False, repr=False)
    _lists: list[str] = field(init=False, repr=False)
    _searches: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        total = 0.0
        self._cumulative = []
        for rank in range(1, self.products + 1):
            total += 1.0 / rank**self.zipf_s
            self._cumulative.append(total)
        # The best sellers are spread over the catalog, not the first ids inserted.
        self._id_by_rank = list(range(1, self.products + 1))
        self.rng.shuffle(self._id_by_rank)
        self._lists = ["/products", "/products?limit=48"]
        for category in seed.CATEGORIES:
            self._lists += [
                f"/products?category={category}",
                f"/products?category={category}&limit=48",
                f"/products?category={category}&max_price=50.00",
            ]
        words = list(seed.SEARCH_WORDS)
        self._searches = [f"/products?q={word}" for word in words]
        self._searches += [f"/products?category={c}&q={w}" for c in seed.CATEGORIES[:2] for w in words[:4]]

    def _skewed(self, items: list[str]) -> str:
        # Lists and searches are skewed too: the sale's landing page far more than page filters.
        index = min(int(self.rng.paretovariate(1.2)) - 1, len(items) - 1)
        return items[index]

    def product_id(self) -> int:
        rank = bisect.bisect_left(self._cumulative, self.rng.random() * self._cumulative[-1])
        return self._id_by_rank[min(rank, self.products - 1)]

    def draw(self) -> tuple[str, str, str, bytes | None]:
        """(kind, method, path, JSON body or None)."""
        kind = self.rng.choices([k for k, _ in MIX], weights=[w for _, w in MIX])[0]
        if kind == "product":
            return kind, "GET", f"/products/{self.product_id()}", None
        if kind == "list":
            return kind, "GET", self._skewed(self._lists), None
        if kind == "search":
            return kind, "GET", self._skewed(self._searches), None
        if kind == "missing":
            return kind, "GET", f"/products/{self.products + 1 + self.rng.randrange(100_000)}", None
        body = json.dumps({"stock": self.rng.randrange(0, 500)}).encode()
        return kind, "PATCH", f"/products/{self.product_id()}", body


# --- processes -------------------------------------------------------------------------------


NGINX_FALLBACKS = ("/usr/sbin/nginx",)
"""Where Debian installs it: outside a non-root user's PATH."""


def find_nginx() -> str:
    found = shutil.which("nginx") or next((p for p in NGINX_FALLBACKS if os.access(p, os.X_OK)), None)
    if found is None:
        raise PrerequisiteError(
            f"nginx not installed: install Debian's package with `apt-get install -y {NGINX_PACKAGE}`"
        )
    return found


def nginx_config(workdir: Path, listen_port: int, origin_ports: list[int]) -> str:
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
    servers = "\n".join(f"        server 127.0.0.1:{port};" for port in origin_ports)
    temp = {name: workdir / "nginx" / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    return f"""# Generated by devtools/rehearsal.py: a model of the edge in front of two service processes.
{user}
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};

    # Round robin over the two processes, as the ALB spreads requests over tasks.
    upstream catalog {{
{servers}
        keepalive 32;
    }}

    # Only what the origin's Cache-Control allows is stored: no proxy_cache_valid, so nginx keeps
    # an answer for its max-age and never stores no-store answers (writes, errors, 404s).
    proxy_cache_path {workdir}/cache levels=1:2 keys_zone=edge:10m max_size=256m inactive=10m use_temp_path=off;

    server {{
        listen 127.0.0.1:{listen_port};
        location / {{
            proxy_pass http://catalog;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;

            proxy_cache edge;
            # CloudFront's key for /products*: the path and the whole query string.
            proxy_cache_key $request_uri;
            # An expired answer is refreshed with If-None-Match; the origin's 304 costs no body.
            proxy_cache_revalidate on;
            # Concurrent misses on one key wait for the first fetch, as CloudFront collapses them.
            proxy_cache_lock on;
            proxy_cache_lock_timeout 5s;
            # The origin's stale-while-revalidate (and stale-if-error, when it sends it) decide how
            # long a stale answer may be served: nginx honours both extensions of Cache-Control.
            # proxy_cache_use_stale is left unset on purpose: its "updating" and "error" would
            # serve stale answers for unbounded time, beyond what the origin allows.
            proxy_cache_background_update on;
            add_header X-Cache-Status $upstream_cache_status always;
        }}
    }}
}}
"""


@dataclass
class Stack:
    """Everything the rehearsal started, stopped in reverse order by `stop()`."""

    workdir: Path
    db: pgserver.PostgresServer | None = None
    services: list[subprocess.Popen[bytes]] = field(default_factory=list)
    service_ports: list[int] = field(default_factory=list)
    nginx: subprocess.Popen[bytes] | None = None
    edge_port: int = 0
    admin_token: str = ""

    def service_logs(self) -> list[Path]:
        return [self.workdir / f"service-{i}.log" for i in range(len(self.services))]

    def stop(self) -> None:
        for process in ([self.nginx] if self.nginx else []) + self.services:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in ([self.nginx] if self.nginx else []) + self.services:
            try:
                process.wait(timeout=40)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self.db is not None:
            self.db.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def _wait_for_health(port: int, processes: list[subprocess.Popen[bytes]], what: str) -> None:
    import http.client

    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise PrerequisiteError(f"{what} exited with {process.returncode} while starting")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise PrerequisiteError(f"{what} did not answer /health on port {port} within {START_TIMEOUT_S:.0f} s")


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block ends: pgserver.start() has no handle to stop a
    half-started cluster with, so an interrupt inside it would leave a server running."""
    received: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    for sig in previous:
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if received:
        raise KeyboardInterrupt


def start_stack(stack: Stack, options: Options, nginx: str) -> None:
    try:
        with _interrupts_deferred():
            stack.db = pgserver.start()
    except pgserver.PostgresUnavailableError as exc:
        raise PrerequisiteError(str(exc)) from exc
    stack.admin_token = secrets.token_urlsafe(24)
    env = {**stack.db.env(), "LOG_LEVEL": "info", "ADMIN_TOKEN": stack.admin_token}
    settings = load_settings(env)
    migrate.upgrade(settings, build_credentials(settings))
    seed.seed_catalog(stack.db.conninfo(), options.products, seed=options.seed)

    for index in range(2):
        port = pgserver.free_port()
        with (stack.workdir / f"service-{index}.log").open("wb") as log:
            stack.services.append(
                subprocess.Popen(
                    [sys.executable, "-m", "catalog_api", "serve"],
                    env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env, "PORT": str(port)},
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    # Own sessions: the terminal's Ctrl-C reaches only the rehearsal, which stops them in order.
                    start_new_session=True,
                )
            )
        stack.service_ports.append(port)
    for port, process in zip(stack.service_ports, stack.services, strict=True):
        _wait_for_health(port, [process], f"the service on port {port}")

    stack.edge_port = pgserver.free_port()
    for name in ("cache", "nginx/body", "nginx/proxy", "nginx/fastcgi", "nginx/uwsgi", "nginx/scgi"):
        (stack.workdir / name).mkdir(parents=True)
    config = stack.workdir / "nginx.conf"
    config.write_text(nginx_config(stack.workdir, stack.edge_port, stack.service_ports))
    error_log = stack.workdir / "nginx-error.log"
    with error_log.open("ab") as output:
        stack.nginx = subprocess.Popen(
            # -e: nginx opens its compiled-in error log before it reads the configuration; use this one.
            [nginx, "-p", str(stack.workdir), "-c", str(config), "-e", str(error_log), "-g", "daemon off;"],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for_health(stack.edge_port, [stack.nginx], "nginx")
    except PrerequisiteError:
        last = error_log.read_text(errors="replace").strip().splitlines()[-1:]
        raise PrerequisiteError(f"nginx did not start: {' '.join(last) or 'no error logged'}") from None


# --- load ------------------------------------------------------------------------------------


class OriginCounter:
    """Requests that reached the origin, read from the services' access logs (one JSON line each)."""

    def __init__(self, logs: list[Path]) -> None:
        self._logs = logs
        self._offsets = [0 for _ in logs]

    def new_requests(self) -> list[int]:
        counts = []
        for index, log in enumerate(self._logs):
            with log.open("rb") as handle:
                handle.seek(self._offsets[index])
                data = handle.read()
            # Only whole lines: a line being written is counted next time.
            complete = data[: data.rfind(b"\n") + 1]
            self._offsets[index] += len(complete)
            count = 0
            for line in complete.splitlines():
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if entry.get("logger") == "catalog_api.access":
                    count += 1
            counts.append(count)
        return counts


def _cpu_seconds(pid: int) -> float:
    # A process that has already exited (an nginx worker replaced, say) counts as spending nothing.
    try:
        return cpu_seconds(pid)
    except OSError:
        return 0.0


def _with_children(pid: int) -> list[int]:
    # nginx's worker does the proxying; its master only watches it.
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


@dataclass
class CpuMeter:
    """CPU shares (1.0 = one core) of the origin, the edge and the load generator over a step: which one is the limit."""

    origin_pids: list[int]
    edge_pids: list[int]
    _start: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)

    def _now(self) -> tuple[float, float, float, float]:
        return (
            time.monotonic(),
            sum(map(_cpu_seconds, self.origin_pids)),
            sum(map(_cpu_seconds, self.edge_pids)),
            time.process_time(),
        )

    def start(self) -> None:
        self._start = self._now()

    def shares(self) -> tuple[float, float, float]:
        end = self._now()
        wall = max(end[0] - self._start[0], 1e-9)
        return (end[1] - self._start[1]) / wall, (end[2] - self._start[2]) / wall, (end[3] - self._start[3]) / wall


def _percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return math.nan
    index = min(len(sorted_values) - 1, max(0, math.ceil(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def _one(client: Any, kind: str, method: str, path: str, body: bytes | None, token: str) -> Outcome:
    import httpx2

    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"} if body is not None else {}
    started = time.perf_counter()
    try:
        response = await client.request(method, path, content=body, headers=headers)
    except httpx2.TimeoutException:
        return Outcome(kind, None, "timeout", "", time.perf_counter() - started)
    except httpx2.TransportError as exc:
        return Outcome(kind, None, type(exc).__name__, "", time.perf_counter() - started)
    return Outcome(
        kind, response.status_code, None, response.headers.get("x-cache-status", ""), time.perf_counter() - started
    )


def _is_error(outcome: Outcome) -> str | None:
    if outcome.error is not None:
        return outcome.error
    assert outcome.status is not None
    expected = 404 if outcome.kind == "missing" else 200
    return None if outcome.status in (expected, 304) else str(outcome.status)


async def run_step(
    client: Any, mix: Mix, rate: float, seconds: float, max_in_flight: int, token: str
) -> tuple[list[Outcome], int, float]:
    """Open loop: requests leave on a fixed schedule whether or not earlier ones have answered, as
    viewers do; one that would exceed max_in_flight is not sent and counted. Returns the outcomes,
    the count not sent and the wall time until the last answer."""
    tasks: list[asyncio.Task[Outcome]] = []
    in_flight = 0
    not_sent = 0

    async def tracked(kind: str, method: str, path: str, body: bytes | None) -> Outcome:
        nonlocal in_flight
        try:
            return await _one(client, kind, method, path, body, token)
        finally:
            in_flight -= 1

    total = max(1, round(rate * seconds))
    started = time.perf_counter()
    for n in range(total):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if in_flight >= max_in_flight:
            not_sent += 1
            continue
        in_flight += 1
        tasks.append(asyncio.create_task(tracked(*mix.draw())))
    outcomes = list(await asyncio.gather(*tasks))
    return outcomes, not_sent, max(time.perf_counter() - started, seconds)


def summarize(
    index: int,
    rate: float,
    outcomes: list[Outcome],
    not_sent: int,
    wall_s: float,
    origin: int,
    cpu: tuple[float, float, float],
) -> StepResult:
    latencies = sorted(o.latency_s * 1000 for o in outcomes)
    answered = [o for o in outcomes if o.status is not None]
    hits = sum(1 for o in answered if o.cache_status in CACHE_HITS)
    errors = Counter(e for o in outcomes if (e := _is_error(o)) is not None)
    uncacheable = [o for o in answered if o.kind in UNCACHEABLE_KINDS]
    return StepResult(
        step=index + 1,
        offered_rps=rate,
        achieved_rps=len(answered) / wall_s,
        sent=len(outcomes),
        completed=len(answered),
        not_sent=not_sent,
        hits=hits,
        hit_ratio=hits / len(answered) if answered else 0.0,
        origin_requests=origin,
        origin_rps=origin / wall_s,
        p50_ms=_percentile(latencies, 0.50),
        p99_ms=_percentile(latencies, 0.99),
        errors=dict(errors),
        statuses=dict(Counter(str(o.status) for o in answered)),
        cache_statuses=dict(Counter(o.cache_status or "-" for o in answered)),
        uncacheable=len(uncacheable),
        uncacheable_from_cache=sum(1 for o in uncacheable if o.cache_status in CACHE_HITS),
        origin_cpu=cpu[0],
        edge_cpu=cpu[1],
        loadgen_cpu=cpu[2],
    )


HEADER = (
    "| step | offered/s | achieved/s | edge hit ratio | origin/s | p50 ms | p99 ms | CPU origin / edge / load | errors |",
    "|---:|---:|---:|---:|---:|---:|---:|---:|---|",
)


def row(result: StepResult) -> str:
    errors = ", ".join(f"{name}×{count}" for name, count in sorted(result.errors.items())) or "0"
    if result.not_sent:
        errors += f" (+{result.not_sent} not sent: client at its in-flight limit)"
    return (
        f"| {result.step} | {result.offered_rps:.0f} | {result.achieved_rps:.0f} | {result.hit_ratio:.0%} |"
        f" {result.origin_rps:.0f} | {result.p50_ms:.1f} | {result.p99_ms:.1f} |"
        f" {result.origin_cpu:.0%} / {result.edge_cpu:.0%} / {result.loadgen_cpu:.0%} | {errors} |"
    )


async def ramp(stack: Stack, options: Options, origin_by_process: list[int]) -> list[StepResult]:
    import httpx2

    mix = Mix(options.products, options.zipf_s, random.Random(options.seed))
    counter = OriginCounter(stack.service_logs())
    counter.new_requests()  # the start-up probes are not the sale's
    assert stack.nginx is not None
    meter = CpuMeter([process.pid for process in stack.services], _with_children(stack.nginx.pid))
    results: list[StepResult] = []
    limits = httpx2.Limits(max_connections=options.max_in_flight, max_keepalive_connections=options.max_in_flight)
    async with httpx2.AsyncClient(
        base_url=f"http://127.0.0.1:{stack.edge_port}", timeout=REQUEST_TIMEOUT_S, limits=limits
    ) as client:
        for index, rate in enumerate(options.rates()):
            meter.start()
            outcomes, not_sent, wall_s = await run_step(
                client, mix, rate, options.step_seconds, options.max_in_flight, stack.admin_token
            )
            cpu = meter.shares()
            origin = counter.new_requests()
            origin_by_process[:] = [a + b for a, b in zip(origin_by_process, origin, strict=True)]
            result = summarize(index, rate, outcomes, not_sent, wall_s, sum(origin), cpu)
            results.append(result)
            print(row(result), flush=True)
    return results


# --- the plot --------------------------------------------------------------------------------


def plot(results: list[StepResult], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offered = [r.offered_rps for r in results]
    fig, axes = plt.subplots(2, 2, figsize=(11, 7.5), constrained_layout=True)
    fig.suptitle(title, fontsize=10)
    rps, hit, latency, errors = axes[0][0], axes[0][1], axes[1][0], axes[1][1]
    rps.plot(offered, [r.achieved_rps for r in results], "o-", label="answered by the edge")
    rps.plot(offered, [r.origin_rps for r in results], "s-", label="reached the origin")
    rps.plot(offered, offered, ":", color="grey", label="offered")
    rps.set(title="Requests/s", xlabel="offered requests/s", ylabel="requests/s")
    rps.legend()
    hit.plot(offered, [100 * r.hit_ratio for r in results], "o-", color="tab:green")
    hit.set(title="Edge hit ratio", xlabel="offered requests/s", ylabel="% served from cache", ylim=(0, 100))
    latency.plot(offered, [r.p50_ms for r in results], "o-", label="p50")
    latency.plot(offered, [r.p99_ms for r in results], "s-", label="p99")
    latency.set(title="Latency seen by viewers", xlabel="offered requests/s", ylabel="ms")
    latency.legend()
    errors.bar([str(round(o)) for o in offered], [r.error_count + r.not_sent for r in results], color="tab:red")
    errors.set(title="Errors and requests not sent", xlabel="offered requests/s", ylabel="count per step")
    errors.set_ylim(bottom=0, top=max([5] + [r.error_count + r.not_sent for r in results]) * 1.2)
    for axis in (rps, hit, latency, errors):
        axis.grid(alpha=0.3)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str]) -> Options:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="sale-rehearsal", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--steps", type=int, default=defaults.steps, help="load steps (default %(default)s)")
    parser.add_argument("--step-seconds", type=float, default=defaults.step_seconds, help="seconds per step")
    parser.add_argument("--start-rate", type=float, default=defaults.start_rate, help="requests/s of the first step")
    parser.add_argument("--peak-rate", type=float, default=defaults.peak_rate, help="requests/s of the last step")
    parser.add_argument("--products", type=int, default=defaults.products, help="products in the catalog")
    parser.add_argument("--max-in-flight", type=int, default=defaults.max_in_flight, help="client's concurrency cap")
    parser.add_argument("--plot", type=Path, default=defaults.plot, help="PNG to write (default %(default)s)")
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the per-step results as JSON")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="random seed of the catalog and the mix")
    args = parser.parse_args(argv)
    options = Options(**vars(args))
    if not (1 <= options.steps <= 20 and 1 <= options.step_seconds <= 120):
        parser.error("--steps must be 1-20 and --step-seconds 1-120 (the rehearsal is bounded)")
    if not (0 < options.start_rate <= options.peak_rate <= 5000):
        parser.error("rates must satisfy 0 < --start-rate <= --peak-rate <= 5000")
    if not (10 <= options.products <= 200_000):
        parser.error("--products must be 10-200000")
    if not options.plot.resolve().parent.is_dir():
        parser.error(f"--plot: no directory {options.plot.resolve().parent}")
    return options


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    # SIGTERM takes the same way out as Ctrl-C: through every finally, so nothing is left running.
    raise KeyboardInterrupt


def _postgres_pid(db: pgserver.PostgresServer) -> int:
    return int((db.datadir / "postmaster.pid").read_text().split("\n", 1)[0])


def main(argv: list[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        nginx = find_nginx()
        pgserver.find_bindir()
    except (PrerequisiteError, pgserver.PostgresUnavailableError) as exc:
        print(f"sale-rehearsal: {exc}", file=sys.stderr)
        return 1
    try:
        import httpx2  # noqa: F401
        import matplotlib  # noqa: F401
    except ImportError as exc:
        print(f"sale-rehearsal: {exc.name} not installed: run `make -C service install`", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _interrupt)
    stack = Stack(Path(tempfile.mkdtemp(prefix="catalog-rehearsal-")))
    origin_by_process = [0, 0]
    results: list[StepResult] = []
    started = time.monotonic()
    try:
        start_stack(stack, options, nginx)
        assert stack.db is not None and stack.nginx is not None
        print(f"sale-rehearsal: {MODEL_NOTE}")
        print(
            f"sale-rehearsal: PostgreSQL (throwaway, pid {_postgres_pid(stack.db)}, port {stack.db.port}, files in {stack.db.root},"
            f" {options.products} products); services pids {' '.join(str(p.pid) for p in stack.services)}"
            f" on ports {' '.join(map(str, stack.service_ports))}; nginx pid {stack.nginx.pid} on port {stack.edge_port};"
            f" work files in {stack.workdir}"
        )
        print(
            f"sale-rehearsal: {options.steps} steps of {options.step_seconds:g} s, {options.start_rate:g} to"
            f" {options.peak_rate:g} requests/s offered (open loop, at most {options.max_in_flight} in flight),"
            f" cold cache at the start\n",
            flush=True,
        )
        print("\n".join(HEADER), flush=True)
        results = asyncio.run(ramp(stack, options, origin_by_process))
    except PrerequisiteError as exc:
        print(f"sale-rehearsal: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nsale-rehearsal: interrupted", file=sys.stderr)
        return 130
    finally:
        # A second Ctrl-C must not leave half of the children running.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        print("sale-rehearsal: stopped nginx, both services and PostgreSQL; work files removed", flush=True)

    edge = sum(r.completed for r in results)
    uncacheable = sum(r.uncacheable for r in results)
    print(
        f"\nedge answered {edge} requests, the origin saw {sum(origin_by_process)}"
        f" ({origin_by_process[0]} and {origin_by_process[1]} on the two processes);"
        f" writes and 404s served from cache: {sum(r.uncacheable_from_cache for r in results)} of {uncacheable}"
        f" (they are no-store); {time.monotonic() - started:.0f} s in all"
    )
    print(
        "hit ratio: answers the edge gave from its cache (HIT, STALE, UPDATING) among all it gave;"
        " origin/s: requests in the services' access logs (misses, revalidations, background refreshes, writes);"
        " CPU: both service processes / nginx / the load generator, 100 % = one core (the load generator near"
        " 100 % or requests not sent: the limit is the client, not the service)"
    )
    title = f"Sale rehearsal: nginx as a MODEL of the edge (not CloudFront), 2 service processes, this machine ({os.cpu_count()} cores)"
    plot(results, options.plot, title)
    print(f"plot: {options.plot.resolve()}")
    if options.json_path is not None:
        options.json_path.write_text(
            json.dumps(
                {
                    "steps": [asdict(r) for r in results],
                    "edge_requests": edge,
                    "origin_requests": sum(origin_by_process),
                    "origin_by_process": origin_by_process,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
