"""Print the environment's image repository as `<name> <region> <content tag>` for `make image`.

The name comes from the same naming helper the app layer uses (`catalog-api-images-<suffix>`),
so the image is pushed exactly where the execution role may pull from. Pure configuration:
no AWS call, no cdktf import.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from shared.config import PROJECT, ConfigError, load_config
from shared.image_source import source_tag
from shared.naming import IMAGE_REPOSITORY_KIND, Naming


def main() -> int:
    try:
        config = load_config(os.environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    name = Naming(project=PROJECT, suffix=config.environment_suffix).name(IMAGE_REPOSITORY_KIND)
    print(f"{name} {config.region} {source_tag(Path(__file__).resolve().parents[1] / 'service')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
