"""AppStack: ECS Fargate service on FARGATE_SPOT behind an ALB, with its access log bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from constructs import Construct

from shared.components.fargate_service import DatabaseConnection, FargateService, FargateServiceProps, Scaling
from shared.components.iam import account_id
from shared.components.load_balancer import LoadBalancer, LoadBalancerProps
from shared.components.log_bucket import LogBucket, LogBucketProps, LogWriter
from shared.components.monitoring import ServiceAlarmThresholds, ServiceIdentity, create_alarms, service_alarms
from shared.layer import LayerContext, LayerStack

ALB_LOG_PREFIX = "alb"


@dataclass(frozen=True, kw_only=True)
class AppStackProps:
    """Inputs of the app layer."""

    context: LayerContext
    """Naming, region, tags and state of the deployment."""
    vpc_id: str
    """VPC id from the network layer."""
    public_subnet_ids: Sequence[str]
    """Public subnets for the ALB."""
    private_subnet_ids: Sequence[str]
    """Private subnets for the tasks."""
    app_security_group_id: str
    """Tasks' security group from the network layer."""
    database: DatabaseConnection
    """Connection details from the data layer."""
    image: str
    """Container image answering 200 on GET /health at port 3000."""
    alarm_topic_arn: str
    """SNS topic the ALB and ECS alarms notify."""
    alarm_thresholds: ServiceAlarmThresholds = field(default_factory=ServiceAlarmThresholds)
    """When the ALB and ECS alarms fire. Default: see ServiceAlarmThresholds."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Extra plain environment variables for the container. Default: none."""
    container_port: int = 3000
    """Port the API listens on. Default: 3000."""
    on_demand_base: int = 0
    """Tasks kept on on-demand FARGATE under the Spot tasks. Default: 0."""
    scaling: Scaling = field(default_factory=Scaling)
    """Autoscaling bounds and CPU target. Default: 2-10 tasks at 70 %."""
    log_retention_days: int = 30
    """Days container logs are kept; also the ALB log expiration. Default: 30 days."""


class AppStack(LayerStack):
    """Producer of the ALB DNS name (for the edge layer) and the cluster name."""

    def __init__(self, scope: Construct, id: str, *, props: AppStackProps) -> None:
        super().__init__(scope, id, layer="app", context=props.context)
        elb_account = DataAwsElbServiceAccount(self, "elb-account")
        # The ALB log bucket lives in this layer: putting it in the edge layer would
        # make App depend on Edge while Edge reads the ALB (a cycle, F-9).
        logs = LogBucket(
            self,
            "alb-logs",
            props=LogBucketProps(
                bucket_name=f"{self.naming.name('alb-logs')}-{account_id(self)}",
                expiration_days=props.log_retention_days,
                writers=[LogWriter(principal={"AWS": elb_account.arn}, prefix=ALB_LOG_PREFIX)],
            ),
        )
        balancer = LoadBalancer(
            self,
            "alb",
            props=LoadBalancerProps(
                naming=self.naming,
                vpc_id=props.vpc_id,
                subnet_ids=props.public_subnet_ids,
                target_port=props.container_port,
                target_security_group_id=props.app_security_group_id,
                access_logs_bucket=logs.bucket_name,
                access_logs_prefix=ALB_LOG_PREFIX,
                access_logs_ready=logs.ready,
            ),
        )
        service = FargateService(
            self,
            "api",
            props=FargateServiceProps(
                naming=self.naming,
                region=self.region,
                subnet_ids=props.private_subnet_ids,
                security_group_id=props.app_security_group_id,
                target_group_arn=balancer.target_group_arn,
                load_balancer_ready=balancer.listener,
                database=props.database,
                image=props.image,
                container_port=props.container_port,
                environment=props.environment,
                on_demand_base=props.on_demand_base,
                scaling=props.scaling,
                log_retention_days=props.log_retention_days,
            ),
        )
        identity = ServiceIdentity(
            load_balancer=balancer.arn_suffix,
            target_group=balancer.target_group_arn_suffix,
            cluster_name=service.cluster_name,
            service_name=service.service_name,
            min_tasks=props.scaling.min_tasks,
        )
        create_alarms(
            self,
            naming=self.naming,
            topic_arn=props.alarm_topic_arn,
            specs=service_alarms(identity, props.alarm_thresholds),
        )
        TerraformOutput(self, "alb_dns_name", value=balancer.dns_name, description="DNS name of the ALB")
        TerraformOutput(self, "ecs_cluster_name", value=service.cluster_name, description="ECS cluster name")
        self.alb_dns_name: str = balancer.dns_name
        self.service_identity: ServiceIdentity = identity
