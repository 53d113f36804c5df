"""Refuse a destroy unless CONFIRM names the environment's suffix and nothing is protected (P-07).

Runs before anything else of a destroy target (no synth, no Terraform), so a refused
destroy changes nothing. Prints one line and exits 2 when deletion protection is on
or CONFIRM is missing or wrong.

Deletion protection is checked first: Terraform destroys the layers in reverse order,
so a protected environment would lose CloudFront and the ECS service before the ALB's
protection stopped the destroy, leaving a site that is down and half deleted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.config import OVERRIDES_VARIABLE, ConfigError, environment_file, load_config

PROTECTION_VARIABLE = "DELETION_PROTECTION"


def problem(environ: Mapping[str, str], target: str) -> str | None:
    """Why ``target`` may not run, as one line, or None when CONFIRM matches an unprotected environment."""
    try:
        config = load_config(environ)
        where = environment_file(environ)
    except ConfigError as error:
        return f"configuration error: {error}"
    suffix = config.environment_suffix
    if config.deletion_protection:
        redeploy = f"deploy (make deploy ENV={config.environment_name})"
        if PROTECTION_VARIABLE in config.overrides:
            return (
                f"{target} would delete part of the '{suffix}' environment before deletion protection stops it: "
                f"{PROTECTION_VARIABLE}=true (named in {OVERRIDES_VARIABLE}): set it to false and {redeploy} "
                "before destroying"
            )
        return (
            f"{target} would delete part of the '{suffix}' environment before deletion protection stops it: "
            f"[protection] deletion_protection = true in {where}: set it to false and {redeploy} before destroying"
        )
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
