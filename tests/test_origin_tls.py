"""S-07 item 2: with a domain in a zone, CloudFront reaches the ALB over HTTPS and checks its certificate.

CloudFront validates an HTTPS origin's certificate against the origin's domain name ("Require
HTTPS for communication between CloudFront and your custom origin", CloudFront developer guide,
read 2026-11-29), and the ALB's own *.elb.amazonaws.com name cannot get a certificate: the ALB
answers as origin.<name> in the API's zone, with an ACM certificate in its own region.
"""

from __future__ import annotations

import json

from tests.synth import Json, Synthesis

ORIGIN = "origin.api.shop.example"
ZONE_ID = "Z0123456789ABCDEFGHIJ"
# TLS 1.3 and 1.2 with AEAD ciphers only, AWS's recommended policy for HTTPS listeners
# ("Security policies for your Application Load Balancer", ELB user guide, read 2026-11-29).
LISTENER_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def _listeners(synthesis: Synthesis) -> dict[str, Json]:
    return synthesis.resources("app", "aws_lb_listener")


def _vpc_origin_endpoint(synthesis: Synthesis) -> Json:
    (endpoint,) = synthesis.one("edge", "aws_cloudfront_vpc_origin")["vpc_origin_endpoint_config"]
    result: Json = endpoint
    return result


def test_s07_origin_certificate_is_in_the_albs_region_and_validated_in_the_zone(domain_synth: Synthesis) -> None:
    certificate = domain_synth.one("app", "aws_acm_certificate")
    assert certificate["domain_name"] == ORIGIN and certificate["validation_method"] == "DNS"
    # No provider alias: the layer's own region, the ALB's (an ALB serves only certificates
    # from its region; CloudFront's us-east-1 certificate could not be attached).
    assert "provider" not in certificate
    (zone,) = domain_synth.data_sources("app", "aws_route53_zone").values()
    assert zone["zone_id"] == ZONE_ID
    assert "shop.example" in zone["lifecycle"]["postcondition"][0]["condition"]
    validation = domain_synth.one("app", "aws_acm_certificate_validation")
    assert validation["certificate_arn"] == domain_synth.ref("app", "aws_acm_certificate", "arn")
    (fqdn,) = validation["validation_record_fqdns"]
    (record_name,) = [
        name
        for name, body in domain_synth.resources("app", "aws_route53_record").items()
        if "domain_validation_options" in str(body.get("records"))
    ]
    assert fqdn == f"${{aws_route53_record.{record_name}.fqdn}}"


def test_s07_alb_listeners_are_https_with_the_origin_certificate_and_a_tls13_policy(domain_synth: Synthesis) -> None:
    certificate = domain_synth.ref("app", "aws_acm_certificate_validation", "certificate_arn")
    listeners = _listeners(domain_synth)
    # The production listener and the release's test listener alike.
    assert len(listeners) == 2
    for listener in listeners.values():
        assert (listener["protocol"], listener["ssl_policy"], listener["certificate_arn"]) == (
            "HTTPS",
            LISTENER_POLICY,
            certificate,
        )
    assert domain_synth.production_listener()["port"] == 443
    (ingress,) = [
        rule
        for rule in domain_synth.resources("app", "aws_vpc_security_group_ingress_rule").values()
        if "prefix_list_id" in rule
    ]
    assert (ingress["from_port"], ingress["to_port"]) == (443, 443), "CloudFront reaches the HTTPS port only"


def test_s07_cloudfront_reaches_the_alb_over_https_by_the_name_its_certificate_covers(
    domain_synth: Synthesis,
) -> None:
    endpoint = _vpc_origin_endpoint(domain_synth)
    assert (endpoint["origin_protocol_policy"], endpoint["https_port"]) == ("https-only", 443)
    assert endpoint["origin_ssl_protocols"] == [{"items": ["TLSv1.2"], "quantity": 1}]
    (origin,) = domain_synth.one("edge", "aws_cloudfront_distribution")["origin"]
    assert origin["domain_name"] == domain_synth.one("app", "aws_acm_certificate")["domain_name"] == ORIGIN
    # A changed protocol replaces the VPC origin (AWS refuses updates to an origin in use).
    (trigger,) = domain_synth.resources("edge", "terraform_data").values()
    assert trigger["triggers_replace"]["origin_protocol_policy"] == "https-only"


def test_s07_origin_name_is_an_alias_of_the_alb_in_the_zone(domain_synth: Synthesis) -> None:
    (record,) = [r for r in domain_synth.resources("app", "aws_route53_record").values() if r.get("name") == ORIGIN]
    assert record["type"] == "A"
    assert record["zone_id"] == domain_synth.ref_data("app", "aws_route53_zone", "zone_id")
    assert record["alias"] == {
        "name": domain_synth.ref("app", "aws_lb", "dns_name"),
        "zone_id": domain_synth.ref("app", "aws_lb", "zone_id"),
        "evaluate_target_health": False,
    }


def test_s07_without_a_zone_cloudfront_reaches_the_alb_over_http_on_its_own_name(
    synth: Synthesis, unzoned_domain_synth: Synthesis
) -> None:
    for synthesis in (synth, unzoned_domain_synth):
        assert not synthesis.resources("app", "aws_acm_certificate")
        for listener in _listeners(synthesis).values():
            assert listener["protocol"] == "HTTP" and "certificate_arn" not in listener
        assert synthesis.production_listener()["port"] == 80
        assert _vpc_origin_endpoint(synthesis)["origin_protocol_policy"] == "http-only"
        (origin,) = synthesis.one("edge", "aws_cloudfront_distribution")["origin"]
        assert "cross-stack-output-aws_lbalb" in origin["domain_name"] and "dns_name" in origin["domain_name"]


def test_s07_the_alb_security_group_is_not_replaced_when_https_is_turned_on(
    synth: Synthesis, domain_synth: Synthesis
) -> None:
    # A changed description replaces a security group, and an ALB holding it blocks the delete.
    before, after = (json.dumps(s.one("app", "aws_security_group")) for s in (synth, domain_synth))
    assert before == after
