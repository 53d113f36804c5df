"""Print the DNS record ACM needs while `make deploy-edge` waits for the certificate (S-07).

With `[domain] name` and no `hosted_zone_id`, the edge layer's apply requests the certificate
and then waits for it to be issued, which needs a record at the DNS provider. Terraform shows
its outputs only after the apply, so `make deploy-edge` runs this beside it: it looks for the
pending certificate of the name in us-east-1 and prints the record to create, once, as soon as
ACM has it. With a zone, or without a domain, it prints nothing and exits at once. It never
fails the deploy: a problem is one line and exit status 0. Standard library and the AWS CLI.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.aws_cli import AwsCliError, aws
from shared.config import ConfigError, load_config

REGION = "us-east-1"
POLL_SECONDS = 10.0
WAIT_SECONDS = 15 * 60.0
"""How long to look for the certificate: the apply requests it within its first minutes."""


def _aws(argv: Sequence[str]) -> Any:
    output = aws([*argv, "--region", REGION, "--output", "json"], purpose="it shows the DNS record ACM needs")
    return json.loads(output or "{}")


def pending_record(name: str, aws: Callable[[Sequence[str]], Any] = _aws) -> dict[str, str] | None:
    """The validation record of the pending certificate for ``name``, or None while there is none yet."""
    listing = aws(["acm", "list-certificates", "--certificate-statuses", "PENDING_VALIDATION"])
    for summary in listing.get("CertificateSummaryList", []):
        if summary.get("DomainName") != name:
            continue
        described = aws(["acm", "describe-certificate", "--certificate-arn", summary["CertificateArn"]])
        for option in described.get("Certificate", {}).get("DomainValidationOptions", []):
            record = option.get("ResourceRecord")
            if record:
                return {"name": record["Name"], "type": record["Type"], "value": record["Value"]}
    return None


def watch(
    environ: Mapping[str, str],
    *,
    aws: Callable[[Sequence[str]], Any] = _aws,
    sleep: Callable[[float], None] = time.sleep,
    wait_seconds: float = WAIT_SECONDS,
) -> str | None:
    """The line to print about the record, or None when there is nothing to do (no domain, or a zone)."""
    try:
        config = load_config(environ)
    except ConfigError:
        return None  # the synth before this refused it already, with its own line
    domain = config.domain
    if domain is None or domain.hosted_zone_id is not None:
        return None
    waited = 0.0
    while True:
        try:
            record = pending_record(domain.name, aws)
        except (AwsCliError, ValueError) as error:
            return f"certificate: {error}; the record to create is in the ACM console (us-east-1) or docs/deployment.md"
        if record is not None:
            return (
                f"certificate for {domain.name}: create this DNS record at your DNS provider now, the apply waits "
                f"for it: {record['name']} {record['type']} {record['value']}"
            )
        if waited >= wait_seconds:
            return f"certificate: no pending certificate for {domain.name} appeared in {REGION}; nothing to create yet"
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS


def main() -> int:
    line = watch(os.environ)
    if line is not None:
        print(f"\n== {line}\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
