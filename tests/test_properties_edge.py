"""Properties of the edge and of every bucket: WAF actions, response headers, TLS-only and ACL scope."""

from __future__ import annotations

import json
from typing import Any

from tests.synth import Json, Synthesis

# Managed rules that only count, each with the reason blocking would hurt legitimate traffic.
DOCUMENTED_COUNT_ONLY = {
    ("AWSManagedRulesCommonRuleSet", "SizeRestrictions_BODY"): "P-09: blocks every body over 8 KB",
    ("AWSManagedRulesAnonymousIpList", "HostingProviderIPList"): "shoppers behind cloud-hosted VPNs and proxies",
}


def test_waf_allows_by_default_and_managed_rule_groups_keep_their_own_actions(synth: Synthesis) -> None:
    acl = synth.one("edge", "aws_wafv2_web_acl")
    assert acl["default_action"] == {"allow": {}}, "a block default refuses every request no rule allows"
    counted = set()
    groups = [r for r in acl["rule"] if "managed_rule_group_statement" in r["statement"]]
    assert groups
    for rule in groups:
        # override_action none: each managed rule blocks as AWS wrote it; count would only log.
        assert rule["override_action"] == {"none": {}}, rule["name"]
        statement = rule["statement"]["managed_rule_group_statement"]
        for override in statement.get("rule_action_override", []):
            assert override["action_to_use"] == {"count": {}}, override
            counted.add((statement["name"], override["name"]))
    assert counted == set(DOCUMENTED_COUNT_ONLY)


def test_every_cache_behavior_sends_the_security_headers(synth: Synthesis) -> None:
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    policy = synth.ref("edge", "aws_cloudfront_response_headers_policy", "id")
    behaviors = [distribution["default_cache_behavior"], *distribution["ordered_cache_behavior"]]
    assert [b.get("response_headers_policy_id") for b in behaviors] == [policy] * len(behaviors)


def _bucket_policies(synth: Synthesis, bootstrap: Json) -> list[tuple[str, str, dict[str, Any]]]:
    """(stack, bucket name, policy document) for every bucket of the four layers and the bootstrap."""
    stacks = {**synth.stacks, "bootstrap": bootstrap}
    found = []
    for stack, doc in stacks.items():
        resources = doc.get("resource", {})
        policies = {p["bucket"]: json.loads(p["policy"]) for p in resources.get("aws_s3_bucket_policy", {}).values()}
        for name in resources.get("aws_s3_bucket", {}):
            found.append((stack, name, policies.get(f"${{aws_s3_bucket.{name}.id}}", {"Statement": []})))
    return found


def test_tls_only_policy_covers_every_bucket_and_its_objects(synth: Synthesis, bootstrap_stack: Json) -> None:
    buckets = _bucket_policies(synth, bootstrap_stack)
    assert len(buckets) == 3, "ALB logs, CloudFront logs, Terraform state"
    for stack, name, policy in buckets:
        arn = f"${{aws_s3_bucket.{name}.arn}}"
        denies = [
            s
            for s in policy["Statement"]
            if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        ]
        assert len(denies) == 1, f"{stack}/{name}: no TLS-only deny"
        (deny,) = denies
        assert (deny["Principal"], deny["Action"]) == ("*", "s3:*"), f"{stack}/{name}"
        resources = deny["Resource"] if isinstance(deny["Resource"], list) else [deny["Resource"]]
        assert {arn, f"{arn}/*"} <= set(resources), f"{stack}/{name}: the bucket and every object"


def test_bucket_acls_enabled_only_where_cloudfront_logs_need_them(synth: Synthesis) -> None:
    # CloudFront standard logs write through an ACL grant; everywhere else the owner owns every object.
    logging_bucket = synth.one("edge", "aws_cloudfront_distribution")["logging_config"]["bucket"]
    controls = [
        (stack, body) for stack, type_, _, body in synth.all_resources() if type_ == "aws_s3_bucket_ownership_controls"
    ]
    assert len(controls) == 2
    for stack, body in controls:
        needs_acls = logging_bucket == body["bucket"].replace(".id}", ".bucket_domain_name}")
        expected = "BucketOwnerPreferred" if needs_acls else "BucketOwnerEnforced"
        assert body["rule"]["object_ownership"] == expected, f"{stack}: {body['bucket']}"
