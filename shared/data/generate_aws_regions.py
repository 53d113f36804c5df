"""Write aws_regions.json, the regions configuration accepts, from a botocore wheel.

    pip download --no-deps botocore==1.44.5 -d /tmp/botocore
    python shared/data/generate_aws_regions.py /tmp/botocore/botocore-1.44.5-py3-none-any.whl

botocore is not a dependency of the project: its pin of python-dateutil (< 3)
conflicts with the one cdktf needs, so the list is generated from its wheel and
committed, with the botocore version it came from.
"""

from __future__ import annotations

import datetime
import json
import re
import sys
import zipfile
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).with_name("aws_regions.json")
PARTITION = "aws"
# The regional services the four layers and the state backend call. A region in
# partitions.json without an endpoint for one of these (announced, not launched)
# would fail mid-deploy, so it is not offered.
SERVICES = (
    "api.ecr",
    "application-autoscaling",
    "dynamodb",
    "ec2",
    "ecs",
    "elasticloadbalancing",
    "logs",
    "monitoring",
    "rds",
    "s3",
    "secretsmanager",
    "sns",
    "sts",
)


def _read(wheel: zipfile.ZipFile, name: str) -> Any:
    return json.loads(wheel.read(f"botocore/data/{name}"))


def generate(wheel_path: Path) -> dict[str, Any]:
    """The document written to aws_regions.json, from the botocore wheel at ``wheel_path``."""
    version = re.search(r"botocore-([0-9.]+)-", wheel_path.name)
    if version is None:
        raise SystemExit(f"{wheel_path.name} is not a botocore wheel (botocore-<version>-...whl)")
    with zipfile.ZipFile(wheel_path) as wheel:
        partitions = _read(wheel, "partitions.json")["partitions"]
        endpoints = {p["partition"]: p for p in _read(wheel, "endpoints.json")["partitions"]}
    regions: dict[str, str] = {}
    not_launched: list[str] = []
    other: dict[str, str] = {}
    for partition in partitions:
        names = {name: data.get("description", "") for name, data in partition["regions"].items()}
        # "aws-global", "aws-cn-global", …: pseudo-regions for global endpoints, not deployable.
        real = {name: text for name, text in names.items() if re.fullmatch(partition["regionRegex"], name)}
        if partition["id"] != PARTITION:
            other.update(dict.fromkeys(real, partition["id"]))
            continue
        services = endpoints[PARTITION]["services"]
        for name, text in sorted(real.items()):
            if all(name in services.get(service, {}).get("endpoints", {}) for service in SERVICES):
                regions[name] = text
            else:
                not_launched.append(name)
    return {
        "source": f"botocore {version.group(1)} (PyPI): botocore/data/partitions.json and botocore/data/endpoints.json",
        "generated": datetime.date.today().isoformat(),
        "command": (
            f"pip download --no-deps botocore=={version.group(1)} -d /tmp/botocore && "
            f"python shared/data/generate_aws_regions.py /tmp/botocore/{wheel_path.name}"
        ),
        "rule": (
            f"regions of partition {PARTITION!r} whose endpoints.json entry lists every regional service "
            "the platform calls; the platform manages CloudFront and its WAF from us-east-1, so other "
            "partitions cannot host it"
        ),
        "services": list(SERVICES),
        "regions": regions,
        "not_launched": not_launched,
        "other_partitions": dict(sorted(other.items())),
    }


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    OUTPUT.write_text(json.dumps(generate(Path(argv[0])), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
