"""Check the environment file before anything slower: installs, the synth, AWS credentials.

    python scripts/check_environment.py --file    the file ENV names exists (the Makefile, while it is read)
    python scripts/check_environment.py           the whole configuration (make preflight, before credentials)

Prints one line naming what is wrong and exits 2. On success ``--file`` prints nothing;
the full check prints the arguments scripts/preflight.py needs to check the state
bucket (``--state-bucket NAME --state-bucket-region REGION``), or nothing for local state.

Standard library only with ``--file``, so it runs on the machine's python3 before
``make install`` has created .venv: a mistyped ``ENV`` is named in well under a second
instead of after minutes of installs and a question about AWS credentials.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.config import ConfigError, environment_file, load_config, show

# The state bucket name environments/prod.toml ships as an example. S3 bucket names are
# global: another account may own it, and a deploy must never write state there.
EXAMPLE_BUCKETS = frozenset({"example-org-catalog-api-tfstate"})


def problem(environ: Mapping[str, str], *, file_only: bool) -> tuple[str | None, list[str]]:
    """(one line saying what is wrong, or None; the preflight's state-bucket arguments)."""
    try:
        where = environment_file(environ)
        if file_only:
            return None, []
        config = load_config(environ)
    except ConfigError as error:
        return f"configuration error: {error}", []
    bucket = config.state.bucket
    if bucket is None:
        return None, []
    if bucket in EXAMPLE_BUCKETS:
        return (
            f"configuration error: {where}: state.bucket = {show(bucket)} is the example name the project ships, "
            "and S3 bucket names are global (another account may own it): put a name of your own there, "
            f"e.g. catalog-api-tfstate-{config.environment_suffix}-<your account id>, and run "
            f"`make bootstrap ENV={config.environment_name}` to create it"
        ), []
    return None, ["--state-bucket", bucket, "--state-bucket-region", config.state.bucket_region]


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    if list(argv) not in ([], ["--file"]):
        print("usage: check_environment.py [--file]", file=sys.stderr)
        return 2
    message, arguments = problem(environ, file_only=bool(argv))
    if message is not None:
        print(message, file=sys.stderr)
        return 2
    if arguments:
        print(" ".join(arguments))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
