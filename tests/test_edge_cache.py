"""What reaches the cache key of catalog reads (S-05), and Origin Shield in front of the origin."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

import main
from shared.config import ConfigError, load_config
from tests.synth import ROOT, Json, Synthesis

CONTRACT: Json = json.loads((ROOT / "service" / "contract.json").read_text())
# UseOriginCacheControlHeaders-QueryStrings as AWS documents it ("Use managed cache policies",
# https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html,
# read 2026-11-29): its cache key holds every cookie and the whole query string, so only the
# viewer-request function keeps cookies and non-canonical queries out of it. Its documented key:
# all cookies, all query strings, and the headers Host, Origin, X-HTTP-Method-Override,
# X-HTTP-Method and X-Method-Override.
MANAGED_QUERY_STRINGS_POLICY = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"
INTERNAL = {"/ready", "/ready/*", "/openapi.json"}
# A request path each cached path pattern matches.
SAMPLE_PATH = {"/products": "/products", "/products/*": "/products/42"}


def _cached_behaviors(synth: Synthesis) -> dict[str, Json]:
    distribution = synth.one("edge", "aws_cloudfront_distribution")
    return {b["path_pattern"]: b for b in distribution["ordered_cache_behavior"] if b["path_pattern"] not in INTERNAL}


def _function_code(synth: Synthesis, arn_reference: str) -> str:
    name = arn_reference.removeprefix("${aws_cloudfront_function.").removesuffix(".arn}")
    code: str = synth.resources("edge", "aws_cloudfront_function")[name]["code"]
    return code


def _run(code: str, tmp_path: Path, script: str, argument: Any) -> Any:
    """Run the function's own code under Node (cloudfront-js-2.0 is ES5-like JS), then ``script`` on argv[2]."""
    node = ROOT / "node_modules" / ".bin" / "node"
    if not node.exists():
        pytest.fail("node_modules/.bin/node is missing: run make install")
    runner = tmp_path / "run.js"
    runner.write_text(code + "\nvar input = JSON.parse(process.argv[2]);\n" + script)
    done = subprocess.run(
        [str(node), str(runner), json.dumps(argument)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _handle(code: str, tmp_path: Path, requests: list[Json]) -> list[Json]:
    """The function's answer to each viewer request: the request it hands on, or its own response."""
    script = "console.log(JSON.stringify(input.map(function (r) { return handler({request: r}); })));\n"
    answers: list[Json] = _run(code, tmp_path, script, requests)
    return answers


def _get(uri: str, query: list[tuple[str, str]], cookies: dict[str, str] | None = None, method: str = "GET") -> Json:
    """A viewer request as CloudFront hands it to the function: one field per name, repeats in multiValue."""
    querystring: Json = {}
    for name, value in query:
        if name in querystring:
            field = querystring[name]
            field.setdefault("multiValue", [{"value": field["value"]}]).append({"value": value})
        else:
            querystring[name] = {"value": value}
    return {
        "method": method,
        "uri": uri,
        "querystring": querystring,
        "headers": {"host": {"value": "api.example"}},
        "cookies": {name: {"value": value} for name, value in (cookies or {}).items()},
    }


def test_s05_the_guard_canonicalizes_every_cached_behavior_on_viewer_request(synth: Synthesis, tmp_path: Path) -> None:
    behaviors = _cached_behaviors(synth)
    assert set(behaviors) == set(SAMPLE_PATH)
    for pattern, behavior in behaviors.items():
        # The managed policy is kept; its documented key holds every cookie and query string.
        assert behavior["cache_policy_id"] == MANAGED_QUERY_STRINGS_POLICY
        associations = behavior["function_association"]
        # One function per event type and behavior: the viewer-request one is the only one there is.
        assert [a["event_type"] for a in associations] == ["viewer-request"], pattern
        code = _function_code(synth, associations[0]["function_arn"])
        (answer,) = _handle(code, tmp_path, [_get(SAMPLE_PATH[pattern], [], {"session": "x"})])
        assert answer["cookies"] == {} and answer["querystring"] == "", pattern


def test_s05_no_cookie_reaches_the_cache_key_of_catalog_reads(synth: Synthesis, tmp_path: Path) -> None:
    code = _function_code(synth, _cached_behaviors(synth)["/products"]["function_association"][0]["function_arn"])
    cookies = {"session": "abc", "_ga": "GA1.2.3", "ab-test": "b"}
    answers = _handle(
        code,
        tmp_path,
        [_get("/products", [("limit", "20")], cookies, method) for method in ("GET", "HEAD")]
        + [_get("/products/42", [], cookies)],
    )
    assert [a["cookies"] for a in answers] == [{}, {}, {}]
    assert all("cookie" not in a["headers"] for a in answers)


def test_s05_reordered_queries_map_to_one_cache_key(synth: Synthesis, tmp_path: Path) -> None:
    code = _function_code(synth, _cached_behaviors(synth)["/products"]["function_association"][0]["function_arn"])
    query = [("q", "red%20shoe"), ("limit", "20"), ("category", "shoes"), ("min_price", "10.00")]
    orders = [query, list(reversed(query)), query[2:] + query[:2], [query[1], query[3], query[0], query[2]]]
    answers = _handle(code, tmp_path, [_get("/products", order) for order in orders])
    # Alphabetical, each value exactly as sent.
    assert {a["querystring"] for a in answers} == {"category=shoes&limit=20&min_price=10.00&q=red%20shoe"}


def test_s05_only_cached_reads_are_rewritten(synth: Synthesis, tmp_path: Path) -> None:
    code = _function_code(synth, _cached_behaviors(synth)["/products"]["function_association"][0]["function_arn"])
    query = [("limit", "5"), ("category", "shoes")]
    read, write, health = _handle(
        code,
        tmp_path,
        [
            _get("/products", query, {"session": "a"}),
            _get("/products", query, {"session": "a"}, method="POST"),
            _get("/health", [("verbose", "1")], {"session": "a"}),
        ],
    )
    assert read["querystring"] == "category=shoes&limit=5" and read["cookies"] == {}
    # Writes are never cached; other paths are not the API's catalog reads: both reach the origin as sent.
    assert write == _get("/products", query, {"session": "a"}, method="POST")
    assert health == _get("/health", [("verbose", "1")], {"session": "a"})


def test_s05_a_path_without_a_route_reaches_the_origin_as_sent(synth: Synthesis, tmp_path: Path) -> None:
    """`/products/` is no route of the API: its 404 (no-store) comes from the origin, not an edge 400."""
    code = _function_code(synth, _cached_behaviors(synth)["/products/*"]["function_association"][0]["function_arn"])
    (answer,) = _handle(code, tmp_path, [_get("/products/", [("limit", "5")], {"session": "a"})])
    assert answer == _get("/products/", [("limit", "5")], {"session": "a"})


def test_s05_unknown_query_parameters_are_refused_at_the_edge(synth: Synthesis, tmp_path: Path) -> None:
    # Dropped, `categroy=shoes` would be a cached, unfiltered 200; kept, every typo its own cache key.
    code = _function_code(synth, _cached_behaviors(synth)["/products"]["function_association"][0]["function_arn"])
    typo, extra, on_item = _handle(
        code,
        tmp_path,
        [
            _get("/products", [("categroy", "shoes")]),
            _get("/products", [("limit", "5"), ("utm_source", "mail"), ("x", "1")]),
            _get("/products/42", [("limit", "5")]),
        ],
    )
    allowed = ", ".join(CONTRACT["canonical_query"]["routes"]["/products"])
    for answer, count, names in ((typo, 1, allowed), (extra, 2, allowed), (on_item, 1, "none")):
        assert answer["statusCode"] == 400
        assert answer["headers"]["cache-control"]["value"] == "no-store"
        # The API's own error body (service: ErrorBody), and no caller input echoed back.
        body = json.loads(answer["body"]["data"])
        assert body == {"error": "bad_request", "message": f"{count} unknown query parameter(s); allowed: {names}"}


def test_s05_repeated_query_parameters_are_refused_at_the_edge(synth: Synthesis, tmp_path: Path) -> None:
    code = _function_code(synth, _cached_behaviors(synth)["/products"]["function_association"][0]["function_arn"])
    repeated, encoded_twin = _handle(
        code,
        tmp_path,
        [
            _get("/products", [("limit", "5"), ("limit", "50")]),
            # The same name spelled twice: one plain, one percent-encoded.
            _get("/products", [("limit", "5"), ("l%69mit", "50")]),
        ],
    )
    for answer in (repeated, encoded_twin):
        assert answer["statusCode"] == 400
        assert json.loads(answer["body"]["data"]) == {
            "error": "bad_request",
            "message": "1 repeated query parameter(s); each may appear once",
        }


def test_s05_the_function_keeps_exactly_the_parameters_of_service_contract(synth: Synthesis, tmp_path: Path) -> None:
    code = _function_code(synth, _cached_behaviors(synth)["/products"]["function_association"][0]["function_arn"])
    script = "console.log(JSON.stringify(input.map(acceptedNames)));\n"
    routes = CONTRACT["canonical_query"]["routes"]
    # The API's item routes (/products/{id}, /products/sku/{sku}) are the edge's /products/*.
    assert routes["/products/{id}"] == routes["/products/sku/{sku}"] == []
    in_function = _run(code, tmp_path, script, [SAMPLE_PATH["/products"], SAMPLE_PATH["/products/*"]])
    assert in_function == [sorted(routes["/products"]), []]


def test_s05_contract_without_canonical_query_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "service").mkdir()
    contract = {key: value for key, value in CONTRACT.items() if key != "canonical_query"}
    (tmp_path / "service" / "contract.json").write_text(json.dumps(contract))
    with pytest.raises(
        ValueError, match=r"^service/contract.json canonical_query.routes is missing or empty; allowed: "
    ):
        main.canonical_query(tmp_path)
    (tmp_path / "service" / "contract.json").write_text(
        json.dumps({**contract, "canonical_query": {"routes": {"/products": ["limit", "limit"]}}})
    )
    with pytest.raises(ValueError, match=r"'/products': \['limit', 'limit'\] is not allowed: each name once$"):
        main.canonical_query(tmp_path)
    # Two item routes behind one edge pattern must accept the same parameters.
    (tmp_path / "service" / "contract.json").write_text(
        json.dumps({**contract, "canonical_query": {"routes": {"/products/{id}": [], "/products/sku/{sku}": ["q"]}}})
    )
    with pytest.raises(ValueError, match=r"under the edge pattern /products/\* must accept the same parameters$"):
        main.canonical_query(tmp_path)


def test_s05_origin_shield_in_the_configured_region_only(synth: Synthesis, variant_synth: Synthesis) -> None:
    (origin,) = variant_synth.one("edge", "aws_cloudfront_distribution")["origin"]
    # tests/environments/variant.toml: where AWS recommends it for an origin in eu-north-1.
    assert origin["origin_shield"] == {"enabled": True, "origin_shield_region": "eu-west-2"}
    (default_origin,) = synth.one("edge", "aws_cloudfront_distribution")["origin"]
    assert "origin_shield" not in default_origin


def test_s05_origin_shield_outside_its_regions_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text('suffix = "x"\nregion = "eu-north-1"\norigin_shield_region = "eu-north-1"\n')
    with pytest.raises(ConfigError) as refused:
        load_config({"ENV": "x", "CATALOG_ENVIRONMENTS_DIR": str(tmp_path)})
    message = str(refused.value)
    assert "\n" not in message
    assert "origin_shield_region = 'eu-north-1' is not a Region CloudFront offers Origin Shield in" in message
    assert "AWS recommends eu-west-2" in message and "allowed: us-east-2," in message
