"""WAF web ACL for CloudFront: AWS managed rule groups and a per-IP rate limit."""

from __future__ import annotations

from dataclasses import dataclass

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclDefaultActionAllow,
    Wafv2WebAclRule,
    Wafv2WebAclRuleAction,
    Wafv2WebAclRuleActionBlock,
    Wafv2WebAclRuleOverrideAction,
    Wafv2WebAclRuleOverrideActionNone,
    Wafv2WebAclRuleVisibilityConfig,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from shared.naming import Naming

# AWS managed rule groups: common web exploits (OWASP-style), known bad inputs
# (Log4j / Log4Shell patterns among them) and anonymising proxies such as Tor.
MANAGED_RULE_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAnonymousIpList",
)
# Rules inside a group that only count. HostingProviderIPList: shoppers behind cloud-hosted
# VPNs and corporate proxies come from hosting-provider ranges. SizeRestrictions_BODY: it
# blocks every body over 8 KB, legitimate catalog writes included (P-09); the body limit
# is the rule below instead.
COUNT_ONLY = {
    "AWSManagedRulesAnonymousIpList": ("HostingProviderIPList",),
    "AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",),
}
# CloudFront web ACLs inspect the first 16 KB of a body by default ("For CloudFront … the default
# limit is 16 KB", AWS WAF API reference, Body, https://docs.aws.amazon.com/waf/latest/APIReference/API_Body.html,
# read 2026-11-23); the managed rules never see the rest. Bodies over that are blocked outright
# rather than passed half-inspected.
BODY_INSPECTION_LIMIT_BYTES = 16 * 1024


@dataclass(frozen=True, kw_only=True)
class CloudFrontWebAclProps:
    """Inputs of a ``CloudFrontWebAcl``."""

    naming: Naming
    """Naming helper for the ACL, metrics and log group."""
    provider: TerraformProvider
    """AWS provider for us-east-1: CLOUDFRONT-scope web ACLs exist only there."""
    rate_limit_per_ip: int = 2000
    """Requests per IP per 5-minute window before it is blocked. Default: 2000."""
    search_rate_limit_per_ip: int = 300
    """Searches (`q=` in the query) per IP per 5-minute window before that IP's searches are blocked. Default: 300."""
    max_body_bytes: int = BODY_INSPECTION_LIMIT_BYTES
    """Largest request body let through, at most what WAF inspects (P-09). Default: 16384 bytes."""
    log_retention_days: int = 30
    """Days WAF logs are kept. Default: 30 days."""


class CloudFrontWebAcl(Construct):
    """A CLOUDFRONT-scope web ACL that allows by default and blocks what the rules match."""

    def __init__(self, scope: Construct, id: str, *, props: CloudFrontWebAclProps) -> None:
        super().__init__(scope, id)
        if not 8 * 1024 < props.max_body_bytes <= BODY_INSPECTION_LIMIT_BYTES:
            raise ValueError(
                f"max_body_bytes={props.max_body_bytes} is not allowed: over 8192 (P-09) and at most "
                f"{BODY_INSPECTION_LIMIT_BYTES}, the body size WAF inspects for CloudFront"
            )
        naming = props.naming
        metric = naming.name("waf").replace("-", "_")

        def visibility(name: str) -> Wafv2WebAclRuleVisibilityConfig:
            return Wafv2WebAclRuleVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=f"{metric}_{name}", sampled_requests_enabled=True
            )

        def managed(group: str) -> dict[str, object]:
            statement: dict[str, object] = {"name": group, "vendor_name": "AWS"}
            if group in COUNT_ONLY:
                statement["rule_action_override"] = [
                    {"name": rule, "action_to_use": {"count": {}}} for rule in COUNT_ONLY[group]
                ]
            return {"managed_rule_group_statement": statement}

        rules = [
            Wafv2WebAclRule(
                name=group,
                priority=index,
                override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),
                statement=managed(group),
                visibility_config=visibility(group),
            )
            for index, group in enumerate(MANAGED_RULE_GROUPS)
        ]
        rules.append(
            Wafv2WebAclRule(
                name="body-over-inspection-limit",
                priority=len(rules),
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "size_constraint_statement": {
                        "comparison_operator": "GT",
                        "size": props.max_body_bytes,
                        "field_to_match": {"body": {"oversize_handling": "MATCH"}},
                        "text_transformation": [{"priority": 0, "type": "NONE"}],
                    }
                },
                visibility_config=visibility("body_size"),
            )
        )
        rules.append(
            Wafv2WebAclRule(
                name="rate-limit-per-ip",
                priority=len(rules),
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={"rate_based_statement": {"limit": props.rate_limit_per_ip, "aggregate_key_type": "IP"}},
                visibility_config=visibility("rate_limit"),
            )
        )
        # A search is the one read the edge rarely answers (each text is its own cache key) and
        # the API caps per task (half its read pool, then 503 at once): a few searches a second
        # from one client held every slot and shut everyone else out of search. One a second on
        # average per IP is far above what a shopper types. AWS WAF's lowest rate limit is 10
        # ("Rate-based rule high-level settings", AWS WAF developer guide, read 2026-11-29).
        if props.search_rate_limit_per_ip < 10:
            raise ValueError(
                f"search_rate_limit_per_ip={props.search_rate_limit_per_ip} is not allowed: at least 10, WAF's lowest limit"
            )
        rules.append(
            Wafv2WebAclRule(
                name="rate-limit-searches-per-ip",
                priority=len(rules),
                action=Wafv2WebAclRuleAction(block=Wafv2WebAclRuleActionBlock()),
                statement={
                    "rate_based_statement": {
                        "limit": props.search_rate_limit_per_ip,
                        "aggregate_key_type": "IP",
                        # Decoded first: the edge function (and the API) read `%71=` as `q=`.
                        "scope_down_statement": {
                            "byte_match_statement": {
                                "search_string": "q=",
                                "positional_constraint": "CONTAINS",
                                "field_to_match": {"query_string": {}},
                                "text_transformation": [{"priority": 0, "type": "URL_DECODE"}],
                            }
                        },
                    }
                },
                visibility_config=visibility("search_rate_limit"),
            )
        )
        acl = Wafv2WebAcl(
            self,
            "acl",
            provider=props.provider,
            name=naming.name("waf"),
            scope="CLOUDFRONT",
            default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),
            rule=rules,
            visibility_config=Wafv2WebAclVisibilityConfig(
                cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
            ),
        )
        # WAF requires the log group name to start with aws-waf-logs- and to live in the ACL's region.
        logs = CloudwatchLogGroup(
            self,
            "logs",
            provider=props.provider,
            name=f"aws-waf-logs-{naming.name('cdn')}",
            retention_in_days=props.log_retention_days,
        )
        Wafv2WebAclLoggingConfiguration(
            self,
            "logging",
            provider=props.provider,
            resource_arn=acl.arn,
            log_destination_configs=[logs.arn],
            # WAF logs carry request headers: the admin bearer token must never reach them.
            redacted_fields=[
                Wafv2WebAclLoggingConfigurationRedactedFields(
                    single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(name=header)
                )
                for header in ("authorization", "cookie")
            ],
        )
        self.arn: str = acl.arn
