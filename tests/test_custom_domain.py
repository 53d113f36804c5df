"""S-07: the API at its own host name, with a DNS-validated certificate and TLS at the edge."""

from __future__ import annotations

from shared.components.custom_domain import CLOUDFRONT_CERTIFICATE_REGION
from tests.synth import Json, Synthesis

NAME = "api.shop.example"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
# CloudFront's viewer security policies that allow neither TLS 1.1 nor CBC ciphers ("Supported
# protocols and ciphers between viewers and CloudFront", developer guide, read 2026-11-29).
MODERN_VIEWER_POLICIES = {"TLSv1.2_2021", "TLSv1.2_2025", "TLSv1.3_2025"}


def _distribution(synthesis: Synthesis) -> Json:
    return synthesis.one("edge", "aws_cloudfront_distribution")


def _records(synthesis: Synthesis) -> dict[str, Json]:
    return synthesis.resources("edge", "aws_route53_record")


def test_s07_without_a_domain_nothing_changes(synth: Synthesis) -> None:
    for type_ in ("aws_acm_certificate", "aws_acm_certificate_validation", "aws_route53_record"):
        assert not synth.resources("edge", type_), type_
    assert not synth.data_sources("edge", "aws_route53_zone")
    distribution = _distribution(synth)
    assert "aliases" not in distribution
    assert distribution["viewer_certificate"] == {"cloudfront_default_certificate": True}
    assert "api_url" not in synth.stacks["edge"].get("output", {})


def test_s07_certificate_is_in_us_east_1_and_validated_by_dns(domain_synth: Synthesis) -> None:
    certificate = domain_synth.one("edge", "aws_acm_certificate")
    assert certificate["domain_name"] == NAME and certificate["validation_method"] == "DNS"
    assert certificate["lifecycle"]["create_before_destroy"] is True
    providers = {
        f"aws.{provider['alias']}": provider["region"]
        for provider in domain_synth.stacks["edge"]["provider"]["aws"]
        if "alias" in provider
    }
    assert providers[certificate["provider"]] == CLOUDFRONT_CERTIFICATE_REGION == "us-east-1"
    validation = domain_synth.one("edge", "aws_acm_certificate_validation")
    assert validation["provider"] == certificate["provider"]
    assert validation["certificate_arn"] == domain_synth.ref("edge", "aws_acm_certificate", "arn")
    assert validation["timeouts"]["create"] == "45m"


def test_s07_validation_record_is_created_in_the_zone(domain_synth: Synthesis) -> None:
    zone = domain_synth.ref_data("edge", "aws_route53_zone", "zone_id")
    option = f"tolist({domain_synth.ref('edge', 'aws_acm_certificate', 'arn')[2:-5]}.domain_validation_options)[0]"
    (name, record) = next(
        (name, record) for name, record in _records(domain_synth).items() if "resource_record_name" in record["name"]
    )
    assert record["zone_id"] == zone
    assert record["name"] == f"${{{option}.resource_record_name}}"
    assert record["type"] == f"${{{option}.resource_record_type}}"
    assert record["records"] == [f"${{{option}.resource_record_value}}"]
    validation = domain_synth.one("edge", "aws_acm_certificate_validation")
    assert validation["validation_record_fqdns"] == [f"${{aws_route53_record.{name}.fqdn}}"]


def test_s07_zone_id_is_checked_against_the_zone_name_at_plan_time(domain_synth: Synthesis) -> None:
    (zone,) = domain_synth.data_sources("edge", "aws_route53_zone").values()
    assert zone["zone_id"] == ZONE_ID
    (condition,) = zone["lifecycle"]["postcondition"]
    assert '== "shop.example"' in condition["condition"] and "!self.private_zone" in condition["condition"]
    assert "\n" not in condition["error_message"] and "shop.example" in condition["error_message"]


def test_s07_distribution_serves_the_name_with_the_certificate_and_tls12_2021(domain_synth: Synthesis) -> None:
    distribution = _distribution(domain_synth)
    assert distribution["aliases"] == [NAME]
    certificate = distribution["viewer_certificate"]
    # The validation's ARN, not the certificate's: the distribution waits until ACM has issued it.
    assert certificate["acm_certificate_arn"] == domain_synth.ref(
        "edge", "aws_acm_certificate_validation", "certificate_arn"
    )
    assert certificate["ssl_support_method"] == "sni-only"
    assert certificate["minimum_protocol_version"] in MODERN_VIEWER_POLICIES
    assert "cloudfront_default_certificate" not in certificate
    assert domain_synth.stacks["edge"]["output"]["api_url"]["value"] == f"https://{NAME}"


def test_s07_hsts_on_every_response_at_the_custom_domain(domain_synth: Synthesis) -> None:
    distribution = _distribution(domain_synth)
    policy_ref = domain_synth.ref("edge", "aws_cloudfront_response_headers_policy", "id")
    behaviors = [distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]
    assert all(behavior["response_headers_policy_id"] == policy_ref for behavior in behaviors)
    assert all(behavior["viewer_protocol_policy"] == "redirect-to-https" for behavior in behaviors)
    hsts = domain_synth.one("edge", "aws_cloudfront_response_headers_policy")["security_headers_config"][
        "strict_transport_security"
    ]
    assert hsts["access_control_max_age_sec"] >= 31536000 and hsts["override"] is True
    assert distribution["aliases"] == [NAME]


def test_s07_a_and_aaaa_alias_records_point_at_the_distribution(domain_synth: Synthesis) -> None:
    zone = domain_synth.ref_data("edge", "aws_route53_zone", "zone_id")
    aliases = {record["type"]: record for record in _records(domain_synth).values() if "alias" in record}
    assert set(aliases) == {"A", "AAAA"}
    for record in aliases.values():
        assert record["name"] == NAME and record["zone_id"] == zone
        assert record["alias"] == {
            "name": domain_synth.ref("edge", "aws_cloudfront_distribution", "domain_name"),
            "zone_id": domain_synth.ref("edge", "aws_cloudfront_distribution", "hosted_zone_id"),
            "evaluate_target_health": False,
        }


def test_s07_without_a_zone_the_records_to_create_are_outputs(unzoned_domain_synth: Synthesis) -> None:
    synthesis = unzoned_domain_synth
    assert not _records(synthesis) and not synthesis.data_sources("edge", "aws_route53_zone")
    outputs = synthesis.stacks["edge"]["output"]
    record = outputs["certificate_validation_record"]["value"]
    assert set(record) == {"name", "type", "value"}
    assert all("domain_validation_options" in value for value in record.values())
    assert outputs["alias_target"]["value"] == synthesis.ref("edge", "aws_cloudfront_distribution", "domain_name")
    validation = synthesis.one("edge", "aws_acm_certificate_validation")
    # No record FQDNs: the validation waits for ACM to see the record created elsewhere, up to the timeout.
    assert "validation_record_fqdns" not in validation and validation["timeouts"]["create"]
    # WAF off: the us-east-1 provider exists for the certificate alone.
    assert synthesis.one("edge", "aws_acm_certificate")["provider"] == "aws.us-east-1"
    assert _distribution(synthesis)["aliases"] == ["api.catalog.example.org"]
