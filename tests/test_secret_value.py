"""scripts/secret_value.py, the step that stores the admin token's value: real script, stand-in aws CLI."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.stand_in import path_first, stand_in

ROOT = Path(__file__).resolve().parents[1]
SECRET = "arn:aws:secretsmanager:eu-north-1:123456789012:secret:catalog-api-admin-token-dev-AbCdEf"
VALUE = "A1b2C3d4" * 6

FAKE_AWS = """#!/bin/sh
echo "$*" >> "$CALLS"
case "$2" in
  get-random-password) [ -n "$SHORT" ] && { echo "short"; exit 0; }; echo "$VALUE" ;;
  put-secret-value) [ -n "$DENIED" ] && { echo "An error occurred (AccessDeniedException) when calling the PutSecretValue operation: denied" >&2; exit 254; }
     cat > "$CALLS.stdin"; echo "version-2" ;;
esac
"""


def _run(tmp_path: Path, **env: str) -> tuple[int, str, str, list[str], str]:
    bin_dir = tmp_path / "bin"
    stand_in(bin_dir, "aws", FAKE_AWS)
    calls = tmp_path / "calls"
    environ = {
        "PATH": path_first(bin_dir),
        "CALLS": str(calls),
        "VALUE": VALUE,
        "SECRET_ID": SECRET,
        "SECRET_LENGTH": "48",
        "AWS_REGION": "eu-north-1",
        **env,
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "secret_value.py")], env=environ, capture_output=True, text=True
    )
    stdin = Path(f"{calls}.stdin")
    return (
        done.returncode,
        done.stdout,
        done.stderr,
        calls.read_text().splitlines() if calls.exists() else [],
        stdin.read_text() if stdin.exists() else "",
    )


def test_s06_the_value_goes_from_get_random_password_to_put_secret_value_on_stdin_only(tmp_path: Path) -> None:
    code, out, err, calls, stdin = _run(tmp_path)
    assert (code, err) == (0, "")
    assert calls[0].startswith("secretsmanager get-random-password --password-length 48 --exclude-punctuation")
    assert calls[1].startswith(
        f"secretsmanager put-secret-value --secret-id {SECRET} --secret-string file:///dev/stdin"
    )
    assert stdin == VALUE, "the value reaches PutSecretValue on standard input"
    assert VALUE not in "".join(calls) and VALUE not in out, "never on a command line or in the output"
    assert out == "secret: a new value is stored in catalog-api-admin-token-dev-AbCdEf (version version-2)\n"


def test_s06_a_value_of_the_wrong_length_is_never_stored(tmp_path: Path) -> None:
    code, _, err, calls, _ = _run(tmp_path, SHORT="1")
    assert code == 1 and len(calls) == 1
    assert err == "secret: GetRandomPassword answered with a value of the wrong length; nothing stored\n"


def test_s06_a_refused_put_is_one_line_without_the_value(tmp_path: Path) -> None:
    code, _, err, _, _ = _run(tmp_path, DENIED="1")
    assert code == 1 and VALUE not in err
    assert err.startswith(
        "secret: aws secretsmanager put-secret-value failed: An error occurred (AccessDeniedException)"
    )
    assert err.count("\n") == 1


def test_s06_run_by_hand_it_names_what_is_missing(tmp_path: Path) -> None:
    code, _, err, calls, _ = _run(tmp_path, SECRET_ID="", SECRET_LENGTH="8")
    assert (code, calls) == (1, [])
    assert err == "secret: SECRET_ID not set: the app layer's apply sets them (make deploy-app)\n"
