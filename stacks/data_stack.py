"""DataStack: Aurora PostgreSQL, its subnet group, security group and RDS-managed secret."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from cdktf import TerraformOutput
from constructs import Construct

from shared.components.aurora import AuroraPostgres, AuroraPostgresProps
from shared.components.monitoring import DatabaseAlarmThresholds, create_alarms, database_alarms
from shared.components.scheduled_capacity import CapacityWindow
from shared.layer import LayerContext, LayerStack


@dataclass(frozen=True, kw_only=True)
class DataStackProps:
    """Inputs of the data layer."""

    context: LayerContext
    """Naming, region, tags and state of the deployment."""
    vpc_id: str
    """VPC id from the network layer."""
    private_subnet_ids: Sequence[str]
    """Private subnets from the network layer, one per AZ."""
    availability_zones: Sequence[str]
    """AZs of those subnets, in the same order."""
    app_security_group_id: str
    """API tasks' security group, the only one admitted to PostgreSQL."""
    alarm_topic_arn: str
    """SNS topic the Aurora alarms notify."""
    alarm_thresholds: DatabaseAlarmThresholds = field(default_factory=DatabaseAlarmThresholds)
    """When the Aurora alarms fire. Default: CPU 80 %, 256 MiB free, 300 connections, 1 s lag."""
    engine_major: str = "16"
    """aurora-postgresql major; the minor is the newest the region offers at plan time (P-01). Default: 16."""
    deletion_protection: bool = False
    """Aurora deletion protection (P-07); off keeps the layer destroyable (R-16). Default: False."""
    final_snapshot: bool = False
    """Final Aurora snapshot on destroy (P-07). Default: False."""
    instance_class: str = "db.t3.medium"
    """DB instance class. Default: db.t3.medium."""
    instance_count: int = 2
    """Instances in the cluster, spread over the AZs. Default: 2."""
    max_readers: int = 3
    """Ceiling of the reader autoscaling ([scaling] max_readers), 1 to 15. Default: 3."""
    min_readers: int = 1
    """Reader floor: 1, or a sale's min_readers when deployed inside its raised window. Default: 1."""
    reader_sales: tuple[CapacityWindow, ...] = ()
    """Sale windows as reader floors ([[sale]] min_readers). Default: none."""
    reader_lead: timedelta = timedelta(minutes=30)
    """How long before a sale its readers are requested. Default: 30 min."""


class DataStack(LayerStack):
    """Producer of the database endpoint, port, name, secret ARN and security group."""

    def __init__(self, scope: Construct, id: str, *, props: DataStackProps) -> None:
        super().__init__(scope, id, layer="data", context=props.context)
        self.declare_inputs(props)
        database = AuroraPostgres(
            self,
            "aurora",
            props=AuroraPostgresProps(
                naming=self.naming,
                permissions_boundary=self.permissions_boundary_arn,
                vpc_id=props.vpc_id,
                subnet_ids=props.private_subnet_ids,
                availability_zones=props.availability_zones,
                client_security_group_id=props.app_security_group_id,
                engine_major=props.engine_major,
                deletion_protection=props.deletion_protection,
                final_snapshot=props.final_snapshot,
                instance_class=props.instance_class,
                instance_count=props.instance_count,
                max_readers=props.max_readers,
                min_readers=props.min_readers,
                sales=props.reader_sales,
                sale_lead=props.reader_lead,
                region=self.region,
            ),
        )
        create_alarms(
            self,
            naming=self.naming,
            topic_arn=props.alarm_topic_arn,
            specs=database_alarms(database.cluster_identifier, props.alarm_thresholds),
        )
        TerraformOutput(self, "db_endpoint", value=database.endpoint, description="Aurora writer endpoint")
        TerraformOutput(
            self, "db_reader_endpoint", value=database.reader_endpoint, description="Aurora reader endpoint"
        )
        self.db_host: str = database.endpoint
        self.reader_endpoint: str = database.reader_endpoint
        """Reader endpoint: spreads connections over the readers, including those the autoscaling adds."""
        self.db_port: int = database.port
        self.db_name: str = database.database_name
        self.db_secret_arn: str = database.secret_arn
        self.db_security_group_id: str = database.security_group_id
        self.db_cluster_identifier: str = database.cluster_identifier
