"""EdgeStack: CloudFront distribution and its access log bucket."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformOutput
from constructs import Construct

from shared.components.distribution import ApiDistribution, ApiDistributionProps
from shared.components.iam import account_id
from shared.components.log_bucket import LogBucket, LogBucketProps
from shared.components.monitoring import RequestPathDashboard, RequestPathDashboardProps, ServiceIdentity
from shared.components.web_acl import CloudFrontWebAcl, CloudFrontWebAclProps
from shared.layer import LayerContext, LayerStack


@dataclass(frozen=True, kw_only=True)
class EdgeStackProps:
    """Inputs of the edge layer."""

    context: LayerContext
    """Naming, region, tags and state of the deployment."""
    alb_dns_name: str
    """DNS name of the internal ALB from the app layer (the origin)."""
    alb_arn: str
    """ARN of the internal ALB from the app layer (the VPC origin's endpoint)."""
    service: ServiceIdentity
    """ALB, target group and ECS dimensions from the app layer, for the dashboard."""
    db_cluster_identifier: str
    """Aurora cluster identifier (a literal, so no reference to the data layer), for the dashboard."""
    price_class: str = "PriceClass_100"
    """CloudFront price class. Default: PriceClass_100 (North America, Europe)."""
    log_expiration_days: int = 30
    """Days CloudFront logs are kept (R-13). Default: 30 days."""
    waf_enabled: bool = True
    """Attach a WAF web ACL (managed rules + per-IP rate limit) to the distribution. Default: True."""
    waf_rate_limit_per_ip: int = 2000
    """Requests per IP per 5 minutes before WAF blocks it. Default: 2000."""


class EdgeStack(LayerStack):
    """Producer of the public URL."""

    def __init__(self, scope: Construct, id: str, *, props: EdgeStackProps) -> None:
        super().__init__(scope, id, layer="edge", context=props.context)
        service = props.service
        self.declare_inputs(
            {
                "alb_dns_name": props.alb_dns_name,
                "alb_arn": props.alb_arn,
                "load_balancer": service.load_balancer,
                "target_group": service.target_group,
                "cluster_name": service.cluster_name,
                "service_name": service.service_name,
                "db_cluster_identifier": props.db_cluster_identifier,
            }
        )
        # CloudFront standard logging writes through a bucket ACL grant, so ACLs
        # must be enabled (BucketOwnerPreferred); public access stays blocked.
        logs = LogBucket(
            self,
            "cdn-logs",
            props=LogBucketProps(
                bucket_name=f"{self.naming.name('cdn-logs')}-{account_id(self)}",
                expiration_days=props.log_expiration_days,
                object_ownership="BucketOwnerPreferred",
            ),
        )
        web_acl_arn = None
        if props.waf_enabled:
            web_acl_arn = CloudFrontWebAcl(
                self,
                "waf",
                props=CloudFrontWebAclProps(
                    naming=self.naming,
                    provider=self.provider_in("us-east-1"),
                    rate_limit_per_ip=props.waf_rate_limit_per_ip,
                ),
            ).arn
        distribution = ApiDistribution(
            self,
            "cdn",
            props=ApiDistributionProps(
                naming=self.naming,
                origin_domain_name=props.alb_dns_name,
                origin_arn=props.alb_arn,
                log_bucket_domain_name=logs.bucket_domain_name,
                log_bucket_ready=logs.ready,
                price_class=props.price_class,
                web_acl_id=web_acl_arn,
            ),
        )
        RequestPathDashboard(
            self,
            "dashboard",
            props=RequestPathDashboardProps(
                naming=self.naming,
                region=self.region,
                distribution_id=distribution.distribution_id,
                service=props.service,
                db_cluster_identifier=props.db_cluster_identifier,
            ),
        )
        TerraformOutput(self, "cloudfront_url", value=distribution.url, description="Public URL of the API")
        TerraformOutput(
            self, "cloudfront_distribution_id", value=distribution.distribution_id, description="Distribution id"
        )
        self.url: str = distribution.url
        self.distribution_id: str = distribution.distribution_id
