"""The edge in front of the internal ALB: origin replacement (P-05), inside-only paths, uncached outages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.synth import ROOT, STACKS, Json, Synthesis

ALB_ARN_OUTPUT = "data.terraform_remote_state.cross-stack-reference-input-app.outputs."


def _distribution(synth: Synthesis) -> Json:
    return synth.one("edge", "aws_cloudfront_distribution")


def test_p05_changed_alb_replaces_the_vpc_origin_before_deleting_the_old_one(synth: Synthesis) -> None:
    # The provider updates a VPC origin in place, which AWS refuses while a distribution uses it
    # (hashicorp/terraform-provider-aws#40905): a new ALB must replace the origin instead.
    origin = synth.one("edge", "aws_cloudfront_vpc_origin")
    (settings_name, settings) = next(iter(synth.resources("edge", "terraform_data").items()))
    lifecycle = origin["lifecycle"]
    assert lifecycle["create_before_destroy"] is True
    # A bare reference: Terraform refuses "${...}" in lifecycle lists at init.
    assert lifecycle["replace_triggered_by"] == [f"terraform_data.{settings_name}"]
    endpoint = origin["vpc_origin_endpoint_config"][0]
    # Every endpoint setting the provider would otherwise update in place triggers the replacement,
    # the ALB's ARN read from the app layer's state first of all.
    triggers = settings["triggers_replace"]
    assert triggers["arn"] == endpoint["arn"] and endpoint["arn"].startswith("${" + ALB_ARN_OUTPUT)
    for key in ("name", "http_port", "https_port", "origin_protocol_policy"):
        assert triggers[key] == endpoint[key], key
    # The distribution follows the new origin's id in the same apply.
    (cdn_origin,) = _distribution(synth)["origin"]
    assert cdn_origin["vpc_origin_config"]["vpc_origin_id"] == synth.ref("edge", "aws_cloudfront_vpc_origin", "id")


def test_p05_internal_paths_answer_404_at_the_edge(synth: Synthesis) -> None:
    contract = json.loads((ROOT / "service" / "contract.json").read_text())
    behaviors = _distribution(synth)["ordered_cache_behavior"]
    function_ref = synth.ref("edge", "aws_cloudfront_function", "arn")
    blocked = [
        b["path_pattern"]
        for b in behaviors
        if [(f["event_type"], f["function_arn"]) for f in b.get("function_association", [])]
        == [("viewer-request", function_ref)]
    ]
    assert {contract["ready_path"], contract["ready_path"] + "/*", "/openapi.json"} <= set(blocked)
    assert contract["health_path"] not in blocked, "the ALB health check path stays reachable"
    # Path patterns are matched in order: the blocked ones come before any pattern that could match them.
    assert [b["path_pattern"] for b in behaviors[: len(blocked)]] == blocked
    function = synth.one("edge", "aws_cloudfront_function")
    assert function["publish"] is True and function["runtime"] == "cloudfront-js-2.0"
    # The guard runs on every behavior, so an encoded spelling of an internal path meets it too.
    distribution = _distribution(synth)
    everywhere = [*behaviors, distribution["default_cache_behavior"]]
    assert all(
        [(f["event_type"], f["function_arn"]) for f in b.get("function_association", [])]
        == [("viewer-request", function_ref)]
        for b in everywhere
    )


# (uri as the viewer sends it, whether the edge answers 404 itself)
GUARDED_URIS = [
    ("/ready", True),
    ("/ready/db", True),
    ("/re%61dy", True),
    ("/%72eady/", True),
    ("/openapi.json", True),
    ("/openapi%2Ejson", True),
    ("/%zz", True),
    ("/health", False),
    ("/products", False),
    ("/products/42", False),
    ("/readyness", False),
    ("/products/ready", False),
]


def test_p05_the_edge_guard_refuses_internal_paths_however_encoded(synth: Synthesis, tmp_path: Path) -> None:
    """The function's own code, run by Node against sample viewer requests (cloudfront-js-2.0 is ES5-like JS)."""
    node = ROOT / "node_modules" / ".bin" / "node"
    if not node.exists():
        pytest.fail("node_modules/.bin/node is missing: run make install")
    code = synth.one("edge", "aws_cloudfront_function")["code"]
    runner = tmp_path / "run.js"
    runner.write_text(
        code
        + "\nvar uris = JSON.parse(process.argv[2]);\n"
        + "console.log(JSON.stringify(uris.map(function (u) { var r = handler({request: {uri: u}});"
        + " return r.statusCode === 404 && !r.uri && r.headers['cache-control'].value === 'no-store'"
        # The API's own answer for a path it has no route for (service/README.md, error answers), so a
        # client sees one error shape whether the edge or the service refused the path.
        + ' && r.body.data === \'{"error":"not_found","message":"no such path"}\'; })));\n'
    )
    uris = [uri for uri, _ in GUARDED_URIS]
    done = subprocess.run(
        [str(node), str(runner), json.dumps(uris)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert dict(zip(uris, json.loads(done.stdout), strict=True)) == dict(GUARDED_URIS)


def test_p05_origin_server_errors_are_not_cached_at_the_edge(synth: Synthesis) -> None:
    responses = {r["error_code"]: r for r in _distribution(synth)["custom_error_response"]}
    # 400: the HTTP server's own answer to an unparsable request has no Cache-Control.
    assert {400, 500, 502, 503, 504} <= set(responses)
    for code in (400, 500, 502, 503, 504):
        assert responses[code]["error_caching_min_ttl"] == 0, code
        assert "response_page_path" not in responses[code], "the API's own error body reaches the viewer"


TERRAFORM_REJECTED_CONFIG = "The Terraform configuration must be valid before initialization"


@pytest.mark.parametrize("layer", STACKS)
def test_p05_terraform_parses_every_layer(layer: str, synth: Synthesis, tmp_path: Path) -> None:
    """Terraform itself reads each layer's JSON (ephemeral blocks, lifecycle references) before it
    looks for providers: with an empty plugin directory init stops at the provider, offline."""
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("terraform is not installed")
    (tmp_path / "cdk.tf.json").write_text(synth.texts[layer])
    plugins = tmp_path / "no-plugins"
    plugins.mkdir()
    result = subprocess.run(
        [terraform, "init", "-backend=false", "-input=false", "-no-color", f"-plugin-dir={plugins}"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull, "CHECKPOINT_DISABLE": "1"},
    )
    output = result.stdout + result.stderr
    assert TERRAFORM_REJECTED_CONFIG not in output, output
    assert "Initializing provider plugins" in output, output
