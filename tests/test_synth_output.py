"""What `make synth` (``python main.py``) leaves in its output folder, run as a user would.

The refusals cost well under a second each; the runs marked slow are real synths in a
subprocess (a few seconds each), kept to the cases only a real process can show:
signals, two processes at once, and which node jsii starts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import main
from tests.synth import ROOT

STACKS = ["app", "data", "edge", "network"]
CONFIG_VARIABLES = {
    "ENVIRONMENT_SUFFIX",
    "AWS_REGION",
    "STATE_BUCKET",
    "STATE_BUCKET_REGION",
    "STATE_LOCK_TABLE",
    "CONTAINER_IMAGE",
    "NAT_GATEWAYS",
    "ALARM_EMAIL",
    "WAF_ENABLED",
    "CDKTF_OUTDIR",
    "JSII_NODE",
}


def _env(**overrides: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES} | overrides


def _previous_output(folder: Path) -> None:
    """A previous synth's output whose app stack has been initialised by Terraform."""
    manifest = {"stacks": {"app": {"synthesizedStackPath": "stacks/app/cdk.tf.json"}}}
    (folder / "stacks" / "app" / ".terraform" / "providers").mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    (folder / "stacks" / "app" / "cdk.tf.json").write_text('{"previous": true}')
    (folder / "stacks" / "app" / ".terraform" / "providers" / "aws").write_text("provider binary")
    (folder / "stacks" / "app" / ".terraform.lock.hcl").write_text("checksums")


def _complete_with_working_files(folder: Path) -> bool:
    manifest = json.loads((folder / "manifest.json").read_text())
    app = folder / "stacks" / "app"
    return (
        sorted(manifest["stacks"]) == STACKS
        and all(json.loads((folder / "stacks" / s / "cdk.tf.json").read_text()).get("resource") for s in STACKS)
        and (app / ".terraform" / "providers" / "aws").read_text() == "provider binary"
        and (app / ".terraform.lock.hcl").read_text() == "checksums"
    )


def _synth(cwd: Path, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_synth_swaps_in_the_new_output(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    _previous_output(outdir)
    (outdir / "stacks" / "old").mkdir()
    assert main.main({"CDKTF_OUTDIR": str(outdir)}) == 0
    assert sorted(p.name for p in (outdir / "stacks").iterdir()) == STACKS
    assert _complete_with_working_files(outdir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"], "no staging folder or lock file left"


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        ("", "CDKTF_OUTDIR is set but empty"),
        (".", "is the working directory"),
        ("..", "is a folder holding the working directory"),
        ("notes.txt", "is a file, not a folder"),
        ("docs", "is a folder with other content (guide.md), not a cdktf output"),
        ("notes.txt/cdktf.out", "notes.txt is a file, not a folder"),
        ("/proc/catalog/cdktf.out", "cannot write CDKTF_OUTDIR=/proc/catalog/cdktf.out"),
    ],
    ids=["empty", "dot", "parent", "file", "foreign-folder", "under-a-file", "unwritable"],
)
def test_a_dangerous_output_folder_is_refused_in_one_line_and_nothing_is_touched(
    tmp_path: Path, setting: str, expected: str
) -> None:
    # Tried as a careless user would: the working directory stands in for a project
    # with sources and history, so a regression could only ever empty tmp_path.
    project = tmp_path / "project"
    (project / ".git").mkdir(parents=True)
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / "docs").mkdir()
    (project / "docs" / "guide.md").write_text("# guide")
    (project / "notes.txt").write_text("notes")
    before = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*"))
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py")],
        cwd=project,
        env=_env(CDKTF_OUTDIR=setting),
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 2, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("output error: ") and expected in lines[0], result.stderr
    assert result.stdout == ""
    assert elapsed < 2.0, f"refused after {elapsed:.2f} s"
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == before


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_synth_leaves_the_previous_output_and_no_staging(tmp_path: Path, signum: int, code: int) -> None:
    outdir = tmp_path / "cdktf.out"
    _previous_output(outdir)
    before = {str(p.relative_to(outdir)): p.read_bytes() for p in outdir.rglob("*") if p.is_file()}
    temp = tmp_path / "tmp"
    temp.mkdir()
    process = _synth(tmp_path, _env(CDKTF_OUTDIR=str(outdir), TMPDIR=str(temp)))
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".cdktf.out.staging-*")):
        assert process.poll() is None and time.monotonic() < deadline, "the synth never started writing"
        time.sleep(0.005)
    # Ctrl-C in a terminal signals the whole process group, jsii's node process included;
    # SIGTERM (a CI runner cancelling) reaches only the Python process.
    if signum == signal.SIGINT:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == code, stderr
    assert stderr.splitlines() == [
        f"interrupted by {signal.Signals(signum).name}: no partial output was left; "
        "the output folder holds the last complete synth"
    ]
    time.sleep(0.5)  # anything still writing into a staging folder would have recreated it by now
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out", "tmp"]
    assert {str(p.relative_to(outdir)): p.read_bytes() for p in outdir.rglob("*") if p.is_file()} == before
    # jsii's node child may still be removing its folders a moment after the exit under load.
    deadline = time.monotonic() + 15
    while list(temp.iterdir()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert sorted(p.name for p in temp.iterdir()) == [], "jsii's runtime copy and kernel folders are removed"


@pytest.mark.slow
def test_two_synths_at_once_both_end_with_a_complete_output_and_the_working_files(tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    _previous_output(outdir)
    env = _env(CDKTF_OUTDIR=str(outdir))
    processes = [_synth(tmp_path, env), _synth(tmp_path, env)]
    results = [process.communicate(timeout=300) for process in processes]

    for process, (_, stderr) in zip(processes, results, strict=True):
        assert process.returncode == 0, stderr
        assert all(line.startswith("waiting for another synth (pid ") for line in stderr.splitlines()), stderr
    assert _complete_with_working_files(outdir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"]


@pytest.mark.slow
def test_python_main_uses_the_project_node_without_an_end_of_life_banner(tmp_path: Path) -> None:
    node = ROOT / "node_modules" / ".bin" / "node"
    if not os.access(node, os.X_OK):
        pytest.skip("node_modules is not installed (make install)")
    # The documented `python main.py`, outside make, on a PATH where the machine's node comes first.
    env = _env(CDKTF_OUTDIR=str(tmp_path / "out"), PATH=os.pathsep.join(("/usr/local/bin", "/usr/bin", "/bin")))
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "--bootstrap"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr and "b'" not in result.stderr, result.stderr
    assert result.stderr == ""
    assert (tmp_path / "out" / "stacks" / "bootstrap" / "cdk.tf.json").is_file()


def test_use_project_node_prefers_node_modules_and_respects_a_chosen_node(tmp_path: Path) -> None:
    node = tmp_path / "node_modules" / ".bin" / "node"
    environ = {"PATH": "/usr/bin"}
    main.use_project_node(environ, tmp_path)
    assert environ == {"PATH": "/usr/bin"}, "no node_modules: the machine's node, unchanged"

    node.parent.mkdir(parents=True)
    node.write_text("#!/bin/sh\n")
    node.chmod(0o755)
    main.use_project_node(environ, tmp_path)
    assert environ == {"PATH": f"{node.parent}:/usr/bin", "JSII_NODE": str(node)}

    chosen = {"PATH": "/usr/bin", "JSII_NODE": "/opt/node24/bin/node"}
    main.use_project_node(chosen, tmp_path)
    assert chosen == {"PATH": "/usr/bin", "JSII_NODE": "/opt/node24/bin/node"}


@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_prints_a_short_usage_and_writes_nothing(tmp_path: Path, flag: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), flag],
        cwd=tmp_path,
        env=_env(CDKTF_OUTDIR=str(tmp_path / "out")),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.startswith("usage: python main.py [--bootstrap]")
    assert "--bootstrap" in result.stdout and "ENV" in result.stdout
    assert len(result.stdout.splitlines()) <= 15, "short"
    assert list(tmp_path.iterdir()) == [], "nothing synthesized"


@pytest.mark.slow
def test_a_test_session_leaves_nothing_in_the_temporary_directory(tmp_path: Path) -> None:
    # A session that synthesizes (the shared fixture: jsii's runtime copy, its node kernel,
    # cdktf.Testing.app()'s outdir) and runs main.py in a subprocess.
    temp = tmp_path / "tmp"
    temp.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'base'}",
            "tests/test_network.py",
            "tests/test_synth_output.py::test_synth_swaps_in_the_new_output",
        ],
        cwd=ROOT,
        env=_env(TMPDIR=str(temp)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in temp.iterdir()) == []
