"""EdgeStack: CloudFront distribution and its access log bucket."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import TerraformOutput
from constructs import Construct

from shared.components.custom_domain import (
    CLOUDFRONT_CERTIFICATE_REGION,
    AliasRecords,
    AliasRecordsProps,
    CertificateProps,
    ViewerCertificate,
)
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
    domain_name: str | None = None
    """The API's own host name (S-07); None serves only the cloudfront.net name. Default: None."""
    hosted_zone_id: str | None = None
    """Route 53 public zone for the certificate's validation record and the A/AAAA aliases; None prints them. Default: None."""
    zone_name: str | None = None
    """Name of that zone, checked against Route 53 at plan time. Default: None."""
    certificate_validation_timeout: str = "45m"
    """Longest wait for ACM to issue the certificate in one apply, a Terraform duration. Default: 45m."""
    canonical_query: Mapping[str, Sequence[str]]
    """Query parameters the API accepts per catalog-read path pattern, from service/contract.json (S-05). No default."""
    origin_shield_region: str | None = None
    """AWS Region of Origin Shield in front of the ALB origin (docs/architecture.md says when it pays off); None: off. Default: None."""
    origin_https_name: str | None = None
    """Name the ALB answers HTTPS as (the app layer's origin certificate); None: HTTP to its DNS name. Default: None."""


class EdgeStack(LayerStack):
    """Producer of the public URL."""

    def __init__(self, scope: Construct, id: str, *, props: EdgeStackProps) -> None:
        super().__init__(scope, id, layer="edge", context=props.context)
        self.declare_inputs(props)
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
        certificate = None
        if props.domain_name is not None:
            certificate = ViewerCertificate(
                self,
                "certificate",
                props=CertificateProps(
                    naming=self.naming,
                    provider=self.provider_in(CLOUDFRONT_CERTIFICATE_REGION),
                    domain_name=props.domain_name,
                    hosted_zone_id=props.hosted_zone_id,
                    zone_name=props.zone_name,
                    validation_timeout=props.certificate_validation_timeout,
                ),
            )
        distribution = ApiDistribution(
            self,
            "cdn",
            props=ApiDistributionProps(
                naming=self.naming,
                origin_domain_name=props.origin_https_name or props.alb_dns_name,
                origin_https=props.origin_https_name is not None,
                origin_arn=props.alb_arn,
                log_bucket_domain_name=logs.bucket_domain_name,
                log_bucket_ready=logs.ready,
                price_class=props.price_class,
                web_acl_id=web_acl_arn,
                aliases=[props.domain_name] if props.domain_name else (),
                certificate_arn=certificate.certificate_arn if certificate else None,
                canonical_query=props.canonical_query,
                origin_shield_region=props.origin_shield_region,
            ),
        )
        if certificate is not None and certificate.zone_id is not None and props.domain_name is not None:
            AliasRecords(
                self,
                "alias-records",
                props=AliasRecordsProps(
                    zone_id=certificate.zone_id,
                    name=props.domain_name,
                    target_domain_name=distribution.domain_name,
                    target_zone_id=distribution.hosted_zone_id,
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
        if props.domain_name is not None:
            TerraformOutput(
                self, "api_url", value=f"https://{props.domain_name}", description="The API at its own name"
            )
            if props.hosted_zone_id is None:
                TerraformOutput(
                    self,
                    "alias_target",
                    value=distribution.domain_name,
                    description=f"Point {props.domain_name} here (CNAME, or an alias at the zone apex)",
                )
        self.url: str = distribution.url
        self.distribution_id: str = distribution.distribution_id
