"""Helpers of `make bootstrap`.

    python scripts/bootstrap.py check     validate what bootstrap needs; say whether this is a first run or an update
    python scripts/bootstrap.py settings  print the environment-file keys and CI variables, from the bootstrap state

The bootstrap stack keeps local state at .state/<suffix>/bootstrap.tfstate, so both
answers come from that file without calling AWS. Running bootstrap again is an
in-place update (for example to add the GitHub deploy roles later).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.config import Config, ConfigError, StateConfig, load_config  # noqa: E402 - after the path set-up

OUTPUTS = ("state_bucket", "state_bucket_region", "state_lock_table", "deploy_role_arn", "plan_role_arn")
# GitHub owner: letters, digits, single hyphens; repository: letters, digits, '.', '_', '-'.
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")


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
    return {name: str(output["value"]) for name, output in state.get("outputs", {}).items() if name in OUTPUTS}


def settings_lines(outputs: Mapping[str, str], config: Config) -> list[str]:
    """The environment file's [state] keys, then the GitHub Actions variables, for a person to copy."""
    lines = [f"# Remote state is ready. In environments/{config.environment_name}.toml:", "[state]"]
    for key, output in (("bucket", "state_bucket"), ("bucket_region", "state_bucket_region")):
        lines.append(f'{key} = "{outputs[output]}"')
    if "state_lock_table" in outputs:
        lines.append(f'lock_table = "{outputs["state_lock_table"]}"  # DynamoDB locking, for Terraform < 1.10')
    if "deploy_role_arn" in outputs:
        lines += [
            f"# GitHub Actions ({config.github_repository}): variables for the workflows in .github/workflows/",
            f'#   on the GitHub environment "{config.environment_name}": AWS_DEPLOY_ROLE_ARN={outputs["deploy_role_arn"]}',
            f"#   on the repository (pull-request plans):      AWS_PLAN_ROLE_ARN={outputs['plan_role_arn']}",
        ]
    return lines


def _check_repository(config: Config) -> None:
    repository = config.github_repository
    if repository is not None and not _REPOSITORY.fullmatch(repository):
        raise ConfigError(
            f"github_repository={repository!r} is not a GitHub repository: use owner/name (e.g. acme/catalog-api)"
        )


def main(argv: list[str], environ: Mapping[str, str]) -> int:
    if argv not in (["check"], ["settings"]):
        print("usage: bootstrap.py check|settings", file=sys.stderr)
        return 2
    try:
        config = load_config(environ)
        _check_repository(config)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    path = state_file(config.environment_suffix)
    outputs = deployed_outputs(path)
    if argv == ["check"]:
        if outputs is not None:
            print(
                f"bootstrap: {config.environment_name} is already bootstrapped (state {path.relative_to(ROOT)}); "
                "applying again updates it in place",
                file=sys.stderr,
            )
        return 0
    if outputs is None:
        print(f"bootstrap: no deployed bootstrap state at {path.relative_to(ROOT)}", file=sys.stderr)
        return 1
    print("\n".join(settings_lines(outputs, config)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
