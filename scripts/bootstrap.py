"""Helpers of `make bootstrap`.

    python scripts/bootstrap.py check    refuse (exit 1) if this suffix is already bootstrapped
    python scripts/bootstrap.py exports  print the variables to export, from the bootstrap state

The bootstrap stack keeps local state at .state/<suffix>/bootstrap.tfstate, so both
answers come from that file without calling AWS.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.config import ConfigError, StateConfig, load_config  # noqa: E402 - after the path set-up

VARIABLES = ("STATE_BUCKET", "STATE_BUCKET_REGION", "STATE_LOCK_TABLE")


def state_file(suffix: str) -> Path:
    """Where the bootstrap stack's local state lives for ``suffix``."""
    return ROOT / StateConfig().local_dir / suffix / "bootstrap.tfstate"


def deployed_outputs(path: Path) -> Mapping[str, str] | None:
    """The bootstrap outputs if the state file records created resources, else None."""
    if not path.is_file():
        return None
    state = json.loads(path.read_text())
    if not state.get("resources"):
        return None
    return {name: str(output["value"]) for name, output in state.get("outputs", {}).items() if name in VARIABLES}


def export_lines(outputs: Mapping[str, str]) -> list[str]:
    return [f"export {name}={outputs[name]}" for name in VARIABLES if name in outputs]


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    if argv not in (["check"], ["exports"]):
        print("usage: bootstrap.py check|exports", file=sys.stderr)
        return 2
    try:
        config = load_config(environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    path = state_file(config.environment_suffix)
    outputs = deployed_outputs(path)
    if argv == ["check"]:
        if outputs is None:
            return 0
        print(
            f"bootstrap: already done for ENVIRONMENT_SUFFIX={config.environment_suffix} "
            f"(state {path.relative_to(ROOT)}); nothing created. Export:",
            file=sys.stderr,
        )
        print("\n".join(export_lines(outputs)), file=sys.stderr)
        return 1
    if outputs is None:
        print(f"bootstrap: no deployed bootstrap state at {path.relative_to(ROOT)}", file=sys.stderr)
        return 1
    print("# Remote state is ready. Export these before `make deploy`:")
    print("\n".join(export_lines(outputs)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
