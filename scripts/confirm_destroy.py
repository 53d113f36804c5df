"""Refuse a destroy unless CONFIRM names the environment's suffix (P-07).

Runs before anything else of a destroy target (no synth, no Terraform), so a refused
destroy changes nothing. Prints one line and exits 2 when CONFIRM is missing or wrong.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.config import ConfigError, load_config


def problem(environ: Mapping[str, str], target: str) -> str | None:
    """Why ``target`` may not run, as one line, or None when CONFIRM matches."""
    try:
        suffix = load_config(environ).environment_suffix
    except ConfigError as error:
        return f"configuration error: {error}"
    confirm = environ.get("CONFIRM")
    if confirm is None:
        return f"{target} deletes the '{suffix}' environment's resources; run it again with CONFIRM={suffix}"
    if confirm != suffix:
        return f"CONFIRM={confirm!r} does not name this environment; {target} needs CONFIRM={suffix}"
    return None


def main(argv: list[str]) -> int:
    message = problem(os.environ, argv[0] if argv else "destroy")
    if message is not None:
        print(f"refused: {message}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
