"""EdgeStack requirements: CloudFront and its log bucket; log bucket rules for every bucket."""

from __future__ import annotations

import json

from tests.synth import Synthesis

# AWS managed policy IDs (../shared/SPEC.md section 5).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def test_r10_managed_cache_policy_without_forwarded_values(synth: Synthesis) -> None:
    behavior = synth.one("edge", "aws_cloudfront_distribution")["default_cache_behavior"]
    assert behavior["cache_policy_id"] == CACHING_DISABLED
    assert "forwarded_values" not in behavior, "cache_policy_id with forwarded_values fails (F-3)"


def test_r10_origin_request_policy_forwards_query_and_headers(synth: Synthesis) -> None:
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    for behavior in [distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]:
        assert behavior["origin_request_policy_id"] == ALL_VIEWER_EXCEPT_HOST_HEADER
        assert "forwarded_values" not in behavior


def test_r10_https_redirect_and_all_methods(synth: Synthesis) -> None:
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    for behavior in [distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]:
        assert behavior["viewer_protocol_policy"] == "redirect-to-https"
        assert sorted(behavior["allowed_methods"]) == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]


def test_r10_origin_is_the_alb_from_app_stack(synth: Synthesis) -> None:
    origin = synth.one("edge", "aws_cloudfront_distribution")["origin"][0]
    assert origin["domain_name"].startswith("${data.terraform_remote_state.cross-stack-reference-input-app")
    assert "cross-stack-output-aws_lbalb_" in origin["domain_name"] and origin["domain_name"].endswith("dns_name}")
    # Through the VPC origin of the same ALB (P-05), over HTTP on the private path.
    (endpoint,) = synth.one("edge", "aws_cloudfront_vpc_origin")["vpc_origin_endpoint_config"]
    assert endpoint["arn"].replace("arn}", "") == origin["domain_name"].replace("dns_name}", "")
    assert endpoint["origin_protocol_policy"] == "http-only"
    assert origin["vpc_origin_config"]["vpc_origin_id"] == synth.ref("edge", "aws_cloudfront_vpc_origin", "id")


def test_r12_cloudfront_access_logs_to_acl_enabled_bucket(synth: Synthesis) -> None:
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    logging = distribution["logging_config"]
    assert (
        logging["bucket"].startswith("${aws_s3_bucket.cdn-logs_bucket_") and "bucket_domain_name" in logging["bucket"]
    )
    ownership = synth.one("edge", "aws_s3_bucket_ownership_controls")
    assert ownership["rule"]["object_ownership"] == "BucketOwnerPreferred", "standard logs need ACLs"
    assert any("aws_s3_bucket_ownership_controls" in d for d in distribution["depends_on"])


def _buckets(synth: Synthesis) -> list[tuple[str, str]]:
    return [(stack, name) for stack, type_, name, _ in synth.all_resources() if type_ == "aws_s3_bucket"]


def _for_bucket(synth: Synthesis, stack: str, type_: str, bucket: str) -> dict[str, object]:
    ref = f"${{aws_s3_bucket.{bucket}.id}}"
    found = [b for b in synth.resources(stack, type_).values() if b["bucket"] == ref]
    assert len(found) == 1, f"{stack}/{bucket}: expected one {type_}"
    return found[0]


def test_r13_every_log_bucket_expires_after_30_days_with_scoped_rules(synth: Synthesis) -> None:
    buckets = _buckets(synth)
    assert len(buckets) == 2, "one ALB log bucket (app) and one CloudFront log bucket (edge)"
    for stack, bucket in buckets:
        lifecycle = _for_bucket(synth, stack, "aws_s3_bucket_lifecycle_configuration", bucket)
        rules = lifecycle["rule"]
        assert isinstance(rules, list) and rules
        for rule in rules:
            assert rule["status"] == "Enabled"
            assert rule.get("filter") or "prefix" in rule, "unscoped lifecycle rule (F-5)"
            assert rule["expiration"][0]["days"] == 30


def test_r13_every_bucket_blocks_public_access(synth: Synthesis) -> None:
    for stack, bucket in _buckets(synth):
        block = _for_bucket(synth, stack, "aws_s3_bucket_public_access_block", bucket)
        for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"):
            assert block[flag] is True, f"{bucket}.{flag}"


def test_r13_every_bucket_encrypted_with_sse_s3(synth: Synthesis) -> None:
    for stack, bucket in _buckets(synth):
        encryption = _for_bucket(synth, stack, "aws_s3_bucket_server_side_encryption_configuration", bucket)
        rule = encryption["rule"][0]  # type: ignore[index]
        assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "AES256"


def test_r13_every_bucket_force_destroy_and_tls_only(synth: Synthesis) -> None:
    for stack, bucket in _buckets(synth):
        assert synth.resources(stack, "aws_s3_bucket")[bucket]["force_destroy"] is True
        policy = json.loads(str(_for_bucket(synth, stack, "aws_s3_bucket_policy", bucket)["policy"]))
        deny = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
        assert deny and deny[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_waf_web_acl_on_cloudfront_in_us_east_1(synth: Synthesis) -> None:
    acl = synth.one("edge", "aws_wafv2_web_acl")
    assert acl["scope"] == "CLOUDFRONT"
    assert acl["provider"] == "aws.us-east-1"
    aliases = {p.get("alias"): p["region"] for p in synth.stacks["edge"]["provider"]["aws"]}
    assert aliases == {None: "eu-north-1", "us-east-1": "us-east-1"}
    groups = {
        r["statement"]["managed_rule_group_statement"]["name"]
        for r in acl["rule"]
        if "managed_rule_group_statement" in r["statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= groups
    (rate,) = [r for r in acl["rule"] if r["name"] == "rate-limit-per-ip"]
    assert rate["statement"]["rate_based_statement"] == {"aggregate_key_type": "IP", "limit": 2000}
    assert "block" in rate["action"]
    assert len({r["priority"] for r in acl["rule"]}) == len(acl["rule"]), "rule priorities are unique"
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    assert distribution["web_acl_id"] == synth.ref("edge", "aws_wafv2_web_acl", "arn")
    logging = synth.one("edge", "aws_wafv2_web_acl_logging_configuration")
    group = next(
        g for g in synth.resources("edge", "aws_cloudwatch_log_group").values() if g["name"].startswith("aws-waf-logs-")
    )
    assert group["provider"] == "aws.us-east-1" and logging["provider"] == "aws.us-east-1"


def test_waf_switch_off_removes_it(variant_synth: Synthesis) -> None:
    without = variant_synth  # WAF_ENABLED=false
    assert "aws_wafv2_web_acl" not in without.stacks["edge"]["resource"]
    assert "web_acl_id" not in without.one("edge", "aws_cloudfront_distribution")
    assert len(without.stacks["edge"]["provider"]["aws"]) == 1


def test_security_headers_policy_attached(synth: Synthesis) -> None:
    policy = synth.one("edge", "aws_cloudfront_response_headers_policy")
    headers = policy["security_headers_config"]
    hsts = headers["strict_transport_security"]
    assert hsts["access_control_max_age_sec"] >= 31536000 and hsts["include_subdomains"] and hsts["override"]
    assert headers["content_type_options"]["override"] is True
    assert headers["frame_options"]["frame_option"] == "DENY"
    behavior = synth.one("edge", "aws_cloudfront_distribution")["default_cache_behavior"]
    assert behavior["response_headers_policy_id"] == synth.ref("edge", "aws_cloudfront_response_headers_policy", "id")


def test_log_buckets_abort_incomplete_uploads(synth: Synthesis) -> None:
    for stack, bucket in _buckets(synth):
        rules = _for_bucket(synth, stack, "aws_s3_bucket_lifecycle_configuration", bucket)["rule"]
        assert all(r["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 1 for r in rules)  # type: ignore[attr-defined]


def test_r20_edge_apply_does_not_wait_for_global_propagation(synth: Synthesis) -> None:
    assert synth.one("edge", "aws_cloudfront_distribution")["wait_for_deployment"] is False


def test_s05_searches_are_rate_limited_per_ip_at_the_edge(synth: Synthesis) -> None:
    # The API refuses searches beyond half its read pool at once; without this, a few searches a
    # second from one client kept every slot and everyone else's searches answered 503.
    acl = synth.one("edge", "aws_wafv2_web_acl")
    (rule,) = [r for r in acl["rule"] if r["name"] == "rate-limit-searches-per-ip"]
    assert "block" in rule["action"]
    statement = rule["statement"]["rate_based_statement"]
    assert (statement["aggregate_key_type"], statement["limit"]) == ("IP", 300)
    match = statement["scope_down_statement"]["byte_match_statement"]
    assert (match["field_to_match"], match["positional_constraint"], match["search_string"]) == (
        {"query_string": {}},
        "CONTAINS",
        "q=",
    )
    # Percent-encoded names count too: the edge function and the API decode them.
    assert match["text_transformation"] == [{"priority": 0, "type": "URL_DECODE"}]
