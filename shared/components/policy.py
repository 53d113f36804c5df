"""IAM policy documents as plain data, rendered once to JSON."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

Statement = Mapping[str, Any]


def policy_document(statements: Sequence[Statement]) -> str:
    """A policy document; tokens inside the statements resolve at synth."""
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust(service: str, *, source_account: str) -> str:
    """Trust policy for an AWS service, limited to this account (confused-deputy guard)."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": source_account}},
            }
        ]
    )
