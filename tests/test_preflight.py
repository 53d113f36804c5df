"""Deploy targets refuse in one line when terraform or AWS credentials are missing."""

from __future__ import annotations

from pathlib import Path

from scripts.preflight import problem


def _bin_with_terraform(tmp_path: Path) -> str:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    terraform = bin_dir / "terraform"
    terraform.write_text("#!/bin/sh\n")
    terraform.chmod(0o755)
    return str(bin_dir)


def test_missing_terraform_is_named(tmp_path: Path) -> None:
    message = problem({"PATH": str(tmp_path), "AWS_PROFILE": "x"}, tmp_path)
    assert message is not None and message.startswith("terraform is not on PATH")


def test_missing_credentials_are_named(tmp_path: Path) -> None:
    message = problem({"PATH": _bin_with_terraform(tmp_path)}, tmp_path)
    assert message is not None and message.startswith("no AWS credentials found")


def test_credentials_from_environment_or_files_pass(tmp_path: Path) -> None:
    path = _bin_with_terraform(tmp_path)
    assert problem({"PATH": path, "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"}, tmp_path) is None
    assert problem({"PATH": path, "AWS_ACCESS_KEY_ID": "a"}, tmp_path) is not None, "half a key pair is not enough"
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "credentials").write_text("[default]\n")
    assert problem({"PATH": path}, tmp_path) is None
