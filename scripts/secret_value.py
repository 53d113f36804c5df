"""Store a new random value in a Secrets Manager secret without Terraform ever holding it.

Run by the app layer's apply (shared/components/generated_secret.py) from the project root,
with SECRET_ID (the secret's ARN), SECRET_LENGTH and AWS_REGION. Secrets Manager draws the
value (GetRandomPassword: letters and digits, every type included) and the same process hands
it to PutSecretValue on standard input, so it appears in no command line, log, plan or state.
Standard library only; the AWS CLI does the calls. A failure is one line and exit status 1.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.aws_cli import AwsCliError, aws


class SecretValueError(Exception):
    """One line for the person deploying."""


def _aws(argv: Sequence[str], *, stdin: str | None = None) -> str:
    try:
        return aws(argv, purpose="it stores the generated secret value", stdin=stdin)
    except AwsCliError as error:
        raise SecretValueError(str(error)) from None


def set_value(environ: Mapping[str, str]) -> str:
    """Generate and store a new value; return the new version id (never the value)."""
    missing = [name for name in ("SECRET_ID", "SECRET_LENGTH", "AWS_REGION") if not environ.get(name)]
    if missing:
        raise SecretValueError(f"{', '.join(missing)} not set: the app layer's apply sets them (make deploy-app)")
    length = environ["SECRET_LENGTH"]
    if not length.isdigit() or not 32 <= int(length) <= 4096:
        raise SecretValueError(f"SECRET_LENGTH={length!r} is not allowed: 32 to 4096")
    region = ["--region", environ["AWS_REGION"]]
    value = _aws(
        [
            "secretsmanager",
            "get-random-password",
            "--password-length",
            length,
            "--exclude-punctuation",
            "--no-include-space",
            "--require-each-included-type",
            "--query",
            "RandomPassword",
            "--output",
            "text",
            *region,
        ]
    ).strip()
    if len(value) != int(length):
        raise SecretValueError("GetRandomPassword answered with a value of the wrong length; nothing stored")
    version = _aws(
        [
            "secretsmanager",
            "put-secret-value",
            "--secret-id",
            environ["SECRET_ID"],
            # file:///dev/stdin: the AWS CLI reads the parameter from a file, here the pipe.
            "--secret-string",
            "file:///dev/stdin",
            "--query",
            "VersionId",
            "--output",
            "text",
            *region,
        ],
        stdin=value,
    ).strip()
    return version


def main(environ: Mapping[str, str]) -> int:
    try:
        version = set_value(environ)
    except SecretValueError as error:
        print(f"secret: {error}", file=sys.stderr)
        return 1
    print(f"secret: a new value is stored in {environ['SECRET_ID'].rsplit(':', 1)[-1]} (version {version})")
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ))
