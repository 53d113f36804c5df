"""VPC flow logs to CloudWatch Logs (R-12)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.flow_log import FlowLog
from cdktf_cdktf_provider_aws.iam_role_policy import IamRolePolicy
from constructs import Construct

from shared.components.iam import service_role
from shared.components.policy import policy_document
from shared.naming import Naming


@dataclass(frozen=True, kw_only=True)
class FlowLogsProps:
    """Inputs of ``FlowLogs``."""

    naming: Naming
    """Naming helper for the role and log group."""
    vpc_id: str
    """VPC whose traffic is logged."""
    retention_days: int = 30
    """Days flow log records are kept. Default: 30 days."""
    traffic_type: str = "ALL"
    """ACCEPT, REJECT or ALL. Default: ALL."""
    permissions_boundary: str | None = None
    """ARN of the permissions boundary policy its roles carry; None: none. Default: None."""


class FlowLogs(Construct):
    """Flow logs with a role that may write only to their own log group."""

    def __init__(self, scope: Construct, id: str, *, props: FlowLogsProps) -> None:
        super().__init__(scope, id)
        naming = props.naming
        group = CloudwatchLogGroup(
            self, "logs", name=naming.path("vpc-flow-logs"), retention_in_days=props.retention_days
        )
        role = service_role(
            self,
            "role",
            name=naming.name("flow-logs"),
            service="vpc-flow-logs.amazonaws.com",
            permissions_boundary=props.permissions_boundary,
        )
        IamRolePolicy(
            self,
            "write-logs",
            name="write-flow-logs",
            role=role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": [group.arn, f"{group.arn}:*"],
                    }
                ]
            ),
        )
        FlowLog(
            self,
            "flow-log",
            vpc_id=props.vpc_id,
            traffic_type=props.traffic_type,
            log_destination_type="cloud-watch-logs",
            log_destination=group.arn,
            iam_role_arn=role.arn,
            max_aggregation_interval=60,
            tags={"Name": naming.name("flow-log")},
        )
