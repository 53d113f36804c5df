"""CloudFront in front of the internal ALB through a VPC origin (R-10, R-12, P-05)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf import DataResource, ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionCustomErrorResponse,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation,
    CloudfrontDistributionLoggingConfig,
    CloudfrontDistributionOrderedCacheBehavior,
    CloudfrontDistributionOrderedCacheBehaviorFunctionAssociation,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionOriginOriginShield,
    CloudfrontDistributionOriginVpcOriginConfig,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.cloudfront_function import CloudfrontFunction
from cdktf_cdktf_provider_aws.cloudfront_response_headers_policy import (
    CloudfrontResponseHeadersPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfig,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy,
    CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity,
)
from cdktf_cdktf_provider_aws.cloudfront_vpc_origin import (
    CloudfrontVpcOrigin,
    CloudfrontVpcOriginTimeouts,
    CloudfrontVpcOriginVpcOriginEndpointConfig,
    CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols,
)
from constructs import Construct

from shared.naming import Naming

# AWS managed policy IDs, fixed across accounts:
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
# Caches for as long as the origin's Cache-Control says, all query strings in the cache key
# (same page as above, section UseOriginCacheControlHeaders-QueryStrings, read 2026-11-23).
# Its cache key also holds Host, which CloudFront then forwards: harmless for an ALB origin.
USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_METHODS = ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT"]
# Answers 404 at the edge without reaching the origin: a viewer-request function that returns
# a response object ends the request there (CloudFront Functions, "event structure" and
# "generate a response", cloudfront-js-2.0; developer guide read 2026-11-29). It runs on every
# behavior and judges the percent-decoded path: the origin (uvicorn) decodes `/re%61dy` to
# `/ready` before routing, while a cache behavior's path pattern may be matched against the
# path as sent, so the internal path patterns alone could be walked around.
#
# The same function puts catalog reads in canonical form (S-05). A viewer-request function runs
# "each time that CloudFront receives a request from a viewer, before checking to see whether
# the requested object is in the CloudFront cache" ("Determine function purpose",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/function-code-choose-purpose.html,
# read 2026-11-29), so the query string and cookies it hands back are the ones the cache key is
# made of. A behavior takes one function per event type, hence one function for both jobs. For a
# GET or HEAD of a path listed in the service's canonical_query (service/contract.json) it
#   - drops every cookie: the managed cache policy keys on all of them and the API reads none;
#   - answers 400 itself, as the API would, for a parameter the route does not accept or one
#     given twice: dropping it would turn a client's typo (`categroy=shoes`) into a cached,
#     unfiltered 200, and keeping it would give every misspelling its own cache key;
#   - otherwise rewrites the query string to the accepted names in alphabetical order, each
#     value exactly as the viewer sent it (the API refuses non-canonical values itself).
# Assigning a string to request.querystring is how AWS's own normalizing example does it
# ("Normalize query string parameters in a CloudFront Functions viewer request",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/example-function-normalize-query-string.html,
# read 2026-11-29). Writes are never cached and pass through untouched.
GUARD_FUNCTION = """var EXACT = %(exact)s;
var PREFIXES = %(prefixes)s;
var QUERY_EXACT = %(query_exact)s;
var QUERY_PREFIXES = %(query_prefixes)s;
function notFound() {
  return {
    statusCode: 404,
    statusDescription: 'Not Found',
    headers: {'content-type': {value: 'application/json'}, 'cache-control': {value: 'no-store'}},
    body: {encoding: 'text', data: '{"error":"not_found","message":"no such path"}'}
  };
}
function badRequest(message) {
  return {
    statusCode: 400,
    statusDescription: 'Bad Request',
    headers: {'content-type': {value: 'application/json'}, 'cache-control': {value: 'no-store'}},
    body: {encoding: 'text', data: JSON.stringify({error: 'bad_request', message: message})}
  };
}
function acceptedNames(path) {
  if (Object.prototype.hasOwnProperty.call(QUERY_EXACT, path)) {
    return QUERY_EXACT[path];
  }
  for (var i = 0; i < QUERY_PREFIXES.length; i++) {
    // Something after the prefix: `/products/` itself is no route of the API, which answers it 404.
    if (path.length > QUERY_PREFIXES[i][0].length && path.indexOf(QUERY_PREFIXES[i][0]) === 0) {
      return QUERY_PREFIXES[i][1];
    }
  }
  return null;
}
function canonical(request, names) {
  var given = request.querystring || {};
  var values = {};
  var unknown = 0;
  var repeated = 0;
  for (var raw in given) {
    var name = null;
    try {
      name = decodeURIComponent(raw);
    } catch (e) {
      name = null;
    }
    var many = given[raw].multiValue && given[raw].multiValue.length > 1;
    if (name === null || names.indexOf(name) === -1) {
      unknown++;
    } else if (many || Object.prototype.hasOwnProperty.call(values, name)) {
      repeated++;
    } else {
      values[name] = given[raw].value;
    }
  }
  if (unknown > 0) {
    return badRequest(unknown + ' unknown query parameter(s); allowed: ' + (names.length ? names.join(', ') : 'none'));
  }
  if (repeated > 0) {
    return badRequest(repeated + ' repeated query parameter(s); each may appear once');
  }
  var pairs = [];
  for (var i = 0; i < names.length; i++) {
    if (Object.prototype.hasOwnProperty.call(values, names[i])) {
      pairs.push(names[i] + '=' + values[names[i]]);
    }
  }
  request.querystring = pairs.join('&');
  request.cookies = {};
  return request;
}
function handler(event) {
  var request = event.request;
  var path;
  try {
    path = decodeURIComponent(request.uri);
  } catch (e) {
    return notFound();
  }
  if (EXACT.indexOf(path) !== -1) {
    return notFound();
  }
  for (var i = 0; i < PREFIXES.length; i++) {
    if (path.indexOf(PREFIXES[i]) === 0) {
      return notFound();
    }
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return request;
  }
  var names = acceptedNames(path);
  return names === null ? request : canonical(request, names);
}
"""


def _split_patterns(patterns: Sequence[str], what: str) -> tuple[list[str], list[str]]:
    """Cache-behavior path patterns as (exact paths, prefixes): ``/a`` is exact, ``/a/*`` a prefix; nothing else."""
    exact = [p for p in patterns if "*" not in p]
    prefixes = [p[:-1] for p in patterns if p.endswith("/*") and "*" not in p[:-1]]
    if len(exact) + len(prefixes) != len(patterns) or not all(p.startswith("/") for p in patterns):
        raise ValueError(f"{what} {list(patterns)} is not allowed: '/path' or '/path/*' patterns only")
    return exact, prefixes


def guard_function(internal_paths: Sequence[str], canonical_query: Mapping[str, Sequence[str]] | None = None) -> str:
    """The guard's code: 404 for ``internal_paths``; canonical queries for the patterns in ``canonical_query``."""
    exact, prefixes = _split_patterns(internal_paths, "internal_paths")
    routes = dict(canonical_query or {})
    query_exact, query_prefixes = _split_patterns(list(routes), "canonical_query paths")
    # Sorted here once: the function's alphabetical order is the cache key's parameter order.
    return GUARD_FUNCTION % {
        "exact": json.dumps(exact),
        "prefixes": json.dumps(prefixes),
        "query_exact": json.dumps({path: sorted(routes[path]) for path in query_exact}),
        "query_prefixes": json.dumps([[prefix, sorted(routes[prefix + "*"])] for prefix in query_prefixes]),
    }


# The origin's server errors CloudFront may otherwise keep for 10 s (the default error
# caching minimum TTL, "How CloudFront processes HTTP 4xx and 5xx status codes from your
# origin", developer guide read 2026-11-29): a 503 during a database outage must reach every
# viewer only while it lasts. 400 too: the API's own 400s are no-store, but the HTTP server's
# answer to a request it cannot parse (a control character in a header, say) carries no
# Cache-Control, and a header outside the cache key must not make one URL a 400 for everyone.
UNCACHED_ERROR_CODES = (400, 500, 502, 503, 504)


@dataclass(frozen=True, kw_only=True)
class ApiDistributionProps:
    """Inputs of an ``ApiDistribution``."""

    naming: Naming
    """Naming helper for the comment and origin id."""
    origin_domain_name: str
    """Name CloudFront sends requests to: the ALB's DNS name, or with origin_https the name its certificate covers."""
    origin_https: bool = False
    """Reach the ALB over HTTPS, checking its certificate against origin_domain_name; False: HTTP on the private VPC-origin path. Default: False."""
    origin_arn: str
    """ARN of the internal ALB, the VPC origin's endpoint."""
    log_bucket_domain_name: str
    """``<bucket>.s3.amazonaws.com`` of the bucket receiving standard logs (R-12)."""
    log_bucket_ready: Sequence[ITerraformDependable] = ()
    """Resources the distribution waits for (the bucket's ACL-enabled ownership). Default: none."""
    log_prefix: str = "cloudfront/"
    """Key prefix of the access logs. Default: cloudfront/."""
    cache_policy_id: str = CACHING_DISABLED
    """Managed cache policy of every path not listed in cached_paths (never with forwarded_values, F-3). Default: CachingDisabled."""
    cached_paths: Sequence[str] = ("/products", "/products/*")
    """Path patterns whose GET/HEAD responses CloudFront caches as the API's Cache-Control says. Default: the catalog reads."""
    cached_paths_policy_id: str = USE_ORIGIN_CACHE_CONTROL_QUERY_STRINGS
    """Managed cache policy of cached_paths. Default: UseOriginCacheControlHeaders-QueryStrings."""
    canonical_query: Mapping[str, Sequence[str]]
    """Query parameters the API accepts per cached path pattern (service/contract.json canonical_query); every cached path needs one. No default."""
    origin_shield_region: str | None = None
    """AWS Region of the origin's Origin Shield (eu-west-2 for an origin in eu-north-1); None: no Origin Shield. Default: None."""
    origin_request_policy_id: str = ALL_VIEWER_EXCEPT_HOST_HEADER
    """Origin request policy; query strings and headers reach the API. Default: AllViewerExceptHostHeader."""
    hsts_max_age_seconds: int = 31536000
    """Strict-Transport-Security max-age sent to viewers. Default: 31536000 s (1 year)."""
    price_class: str = "PriceClass_100"
    """Edge locations used; PriceClass_100 = North America and Europe. Default: PriceClass_100."""
    web_acl_id: str | None = None
    """ARN of a WAF web ACL (scope CLOUDFRONT); None attaches none. Default: None."""
    internal_paths: Sequence[str] = ("/ready", "/ready/*", "/openapi.json")
    """Path patterns CloudFront answers 404 itself (readiness, API schema stay inside the VPC). Default: /ready, /ready/*, /openapi.json."""
    aliases: Sequence[str] = ()
    """Host names the distribution answers besides its cloudfront.net name (S-07); needs certificate_arn. Default: none."""
    certificate_arn: str | None = None
    """ACM certificate in us-east-1 covering the aliases; None serves the default *.cloudfront.net certificate. Default: None."""
    minimum_protocol_version: str = "TLSv1.2_2021"
    """Viewer security policy with a certificate of its own: TLS 1.2 and 1.3 with AEAD ciphers only. Default: TLSv1.2_2021."""


class ApiDistribution(Construct):
    """A distribution whose one origin is the internal ALB, reached through a VPC origin.

    Without a name of its own the ALB has only HTTP listeners, and CloudFront reaches it over
    HTTP on the private VPC-origin path; with one (origin_https) over HTTPS, checking the ALB's
    certificate against that name. Viewers are redirected to HTTPS either way.
    Catalog reads are cached as the API's Cache-Control says (a seasonal spike of reads is
    absorbed at the edge); every other path, /health included, is never cached.
    """

    def __init__(self, scope: Construct, id: str, *, props: ApiDistributionProps) -> None:
        super().__init__(scope, id)
        origin_id = "alb"
        endpoint = CloudfrontVpcOriginVpcOriginEndpointConfig(
            name=props.naming.name("alb-origin"),
            arn=props.origin_arn,
            http_port=80,
            https_port=443,
            origin_protocol_policy="https-only" if props.origin_https else "http-only",
            origin_ssl_protocols=[
                CloudfrontVpcOriginVpcOriginEndpointConfigOriginSslProtocols(items=["TLSv1.2"], quantity=1)
            ],
        )
        # An origin in use cannot be updated (CannotUpdateEntityWhileInUse,
        # hashicorp/terraform-provider-aws#40905) and the provider marks none of its arguments
        # as forcing replacement (internal/service/cloudfront/vpc_origin.go), so a new ALB
        # would be an in-place update that fails. The ALB lives in the app layer's state, and
        # replace_triggered_by names only resources of this configuration: this record holds
        # the endpoint settings read from the app layer, and any change to it replaces the
        # origin instead. create_before_destroy then creates the new origin, moves the
        # distribution to it, and only then deletes the old one (docs/deployment.md).
        endpoint_settings = DataResource(
            self,
            "vpc-origin-endpoint",
            triggers_replace={
                "arn": props.origin_arn,
                "name": endpoint.name,
                "http_port": endpoint.http_port,
                "https_port": endpoint.https_port,
                "origin_protocol_policy": endpoint.origin_protocol_policy,
            },
        )
        # Creating a VPC origin "can take up to 15 minutes" (AWS's VPC-origin guide, "Restrict access
        # with VPC origins", docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/
        # private-content-vpc-origins.html), exactly the
        # provider's default timeout (internal/service/cloudfront/vpc_origin.go), after which the
        # resource is left tainted (terraform-aws-modules/terraform-aws-cloudfront#163): allow 30.
        vpc_origin = CloudfrontVpcOrigin(
            self,
            "vpc-origin",
            timeouts=CloudfrontVpcOriginTimeouts(create="30m", update="30m", delete="30m"),
            # A bare reference: Terraform reads lifecycle lists as expressions, and the "${...}"
            # cdktf writes for a resource object is refused at init ("Invalid character").
            lifecycle=TerraformResourceLifecycle(
                create_before_destroy=True,
                replace_triggered_by=[
                    f"{endpoint_settings.terraform_resource_type}.{endpoint_settings.friendly_unique_id}"
                ],
            ),
            vpc_origin_endpoint_config=[endpoint],
        )
        unkeyed = [pattern for pattern in props.cached_paths if pattern not in props.canonical_query]
        if unkeyed:
            raise ValueError(
                f"cached path {unkeyed[0]!r} has no canonical_query entry; "
                f"allowed: a cached path listed there ({', '.join(props.canonical_query) or 'none listed'})"
            )
        not_found = CloudfrontFunction(
            self,
            "internal-not-found",
            name=props.naming.name("internal-404"),
            runtime="cloudfront-js-2.0",
            comment="404 for inside-only paths, however encoded; canonical query, no cookies for catalog reads",
            publish=True,
            code=guard_function(
                props.internal_paths, {pattern: props.canonical_query[pattern] for pattern in props.cached_paths}
            ),
        )
        guard = [
            CloudfrontDistributionOrderedCacheBehaviorFunctionAssociation(
                event_type="viewer-request", function_arn=not_found.arn
            )
        ]
        # Security headers on every response, whatever the API sends (overriding it).
        headers = CloudfrontResponseHeadersPolicy(
            self,
            "security-headers",
            name=props.naming.name("security-headers"),
            comment="HSTS, nosniff, frame deny, strict referrer for the catalog API",
            security_headers_config=CloudfrontResponseHeadersPolicySecurityHeadersConfig(
                strict_transport_security=CloudfrontResponseHeadersPolicySecurityHeadersConfigStrictTransportSecurity(
                    access_control_max_age_sec=props.hsts_max_age_seconds,
                    include_subdomains=True,
                    preload=True,
                    override=True,
                ),
                content_type_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigContentTypeOptions(
                    override=True
                ),
                frame_options=CloudfrontResponseHeadersPolicySecurityHeadersConfigFrameOptions(
                    frame_option="DENY", override=True
                ),
                referrer_policy=CloudfrontResponseHeadersPolicySecurityHeadersConfigReferrerPolicy(
                    referrer_policy="strict-origin-when-cross-origin", override=True
                ),
            ),
        )
        distribution = CloudfrontDistribution(
            self,
            "distribution",
            enabled=True,
            comment=props.naming.name("cdn"),
            is_ipv6_enabled=True,
            http_version="http2and3",
            price_class=props.price_class,
            web_acl_id=props.web_acl_id,
            origin=[
                CloudfrontDistributionOrigin(
                    origin_id=origin_id,
                    domain_name=props.origin_domain_name,
                    vpc_origin_config=CloudfrontDistributionOriginVpcOriginConfig(vpc_origin_id=vpc_origin.id),
                    origin_shield=(
                        CloudfrontDistributionOriginOriginShield(
                            enabled=True, origin_shield_region=props.origin_shield_region
                        )
                        if props.origin_shield_region is not None
                        else None
                    ),
                )
            ],
            # Listed first: CloudFront matches path patterns in order.
            ordered_cache_behavior=[
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=pattern,
                    target_origin_id=origin_id,
                    viewer_protocol_policy="redirect-to-https",
                    allowed_methods=ALL_METHODS,
                    cached_methods=["GET", "HEAD"],
                    compress=True,
                    cache_policy_id=CACHING_DISABLED,
                    origin_request_policy_id=props.origin_request_policy_id,
                    response_headers_policy_id=headers.id,
                    function_association=guard,
                )
                for pattern in props.internal_paths
            ]
            + [
                CloudfrontDistributionOrderedCacheBehavior(
                    path_pattern=pattern,
                    target_origin_id=origin_id,
                    viewer_protocol_policy="redirect-to-https",
                    # Writes share the paths; CloudFront caches only GET and HEAD.
                    allowed_methods=ALL_METHODS,
                    cached_methods=["GET", "HEAD"],
                    compress=True,
                    cache_policy_id=props.cached_paths_policy_id,
                    origin_request_policy_id=props.origin_request_policy_id,
                    response_headers_policy_id=headers.id,
                    function_association=guard,
                )
                for pattern in props.cached_paths
            ],
            default_cache_behavior=CloudfrontDistributionDefaultCacheBehavior(
                target_origin_id=origin_id,
                viewer_protocol_policy="redirect-to-https",
                allowed_methods=ALL_METHODS,
                cached_methods=["GET", "HEAD"],
                compress=True,
                cache_policy_id=props.cache_policy_id,
                origin_request_policy_id=props.origin_request_policy_id,
                response_headers_policy_id=headers.id,
                function_association=[
                    CloudfrontDistributionDefaultCacheBehaviorFunctionAssociation(
                        event_type="viewer-request", function_arn=not_found.arn
                    )
                ],
            ),
            custom_error_response=[
                CloudfrontDistributionCustomErrorResponse(error_code=code, error_caching_min_ttl=0)
                for code in UNCACHED_ERROR_CODES
            ],
            restrictions=CloudfrontDistributionRestrictions(
                geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
            ),
            aliases=list(props.aliases) or None,
            viewer_certificate=self._viewer_certificate(props),
            logging_config=CloudfrontDistributionLoggingConfig(
                bucket=props.log_bucket_domain_name, prefix=props.log_prefix, include_cookies=False
            ),
            depends_on=list(props.log_bucket_ready),
            # Terraform would otherwise wait until every edge location reports Deployed,
            # which alone can take longer than the 15-minute budget of a layer;
            # the distribution serves from the nearest locations within minutes.
            wait_for_deployment=False,
        )
        self.domain_name: str = distribution.domain_name
        self.hosted_zone_id: str = distribution.hosted_zone_id
        self.distribution_id: str = distribution.id
        self.url: str = f"https://{distribution.domain_name}"

    @staticmethod
    def _viewer_certificate(props: ApiDistributionProps) -> CloudfrontDistributionViewerCertificate:
        if props.certificate_arn is None:
            # The *.cloudfront.net certificate: CloudFront then applies its own TLSv1 policy,
            # whatever minimum_protocol_version says (CloudFront API reference, ViewerCertificate).
            return CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True)
        # SNI only: every client of an HTTPS API in use today sends SNI, and a dedicated IP
        # certificate costs a monthly fee. TLSv1.2_2021 allows TLS 1.2 and 1.3 with ECDHE key
        # exchange and AES-GCM or ChaCha20-Poly1305 only ("Supported protocols and ciphers between
        # viewers and CloudFront", CloudFront developer guide, read 2026-11-29).
        return CloudfrontDistributionViewerCertificate(
            acm_certificate_arn=props.certificate_arn,
            ssl_support_method="sni-only",
            minimum_protocol_version=props.minimum_protocol_version,
        )
