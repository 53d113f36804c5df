"""The AWS CLI as the deploy path's scripts call it: one line on failure, stdin for values that must not be argv.

Standard library only; the scripts run before (or without) the project's virtualenvs. The CLI is
the one on PATH, as the deploying shell finds it (the same one make deploy and destroy use).
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence


class AwsCliError(Exception):
    """A failed or missing AWS CLI, in one line for a person."""


def aws(argv: Sequence[str], *, purpose: str, stdin: str | None = None, tolerate: str | None = None) -> str:
    """Run ``aws *argv`` and return its standard output.

    ``purpose`` says in the "not installed" line what the CLI was needed for; an error whose last
    line contains ``tolerate`` (e.g. a not-found fault a caller expects) returns "" instead.
    """
    try:
        done = subprocess.run(["aws", *argv], input=stdin, capture_output=True, text=True, check=False)  # noqa: S607
    except FileNotFoundError:
        raise AwsCliError(f"the aws CLI is not installed ({purpose})") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        last = lines[-1] if lines else str(done.returncode)
        if tolerate is not None and tolerate in last:
            return ""
        raise AwsCliError(f"aws {argv[0]} {argv[1]} failed: {last}")
    return done.stdout
