"""Internal ALB in the private subnets, reached only through CloudFront's VPC origin (R-06, R-11, P-05).

With no public address, the only way in is CloudFront's service-managed network interfaces
in this VPC, which exist for this account's VPC origins only. The security group admits the
CloudFront origin-facing prefix list, "Option 1" of AWS's VPC-origin guide
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/private-content-vpc-origins.html,
read 2026-11-23): it can exist before the VPC origin, whereas the service-managed group of
"Option 2" appears only once the edge layer has created the origin.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.data_aws_ec2_managed_prefix_list import DataAwsEc2ManagedPrefixList
from cdktf_cdktf_provider_aws.lb import Lb, LbAccessLogs
from cdktf_cdktf_provider_aws.lb_listener import LbListener, LbListenerDefaultAction
from cdktf_cdktf_provider_aws.lb_listener_rule import (
    LbListenerRule,
    LbListenerRuleAction,
    LbListenerRuleActionForward,
    LbListenerRuleActionForwardTargetGroup,
    LbListenerRuleCondition,
    LbListenerRuleConditionPathPattern,
)
from cdktf_cdktf_provider_aws.lb_target_group import LbTargetGroup, LbTargetGroupHealthCheck
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from shared.naming import Naming

CLOUDFRONT_ORIGIN_FACING = "com.amazonaws.global.cloudfront.origin-facing"


@dataclass(frozen=True, kw_only=True)
class HealthCheck:
    """Target group health check (R-06)."""

    path: str = "/health"
    """Path probed with GET. Default: /health."""
    interval_seconds: int = 30
    """Seconds between probes. Default: 30 s."""
    unhealthy_threshold: int = 2
    """Consecutive failures before a target is unhealthy. Default: 2."""
    healthy_threshold: int = 2
    """Consecutive successes before a target is healthy. Default: 2."""
    timeout_seconds: int = 5
    """Seconds a probe may take. Default: 5 s."""


@dataclass(frozen=True, kw_only=True)
class LoadBalancerProps:
    """Inputs of a ``LoadBalancer``."""

    naming: Naming
    """Naming helper for the ALB, target group and security group."""
    vpc_id: str
    """VPC of the ALB and target group."""
    subnet_ids: Sequence[str]
    """Private subnets, one per AZ (the ALB is internal)."""
    target_port: int
    """Port the tasks listen on, e.g. 3000."""
    target_security_group_id: str
    """Security group of the targets; it is opened on target_port to the ALB only."""
    access_logs_bucket: str
    """Bucket receiving ALB access logs (R-12)."""
    access_logs_prefix: str = "alb"
    """Key prefix of the access logs. Default: alb."""
    access_logs_ready: Sequence[ITerraformDependable] = ()
    """Resources the ALB waits for, i.e. the bucket policy that lets ELB write. Default: none."""
    health_check: HealthCheck = field(default_factory=HealthCheck)
    """Health check of the target group. Default: GET /health every 30 s, 2 failures."""
    deregistration_delay_seconds: int = 30
    """Connection draining; under 120 s because Fargate Spot gives a 2-minute notice. Default: 30 s."""
    certificate_arn: str | None = None
    """ACM certificate (in the ALB's region) of HTTPS listeners for CloudFront; None: HTTP listeners. Default: None."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listeners (TLS 1.3 and 1.2, AEAD ciphers only). Default: ELBSecurityPolicy-TLS13-1-2-2021-06."""
    listener_port: int | None = None
    """Port of the production listener. Default: 443 with a certificate, else 80."""
    test_listener_port: int = 8080
    """Listener of a release's test traffic (ECS test listener rule), same protocol; no security group rule admits it. Default: 8080."""
    deletion_protection: bool = False
    """ALB deletion protection (P-07); off keeps the layer destroyable (R-16). Default: False."""


class LoadBalancer(Construct):
    """ALB, its security group, two target groups and the production and test listeners (HTTP, or HTTPS with a certificate)."""

    def __init__(self, scope: Construct, id: str, *, props: LoadBalancerProps) -> None:
        super().__init__(scope, id)
        if props.deregistration_delay_seconds >= 120:
            raise ValueError(
                "deregistration_delay_seconds must be under 120: Fargate Spot gives a 2-minute notice (R-06)"
            )
        naming = props.naming
        https = props.certificate_arn is not None
        protocol = "HTTPS" if https else "HTTP"
        listener_port = props.listener_port if props.listener_port is not None else (443 if https else 80)
        # Both listeners take the same protocol: the test listener carries a release's test
        # traffic, which must see what production traffic sees.
        ssl_policy = props.ssl_policy if https else None
        cloudfront = DataAwsEc2ManagedPrefixList(self, "cloudfront", name=CLOUDFRONT_ORIGIN_FACING)
        security_group = SecurityGroup(
            self,
            "sg",
            name=naming.name("alb-sg"),
            # Kept as first written, HTTPS or not: a changed description replaces the group,
            # which the ALB holds on to (the old group cannot be deleted while in use).
            description="Internal ALB: HTTP from CloudFront VPC origin addresses only",
            vpc_id=props.vpc_id,
            tags={"Name": naming.name("alb-sg")},
        )
        VpcSecurityGroupIngressRule(
            self,
            "from-cloudfront",
            security_group_id=security_group.id,
            prefix_list_id=cloudfront.id,
            ip_protocol="tcp",
            from_port=listener_port,
            to_port=listener_port,
            description=f"{protocol} from CloudFront only",
        )
        VpcSecurityGroupEgressRule(
            self,
            "to-targets",
            security_group_id=security_group.id,
            referenced_security_group_id=props.target_security_group_id,
            ip_protocol="tcp",
            from_port=props.target_port,
            to_port=props.target_port,
            description="To the API tasks",
        )
        VpcSecurityGroupIngressRule(
            self,
            "targets-from-alb",
            security_group_id=props.target_security_group_id,
            referenced_security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=props.target_port,
            to_port=props.target_port,
            description="API port from the ALB only",
        )
        alb = Lb(
            self,
            "alb",
            name=naming.name("alb"),
            internal=True,
            load_balancer_type="application",
            security_groups=[security_group.id],
            subnets=list(props.subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=props.deletion_protection,
            access_logs=LbAccessLogs(bucket=props.access_logs_bucket, prefix=props.access_logs_prefix, enabled=True),
            depends_on=list(props.access_logs_ready),
        )
        check = props.health_check
        # Two target groups: ECS registers a release's tasks in the one production traffic
        # does not use, shifts traffic between them by the listener rules' weights and swaps
        # their roles at the end (ECS canary deployments, "Application Load Balancer resources
        # for blue/green, linear, and canary deployments", ECS developer guide, read 2026-11-29).
        target_groups = [
            LbTargetGroup(
                self,
                construct_id,
                name=naming.name(kind),
                port=props.target_port,
                protocol="HTTP",
                target_type="ip",
                vpc_id=props.vpc_id,
                deregistration_delay=str(props.deregistration_delay_seconds),
                health_check=LbTargetGroupHealthCheck(
                    enabled=True,
                    path=check.path,
                    protocol="HTTP",
                    port="traffic-port",
                    interval=check.interval_seconds,
                    unhealthy_threshold=check.unhealthy_threshold,
                    healthy_threshold=check.healthy_threshold,
                    timeout=check.timeout_seconds,
                    matcher="200",
                ),
            )
            for construct_id, kind in (("targets", "tg"), ("alternate-targets", "tg2"))
        ]
        primary, alternate = target_groups
        # Forward only, everywhere: ECS refuses a release on listeners that mix forward with
        # fixed-response or redirect actions (same guide, "Limitations").
        listener = LbListener(
            self,
            "http",
            load_balancer_arn=alb.arn,
            port=listener_port,
            protocol=protocol,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=primary.arn)],
            certificate_arn=props.certificate_arn,
            ssl_policy=ssl_policy,
        )
        test_listener = LbListener(
            self,
            "test",
            load_balancer_arn=alb.arn,
            port=props.test_listener_port,
            protocol=protocol,
            default_action=[LbListenerDefaultAction(type="forward", target_group_arn=alternate.arn)],
            certificate_arn=props.certificate_arn,
            ssl_policy=ssl_policy,
        )
        production_rule = self._weighted_rule("production-rule", listener.arn, primary.arn, alternate.arn, weight=100)
        test_rule = self._weighted_rule("test-rule", test_listener.arn, primary.arn, alternate.arn, weight=0)
        self.dns_name: str = alb.dns_name
        self.zone_id: str = alb.zone_id
        self.arn: str = alb.arn
        self.arn_suffix: str = alb.arn_suffix
        self.target_group_arn: str = primary.arn
        self.target_group_arn_suffix: str = primary.arn_suffix
        self.alternate_target_group_arn: str = alternate.arn
        self.alternate_target_group_arn_suffix: str = alternate.arn_suffix
        self.production_rule_arn: str = production_rule.arn
        self.test_rule_arn: str = test_rule.arn
        # A service may only register with target groups a listener already uses: both are
        # attached through the rules, so the service waits for them.
        self.ready: tuple[ITerraformDependable, ...] = (listener, test_listener, production_rule, test_rule)

    def _weighted_rule(
        self, id: str, listener_arn: str, primary_arn: str, alternate_arn: str, *, weight: int
    ) -> LbListenerRule:
        """Every path forwarded to both target groups, ``weight`` to the primary, the rest to the alternate.

        ECS rewrites the weights during each release (and leaves them swapped after it), so
        Terraform ignores the action after creation instead of undoing a release on the next
        apply (the drift terraform-aws-modules/terraform-aws-alb#409 reports).
        """
        return LbListenerRule(
            self,
            id,
            listener_arn=listener_arn,
            priority=1,
            condition=[LbListenerRuleCondition(path_pattern=LbListenerRuleConditionPathPattern(values=["/*"]))],
            action=[
                LbListenerRuleAction(
                    type="forward",
                    forward=LbListenerRuleActionForward(
                        target_group=[
                            LbListenerRuleActionForwardTargetGroup(arn=primary_arn, weight=weight),
                            LbListenerRuleActionForwardTargetGroup(arn=alternate_arn, weight=100 - weight),
                        ]
                    ),
                )
            ],
            lifecycle=TerraformResourceLifecycle(ignore_changes=["action"]),
        )
