"""Check, before any deploy or destroy, that Terraform and AWS credentials are present.

Prints one line naming what is missing and exits 1; prints nothing and exits 0 when
all is there. It does not call AWS: it only looks where the AWS SDKs look.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path

CREDENTIAL_VARIABLES = (
    ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ("AWS_PROFILE",),
    ("AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"),
    ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",),
    ("AWS_CONTAINER_CREDENTIALS_FULL_URI",),
)


def problem(environ: Mapping[str, str], home: Path) -> str | None:
    """The first missing prerequisite as one line, or None."""
    if shutil.which("terraform", path=environ.get("PATH")) is None:
        return "terraform is not on PATH: install Terraform 1.5 or later (https://developer.hashicorp.com/terraform/install)"
    if any(all(environ.get(name) for name in group) for group in CREDENTIAL_VARIABLES):
        return None
    if (home / ".aws" / "credentials").is_file() or (home / ".aws" / "config").is_file():
        return None
    return (
        "no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or run `aws configure`)"
    )


def main() -> int:
    message = problem(os.environ, Path.home())
    if message is not None:
        print(f"preflight: {message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
