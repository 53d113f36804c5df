"""NetworkStack: VPC, subnets, routing, egress and flow logs."""

from __future__ import annotations

from dataclasses import dataclass

from constructs import Construct

from shared.components.flow_logs import FlowLogs, FlowLogsProps
from shared.components.monitoring import AlarmTopic
from shared.components.network import Network, NetworkProps
from shared.layer import LayerContext, LayerStack


@dataclass(frozen=True, kw_only=True)
class NetworkStackProps:
    """Inputs of the network layer."""

    context: LayerContext
    """Naming, region, tags and state of the deployment."""
    cidr_block: str = "10.0.0.0/16"
    """VPC CIDR (R-01). Default: 10.0.0.0/16."""
    nat_gateways: int = 2
    """2 = NAT per AZ, 1 = single NAT (cheaper, one AZ's egress). Default: 2."""
    flow_log_retention_days: int = 30
    """Days flow logs are kept. Default: 30 days."""
    alarm_email: str | None = None
    """E-mail subscribed to the alarm topic; None subscribes nobody. Default: None."""


class NetworkStack(LayerStack):
    """Producer of the VPC, subnet ids, the API tasks' security group and the alarm topic."""

    def __init__(self, scope: Construct, id: str, *, props: NetworkStackProps) -> None:
        super().__init__(scope, id, layer="network", context=props.context)
        network = Network(
            self,
            "network",
            props=NetworkProps(
                naming=self.naming, region=self.region, cidr_block=props.cidr_block, nat_gateways=props.nat_gateways
            ),
        )
        FlowLogs(
            self,
            "flow-logs",
            props=FlowLogsProps(
                naming=self.naming,
                vpc_id=network.vpc_id,
                retention_days=props.flow_log_retention_days,
                permissions_boundary=self.permissions_boundary_arn,
            ),
        )
        # The alarm topic lives in the foundation layer that every other layer reads.
        topic = AlarmTopic(self, "alarm-topic", naming=self.naming, email=props.alarm_email)
        self.alarm_topic_arn: str = topic.arn
        self.vpc_id: str = network.vpc_id
        self.public_subnet_ids: list[str] = network.public_subnet_ids
        self.private_subnet_ids: list[str] = network.private_subnet_ids
        self.private_subnet_zones: list[str] = network.private_subnet_zones
        self.app_security_group_id: str = network.app_security_group_id
