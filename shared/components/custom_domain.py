"""The API at its own host name: an ACM certificate for CloudFront and the DNS records (S-07)."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import Postcondition, TerraformOutput, TerraformProvider, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.acm_certificate import AcmCertificate
from cdktf_cdktf_provider_aws.acm_certificate_validation import (
    AcmCertificateValidation,
    AcmCertificateValidationTimeouts,
)
from cdktf_cdktf_provider_aws.data_aws_route53_zone import DataAwsRoute53Zone
from cdktf_cdktf_provider_aws.route53_record import Route53Record, Route53RecordAlias
from constructs import Construct

from shared.naming import Naming

# CloudFront uses certificates from ACM only in US East (N. Virginia) ("Requirements for using
# SSL/TLS certificates with CloudFront", CloudFront developer guide, read 2026-11-29).
CLOUDFRONT_CERTIFICATE_REGION = "us-east-1"


@dataclass(frozen=True, kw_only=True)
class CertificateProps:
    """Inputs of a ``ViewerCertificate``."""

    naming: Naming
    """Naming helper for the certificate's Name tag."""
    provider: TerraformProvider | None
    """AWS provider of the certificate's region: us-east-1 for CloudFront; None: the layer's own region (an ALB's)."""
    domain_name: str
    """Host name the certificate covers, e.g. api.shop.example."""
    hosted_zone_id: str | None = None
    """Route 53 zone for the validation record; None: the record is an output for the DNS provider. Default: None."""
    zone_name: str | None = None
    """Name the zone must have (checked at plan time against Route 53); set with hosted_zone_id. Default: None."""
    validation_timeout: str = "45m"
    """How long an apply waits for ACM to issue the certificate, a Terraform duration. Default: 45m."""
    name_kind: str = "api-certificate"
    """Kind in the certificate's Name tag. Default: api-certificate."""


class ViewerCertificate(Construct):
    """A DNS-validated ACM certificate: in us-east-1 for the distribution's alias, or in the
    layer's region for the ALB's own name (the origin CloudFront connects to over HTTPS).

    With a zone, the validation record goes there and the apply waits until ACM has issued the
    certificate. Without one, the record is an output (certificate_validation_record) to create
    at the DNS provider; the apply waits up to ``validation_timeout`` and then stops with
    Terraform's timeout error, and the next apply waits again (docs/deployment.md).
    """

    def __init__(self, scope: Construct, id: str, *, props: CertificateProps) -> None:
        super().__init__(scope, id)
        self.zone_id: str | None = None
        if props.hosted_zone_id is not None:
            # The zone's name is not part of its id: the file states it, and this read fails the
            # plan when the id names another zone or a private one.
            zone_name = props.zone_name or props.domain_name
            zone = DataAwsRoute53Zone(
                self,
                "zone",
                zone_id=props.hosted_zone_id,
                lifecycle=TerraformResourceLifecycle(
                    postcondition=[
                        Postcondition(
                            condition=f'${{trimsuffix(self.name, ".") == "{zone_name}" && !self.private_zone}}',
                            error_message=(
                                f"[domain] hosted_zone_id {props.hosted_zone_id} is not the public hosted zone "
                                f"{zone_name} (domain.zone_name): give the id of that zone"
                            ),
                        )
                    ]
                ),
            )
            self.zone_id = zone.zone_id
        certificate = AcmCertificate(
            self,
            "certificate",
            provider=props.provider,
            domain_name=props.domain_name,
            validation_method="DNS",
            key_algorithm="RSA_2048",
            tags={"Name": props.naming.name(props.name_kind)},
            # A changed name replaces the certificate; the distribution moves to the new one first.
            lifecycle=TerraformResourceLifecycle(create_before_destroy=True),
        )
        # One name, so one validation option. domain_validation_options is a set: tolist to index it.
        option = f"tolist({certificate.fqn}.domain_validation_options)[0]"
        record_name = f"${{{option}.resource_record_name}}"
        record_type = f"${{{option}.resource_record_type}}"
        record_value = f"${{{option}.resource_record_value}}"
        fqdns: list[str] | None = None
        if self.zone_id is not None:
            record = Route53Record(
                self,
                "validation-record",
                zone_id=self.zone_id,
                name=record_name,
                type=record_type,
                records=[record_value],
                ttl=300,
                # A record left by an earlier certificate for the same name has the same value.
                allow_overwrite=True,
            )
            fqdns = [record.fqdn]
        else:
            TerraformOutput(
                self,
                "validation-record",
                value={"name": record_name, "type": record_type, "value": record_value},
                description="DNS record to create at the DNS provider so ACM issues the certificate",
            ).override_logical_id("certificate_validation_record")
        validation = AcmCertificateValidation(
            self,
            "validation",
            provider=props.provider,
            certificate_arn=certificate.arn,
            validation_record_fqdns=fqdns,
            timeouts=AcmCertificateValidationTimeouts(create=props.validation_timeout),
        )
        self.certificate_arn: str = validation.certificate_arn


@dataclass(frozen=True, kw_only=True)
class AliasRecordsProps:
    """Inputs of ``AliasRecords``."""

    zone_id: str
    """Route 53 hosted zone holding the name."""
    name: str
    """Host name, e.g. api.shop.example."""
    target_domain_name: str
    """The target's own name: the distribution's *.cloudfront.net name, or the ALB's DNS name."""
    target_zone_id: str
    """The target's hosted zone id (CloudFront's fixed Z2FDTNDATAQYW2, or the ALB's zone_id)."""
    record_types: tuple[str, ...] = ("A", "AAAA")
    """Alias record types: A and AAAA for a dual-stack target, A alone for an IPv4 ALB. Default: A and AAAA."""


class AliasRecords(Construct):
    """Alias records from a name to an AWS target: A and AAAA to the distribution (IPv4 and IPv6 viewers), A to the ALB."""

    def __init__(self, scope: Construct, id: str, *, props: AliasRecordsProps) -> None:
        super().__init__(scope, id)
        for record_type in props.record_types:
            Route53Record(
                self,
                record_type.lower(),
                zone_id=props.zone_id,
                name=props.name,
                type=record_type,
                alias=Route53RecordAlias(
                    name=props.target_domain_name,
                    zone_id=props.target_zone_id,
                    evaluate_target_health=False,
                ),
            )
