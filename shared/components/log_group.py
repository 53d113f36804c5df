"""CloudWatch log group with a retention, so logs never pile up forever (R-12)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from constructs import Construct


@dataclass(frozen=True, kw_only=True)
class LogGroupProps:
    """Inputs of a ``LogGroup``."""

    name: str
    """Log group name, e.g. /catalog-api/dev/ecs."""
    retention_days: int = 30
    """Days logs are kept (a CloudWatch-allowed value). Default: 30 days."""


class LogGroup(Construct):
    """A log group that always has a retention."""

    def __init__(self, scope: Construct, id: str, *, props: LogGroupProps) -> None:
        super().__init__(scope, id)
        group = CloudwatchLogGroup(self, "group", name=props.name, retention_in_days=props.retention_days)
        self.resource = group
        self.name: str = group.name
        self.arn: str = group.arn
