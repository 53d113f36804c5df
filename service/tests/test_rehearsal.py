"""`make sale-rehearsal` (devtools.rehearsal): a very short run, asserted on what it reports.

It needs nginx (Debian's nginx-light). Without it the runs are skipped with the reason, unless
SALE_REHEARSAL_REQUIRED=1 (set in CI), which turns the skip into a failure. Every assertion is on
counts and ratios with wide margins, never on speed: the machine may be a loaded 2-core one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from devtools import rehearsal
from tests.helpers import SERVICE_DIR

REQUIRED = os.environ.get("SALE_REHEARSAL_REQUIRED") == "1"
STARTED = re.compile(
    r"PostgreSQL \(throwaway, pid (?P<pg_pid>\d+), port (?P<pg_port>\d+), files in (?P<pg_root>\S+),.*"
    r"services pids (?P<pids>\d+ \d+) on ports (?P<ports>\d+ \d+); nginx pid (?P<nginx_pid>\d+) on port"
    r" (?P<edge_port>\d+); work files in (?P<workdir>\S+)"
)


def _require_nginx() -> None:
    try:
        rehearsal.find_nginx()
    except rehearsal.PrerequisiteError as exc:
        if REQUIRED:
            pytest.fail(f"SALE_REHEARSAL_REQUIRED=1 but the rehearsal cannot run: {exc}", pytrace=False)
        pytest.skip(f"sale rehearsal NOT RUN: {exc}; SALE_REHEARSAL_REQUIRED=1 makes this a failure")


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    # A zombie has exited; only its parent (init, for the daemonised PostgreSQL) has not reaped it yet.
    return state != "Z"


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _assert_nothing_left(output: str) -> None:
    match = STARTED.search(output)
    assert match, output
    pids = [int(match["pg_pid"]), int(match["nginx_pid"]), *map(int, match["pids"].split())]
    ports = [int(match["pg_port"]), int(match["edge_port"]), *map(int, match["ports"].split())]
    # Exit is prompt once the run returns; the short wait only covers PostgreSQL's postmaster, which
    # pg_ctl stops and which init, not the rehearsal, reaps.
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [pid for pid in pids if _alive(pid)] == [], output
    assert [port for port in ports if _listening(port)] == [], output
    assert not Path(match["workdir"]).exists()
    assert not Path(match["pg_root"]).exists()
    assert "stopped nginx, both services and PostgreSQL; work files removed" in output


def _short_run(tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "devtools.rehearsal",
        "--products",
        "200",
        "--plot",
        str(tmp_path / "rehearsal.png"),
        "--json",
        str(tmp_path / "rehearsal.json"),
        *extra,
    ]


@pytest.mark.timeout(240)
def test_a_two_step_rehearsal_serves_repeats_from_the_edge_spares_the_origin_and_leaves_nothing_running(
    tmp_path: Path,
) -> None:
    _require_nginx()
    done = subprocess.run(
        _short_run(tmp_path, "--steps", "2", "--step-seconds", "3", "--start-rate", "30", "--peak-rate", "60"),
        cwd=SERVICE_DIR,
        capture_output=True,
        text=True,
        timeout=200,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    report = json.loads((tmp_path / "rehearsal.json").read_text())
    steps = report["steps"]
    assert len(steps) == 2

    # Repeated cacheable URLs (popular products, the landing pages) come from the cache.
    assert sum(step["hits"] for step in steps) > 0, output
    assert max(step["hit_ratio"] for step in steps) > 0.1, output
    # Only misses, refreshes and writes reach the origin: fewer requests than the edge answered.
    assert 0 < report["origin_requests"] < report["edge_requests"], output
    # Round robin: both processes served some of them.
    assert all(count > 0 for count in report["origin_by_process"]), report["origin_by_process"]

    # Writes and 404s are no-store: never an answer from the cache, and each one reached the origin.
    assert sum(step["uncacheable"] for step in steps) > 0
    assert sum(step["uncacheable_from_cache"] for step in steps) == 0, output

    # Every URL of the mix is one the service accepts: no 4xx but the deliberate 404s, whatever the load.
    unexpected = {code for step in steps for code in step["errors"] if code.startswith("4")}
    assert unexpected == set(), output

    # The table, the model's caveat and the plot, a real PNG at the printed path.
    assert output.count("\n| 1 | 30 |") == 1 and output.count("\n| 2 | 60 |") == 1, output
    assert "stands in for CloudFront" in output and "not Fargate" in output
    plot = tmp_path / "rehearsal.png"
    assert f"plot: {plot.resolve()}" in output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plot.stat().st_size > 10_000

    _assert_nothing_left(output)


@pytest.mark.timeout(240)
def test_ctrl_c_during_the_ramp_stops_nginx_both_services_and_postgresql_and_removes_the_work_files(
    tmp_path: Path,
) -> None:
    _require_nginx()
    process = subprocess.Popen(
        _short_run(tmp_path, "--steps", "3", "--step-seconds", "20", "--start-rate", "10", "--peak-rate", "20"),
        cwd=SERVICE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        for line in process.stdout:
            lines.append(line)
            if line.startswith("| step |"):
                break
        time.sleep(2)  # inside the first step, whatever the machine's speed: it lasts 20 s
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(lines) + rest
    assert process.returncode == 130, output
    assert "interrupted" in output
    assert not (tmp_path / "rehearsal.png").exists()
    _assert_nothing_left(output)


def test_without_nginx_it_names_the_debian_package_in_one_line_and_starts_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(rehearsal, "NGINX_FALLBACKS", ())
    # A temporary directory of its own: another run on the machine cannot make this pass or fail.
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))

    assert rehearsal.main(["--plot", str(tmp_path / "x.png")]) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "nginx not installed" in err and "apt-get install -y nginx-light" in err
    assert list(private.iterdir()) == []
    assert not (tmp_path / "x.png").exists()
