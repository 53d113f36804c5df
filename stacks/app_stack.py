"""AppStack: ECS Fargate service on FARGATE_SPOT behind an ALB, with its access log bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cdktf import TerraformOutput
from cdktf_cdktf_provider_aws.data_aws_elb_service_account import DataAwsElbServiceAccount
from constructs import Construct

from shared.components.custom_domain import AliasRecords, AliasRecordsProps, CertificateProps, ViewerCertificate
from shared.components.fargate_service import (
    PLACEHOLDER_IMAGE,
    CanaryRelease,
    DatabaseConnection,
    FargateService,
    FargateServiceProps,
    Scaling,
)
from shared.components.generated_secret import GeneratedSecret, GeneratedSecretProps
from shared.components.iam import account_id
from shared.components.image_asset import (
    ImageAsset,
    ImageAssetProps,
    ImageChoice,
    PlaceholderImage,
    PrebuiltImage,
    SourceImage,
)
from shared.components.image_repository import ImageRepository, ImageRepositoryProps
from shared.components.load_balancer import LoadBalancer, LoadBalancerProps
from shared.components.log_bucket import LogBucket, LogBucketProps, LogWriter
from shared.components.monitoring import (
    AlarmSpec,
    ReleaseAlarmThresholds,
    ServiceAlarmThresholds,
    ServiceIdentity,
    create_alarms,
    release_alarms,
    service_alarms,
)
from shared.components.rotation_redeploy import RotationRedeploy, RotationRedeployProps
from shared.layer import LayerContext, LayerStack
from shared.naming import IMAGE_REPOSITORY_KIND

ALB_LOG_PREFIX = "alb"


@dataclass(frozen=True, kw_only=True)
class OriginTls:
    """The ALB's own name, so CloudFront can reach it over HTTPS and check its certificate."""

    domain_name: str
    """Name of the ALB in the zone, e.g. origin.api.shop.example; the certificate covers it."""
    hosted_zone_id: str
    """Route 53 public zone for the certificate's validation record and the name's alias record."""
    zone_name: str
    """Name of that zone, checked at plan time against Route 53 (e.g. shop.example)."""


@dataclass(frozen=True, kw_only=True)
class AppStackProps:
    """Inputs of the app layer."""

    context: LayerContext
    """Naming, region, tags and state of the deployment."""
    vpc_id: str
    """VPC id from the network layer."""
    private_subnet_ids: Sequence[str]
    """Private subnets for the internal ALB and the tasks."""
    app_security_group_id: str
    """Tasks' security group from the network layer."""
    database: DatabaseConnection
    """Connection details from the data layer."""
    image: ImageChoice
    """What the tasks run: built from source (SourceImage), a prebuilt digest, or the credential-less placeholder."""
    alarm_topic_arn: str
    """SNS topic the ALB and ECS alarms notify."""
    alarm_thresholds: ServiceAlarmThresholds = field(default_factory=ServiceAlarmThresholds)
    """When the ALB and ECS alarms fire. Default: see ServiceAlarmThresholds."""
    release_thresholds: ReleaseAlarmThresholds = field(default_factory=ReleaseAlarmThresholds)
    """When a canary release rolls back. Default: 5xx >= 5 % or p99 >= 2 s for 2 minutes."""
    canary_percent: float = 10.0
    """Share of production traffic a release gets first. Default: 10 %."""
    canary_bake_minutes: int = 3
    """Minutes at the canary share before all traffic moves. Default: 3 min."""
    release_bake_minutes: int = 2
    """Minutes the old version stays after all traffic moved. Default: 2 min."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Extra plain environment variables for the container. Default: none."""
    container_port: int = 3000
    """Port the API listens on. Default: 3000."""
    on_demand_base: int = 1
    """Tasks kept on on-demand FARGATE under the Spot tasks (P-06), 0 to scaling.max_tasks. Default: 1."""
    deletion_protection: bool = False
    """ALB deletion protection, image repository kept on destroy, 7-day secret recovery (P-07). Default: False."""
    scaling: Scaling = field(default_factory=Scaling)
    """Autoscaling bounds and CPU target. Default: 2-10 tasks at 70 %."""
    log_retention_days: int = 30
    """Days container logs are kept; also the ALB log expiration. Default: 30 days."""
    origin_tls: OriginTls | None = None
    """HTTPS listeners with a certificate for the ALB's own name ([domain] with a zone); None: HTTP inside the VPC. Default: None."""


class AppStack(LayerStack):
    """Producer of the ALB DNS name (for the edge layer) and the cluster name."""

    def __init__(self, scope: Construct, id: str, *, props: AppStackProps) -> None:
        super().__init__(scope, id, layer="app", context=props.context)
        self.declare_inputs(props)
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
        repository = ImageRepository(
            self,
            "images",
            props=ImageRepositoryProps(
                name=self.naming.name(IMAGE_REPOSITORY_KIND), force_delete=not props.deletion_protection
            ),
        )
        image: str | None
        match props.image:
            case SourceImage(directory=directory, tag=tag):
                image = ImageAsset(
                    self,
                    "api-image",
                    props=ImageAssetProps(
                        source_tag=tag,
                        context_directory=directory,
                        repository_name=repository.name,
                        repository_url=repository.url,
                        region=self.region,
                    ),
                ).image
            case PrebuiltImage(reference=reference):
                image = reference
            case PlaceholderImage():
                image = None
        admin_token = GeneratedSecret(
            self,
            "admin-token",
            props=GeneratedSecretProps(
                name=self.naming.name("admin-token"),
                description="Bearer token of the catalog API's write endpoints",
                recovery_window_days=7 if props.deletion_protection else 0,
                region=self.region,
            ),
        )
        origin_certificate: ViewerCertificate | None = None
        if props.origin_tls is not None:
            # CloudFront checks an HTTPS origin's certificate against the origin's domain name,
            # and the ALB's own *.elb.amazonaws.com name cannot get one: the ALB answers as a
            # name of the API's zone instead, with an ACM certificate in the ALB's region.
            origin_certificate = ViewerCertificate(
                self,
                "origin-certificate",
                props=CertificateProps(
                    naming=self.naming,
                    provider=None,
                    domain_name=props.origin_tls.domain_name,
                    hosted_zone_id=props.origin_tls.hosted_zone_id,
                    zone_name=props.origin_tls.zone_name,
                    name_kind="origin-certificate",
                ),
            )
        balancer = LoadBalancer(
            self,
            "alb",
            props=LoadBalancerProps(
                certificate_arn=origin_certificate.certificate_arn if origin_certificate is not None else None,
                naming=self.naming,
                vpc_id=props.vpc_id,
                subnet_ids=props.private_subnet_ids,
                target_port=props.container_port,
                target_security_group_id=props.app_security_group_id,
                access_logs_bucket=logs.bucket_name,
                access_logs_prefix=ALB_LOG_PREFIX,
                access_logs_ready=logs.ready,
                deletion_protection=props.deletion_protection,
            ),
        )
        if props.origin_tls is not None and origin_certificate is not None and origin_certificate.zone_id is not None:
            # The zone id as read (and checked) by the certificate's zone lookup.
            AliasRecords(
                self,
                "origin-record",
                props=AliasRecordsProps(
                    zone_id=origin_certificate.zone_id,
                    name=props.origin_tls.domain_name,
                    target_domain_name=balancer.dns_name,
                    target_zone_id=balancer.zone_id,
                    record_types=("A",),
                ),
            )
        rollback_alarms = release_alarms(
            self,
            naming=self.naming,
            topic_arn=props.alarm_topic_arn,
            load_balancer=balancer.arn_suffix,
            target_groups={"a": balancer.target_group_arn_suffix, "b": balancer.alternate_target_group_arn_suffix},
            thresholds=props.release_thresholds,
        )
        service = FargateService(
            self,
            "api",
            props=FargateServiceProps(
                naming=self.naming,
                permissions_boundary=self.permissions_boundary_arn,
                region=self.region,
                subnet_ids=props.private_subnet_ids,
                security_group_id=props.app_security_group_id,
                target_group_arn=balancer.target_group_arn,
                # AWS's resource label: the final portions of the ALB and target group ARNs joined by
                # "/", app/<lb>/<id>/targetgroup/<tg>/<id> (Application Auto Scaling API reference,
                # PredefinedMetricSpecification, ResourceLabel, read 2026-11-29). The primary target
                # group: the one the service names, which carries production traffic between releases.
                request_count_label=f"{balancer.arn_suffix}/{balancer.target_group_arn_suffix}",
                load_balancer_ready=balancer.ready,
                start_after=[admin_token.ready],
                release=CanaryRelease(
                    alternate_target_group_arn=balancer.alternate_target_group_arn,
                    production_listener_rule_arn=balancer.production_rule_arn,
                    test_listener_rule_arn=balancer.test_rule_arn,
                    rollback_alarm_names=rollback_alarms,
                    canary_percent=props.canary_percent,
                    canary_bake_minutes=props.canary_bake_minutes,
                    bake_minutes=props.release_bake_minutes,
                ),
                database=props.database,
                image=image,
                repository_arn=repository.arn,
                admin_token_secret_arn=admin_token.arn,
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
            # [scaling]'s floor, not a sale's: the alarm must not fire when a window's restore lowers it.
            min_tasks=props.scaling.restore_min_tasks or props.scaling.min_tasks,
        )
        redeploy = RotationRedeploy(
            self,
            "rotation-redeploy",
            props=RotationRedeployProps(
                naming=self.naming,
                permissions_boundary=self.permissions_boundary_arn,
                secret_arn=props.database.secret_arn,
                cluster_arn=service.cluster_arn,
                service_arn=service.service_arn,
            ),
        )
        # A failed redeploy leaves tasks on the old password until they are replaced: page someone.
        redeploy_failed = AlarmSpec(
            key="rotation-redeploy-failed",
            description="Tasks were not replaced after the DB secret rotated; run make deploy-app or force a new deployment",
            namespace="AWS/States",
            metric="ExecutionsFailed",
            dimensions={"StateMachineArn": redeploy.state_machine_arn},
            threshold=1,
            statistic="Sum",
            evaluation_periods=1,
        )
        create_alarms(
            self,
            naming=self.naming,
            topic_arn=props.alarm_topic_arn,
            specs=[*service_alarms(identity, props.alarm_thresholds), redeploy_failed, redeploy.start_failed_alarm],
        )
        TerraformOutput(self, "alb_dns_name", value=balancer.dns_name, description="DNS name of the internal ALB")
        TerraformOutput(self, "ecs_cluster_name", value=service.cluster_name, description="ECS cluster name")
        TerraformOutput(
            self, "image_repository_url", value=repository.url, description="Push the API image here (make image)"
        )
        TerraformOutput(
            self,
            "api_image",
            value=image if image is not None else PLACEHOLDER_IMAGE,
            description="The image the tasks run, by digest (make promote IMAGE=<this> ENV=<next>)",
        )
        self.alb_dns_name: str = balancer.dns_name
        self.alb_arn: str = balancer.arn
        self.service_identity: ServiceIdentity = identity
