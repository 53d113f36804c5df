"""What `make` installs, when, and what it says while it does (tried as a new user would, with make -n)."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from tests.synth import ROOT

# Each dependency file and the install it triggers (what the install line names).
INSTALLS = {
    "requirements-dev.txt": "installing .venv:",
    "package.json": "installing node_modules:",
    "requirements-preflight.txt": "installing .preflight-venv:",
    "requirements-scan.txt": "installing .checkov-venv:",
    "requirements-lint.txt": "installing actionlint, shellcheck and zizmor",
}


def _dry_run(target: str, *newer: str) -> str:
    """``make -n target`` as if the files ``newer`` had just changed (nothing is run or installed)."""
    environ = {k: v for k, v in os.environ.items() if k not in {"ENV", "CONFIRM", "MAKEFLAGS", "MAKELEVEL"}}
    what_if = [argument for name in newer for argument in ("-W", name)]
    result = subprocess.run(
        ["make", "-n", "--no-print-directory", *what_if, target],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _installs(output: str) -> set[str]:
    return {
        name for name, line in INSTALLS.items() if any(row.startswith(f'echo "{line}') for row in output.splitlines())
    }


def test_every_install_rule_says_what_it_installs_its_size_and_how_long() -> None:
    text = (ROOT / "Makefile").read_text()
    rules = re.findall(r"^(\$\([A-Z_]+STAMP\)): [^\n]*\n\t([^\n]*)", text, re.MULTILINE)
    assert len(rules) == len(INSTALLS)
    for stamp, first_line in rules:
        assert re.fullmatch(r'@echo "installing [^"]+\(~\d+ MB, [^")]*minutes?\)"', first_line), (
            f"{stamp}: the first line says what, how big and how long: {first_line}"
        )


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("synth", {"requirements-dev.txt", "package.json"}),
        ("unit", {"requirements-dev.txt", "package.json"}),
        ("install", {"requirements-dev.txt", "package.json"}),
        ("lint-workflows", {"requirements-dev.txt", "requirements-lint.txt"}),
        ("preflight", {"requirements-dev.txt", "requirements-preflight.txt"}),
        ("scan", {"requirements-dev.txt", "package.json", "requirements-scan.txt"}),
    ],
)
def test_tools_are_installed_only_by_the_targets_that_use_them(target: str, expected: set[str]) -> None:
    assert _installs(_dry_run(target, *INSTALLS)) == expected


def test_make_test_says_what_each_phase_does() -> None:
    lines = [line for line in _dry_run("test").splitlines() if line.startswith('echo "== ')]
    assert [line.split("==")[1].split("(")[0].strip() for line in lines] == [
        "pytest over the synthesized Terraform JSON and the scripts",
        "checkov security scan of the synthesized stacks, offline",
        "the API service's tests against a throwaway PostgreSQL",
    ]
    assert all(re.search(r"\(about [^)]*minutes?\)\"$", line) for line in lines), lines


def test_the_service_install_says_what_it_installs() -> None:
    text = (ROOT / "service" / "Makefile").read_text()
    (first_line,) = re.findall(r"^\$\(STAMP\): [^\n]*\n\t([^\n]*)", text, re.MULTILINE)
    assert re.fullmatch(r'@echo "installing service/\.venv: [^"]+\(~\d+ MB, [^")]*minutes?\)"', first_line)


def test_s03_make_lint_runs_the_migration_lint() -> None:
    # The root make lint reaches the service's lint, which refuses unsafe migrations by file name.
    service = subprocess.run(
        ["make", "-n", "--no-print-directory", "-C", "service", "-W", ".venv/.installed", "lint"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert "-m devtools.migration_lint" in service
    assert "-C service lint" in _dry_run("lint")
