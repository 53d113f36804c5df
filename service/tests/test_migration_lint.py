"""S-03: `make lint` refuses a migration that would lock products or break the running version.

The lint runs as `make lint` runs it (`python -m devtools.migration_lint`) for the real
migrations, and in-process for the examples; squawk is the one requirements-dev.txt pins
(never skipped: a missing squawk fails these tests).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools import migration_lint
from tests.helpers import SERVICE_DIR

EXAMPLES = Path(__file__).resolve().parent / "migration_examples"
REAL = "catalog_api/migrations/versions/0001_products.py"


def _lint(capsys: pytest.CaptureFixture[str], *folders: str) -> tuple[int, str]:
    code = migration_lint.main([arg for folder in folders for arg in ("--versions", str(EXAMPLES / folder))])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("folder", "file_name", "rule"),
    [
        ("required_column", "0003_add_weight_required.py", "adding-required-field"),
        ("blocking_index", "0003_index_name_blocking.py", "require-concurrent-index-creation"),
        ("dropped_column", "0003_drop_description.py", "ban-drop-column"),
        ("renamed_column", "0003_rename_name_to_title.py", "renaming-column"),
        (
            "concurrent_in_transaction",
            "0003_index_concurrently_in_transaction.py",
            "ban-concurrent-index-creation-in-transaction",
        ),
    ],
)
def test_s03_lint_refuses_an_unsafe_migration_by_its_file_name(
    capsys: pytest.CaptureFixture[str], folder: str, file_name: str, rule: str
) -> None:
    code, out = _lint(capsys, folder)
    assert code == 1, out
    path = f"tests/migration_examples/{folder}/{file_name}"
    assert f"{path}: REFUSED by squawk ({rule})" in out, out
    assert out.splitlines()[-1].startswith(f"migration lint: 1 of 3 migrations refused: {path} ")
    assert f"{REAL}: ok" in out


def test_s03_lint_passes_the_service_migrations() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "devtools.migration_lint"],
        cwd=SERVICE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{REAL}: ok" in result.stdout
    # The first revision's one allowance is printed, with its reason.
    assert f"{REAL} allows prefer-text-field (LINT_ALLOW): alembic_version" in result.stdout


def test_s03_lint_passes_an_expand_release_with_a_concurrent_index(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _lint(capsys, "expand")
    assert code == 0, out
    assert "tests/migration_examples/expand/0004_index_weight_concurrently.py: ok" in out


def test_s03_lint_lets_a_contract_step_allow_its_rule_with_a_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _lint(capsys, "contract")
    assert code == 0, out
    assert "0003_contract_drop_description.py allows ban-drop-column (LINT_ALLOW): no version since 1.4" in out
    text = (EXAMPLES / "contract" / "0003_contract_drop_description.py").read_text()
    (tmp_path / "0003_contract_without_reason.py").write_text(
        text.replace('"no version since 1.4 reads or writes products.description"', '" "')
    )
    assert migration_lint.main(["--versions", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "0003_contract_without_reason.py: REFUSED: its SQL cannot be rendered offline" not in out
    assert "0003_contract_without_reason.py: REFUSED" in out and "LINT_ALLOW must map each rule" in out


def test_s03_lint_without_squawk_stops_in_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    assert migration_lint.main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "make -C service install" in captured.err


def test_s03_squawk_is_the_pinned_version() -> None:
    pins = (SERVICE_DIR / "requirements-dev.txt").read_text().splitlines()
    assert "squawk-cli==2.70.0" in pins
    version = subprocess.run(
        [str(Path(sys.executable).parent / "squawk"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout.strip() == "squawk 2.70.0"
