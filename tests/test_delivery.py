"""`make plan`, `make changed`, `make deploy-changed`: ordering, digests, the dependents closure, the plan summary
and its exit code, on synthetic inputs; no Terraform, no AWS."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from scripts import delivery
from scripts.delivery import (
    DeliveryError,
    LayerStatus,
    LocalDigestStore,
    PlanRow,
    Result,
    S3DigestStore,
    canonical_digest,
    changed_layers,
    combined_exit_code,
    count_actions,
    dependency_order,
    dependents_closure,
    select_layers,
    summary_table,
)
from tests.synth import ROOT

# The shape cdktf writes to cdktf.out/manifest.json for this app.
DEPENDENCIES = {"app": ("network", "data"), "data": ("network",), "edge": ("app",), "network": ()}
LAYERS = ("network", "data", "app", "edge")
# Recorded with Terraform 1.11.4 (`terraform show -json`) from a plan of builtin terraform_data
# resources; its own summary line read "Plan: 3 to add, 1 to change, 3 to destroy."
RECORDED_PLAN = ROOT / "tests" / "data" / "terraform_show_plan.json"


def _document(bucket_tag: str = "a", comment: str = "x") -> dict[str, Any]:
    return {
        "//": {"metadata": {"version": comment, "stackName": "app"}},
        "terraform": {"backend": {"local": {"path": "../../../.state/dev/app.tfstate"}}},
        "resource": {
            "aws_s3_bucket": {
                "logs": {"//": {"metadata": {"path": f"app/{comment}"}}, "bucket": "b", "tags": {"Team": bucket_tag}}
            }
        },
    }


def test_layers_are_ordered_after_the_layers_they_read() -> None:
    assert dependency_order(DEPENDENCIES) == ["network", "data", "app", "edge"]
    reversed_input = dict(reversed(list(DEPENDENCIES.items())))
    assert dependency_order(reversed_input) == ["network", "data", "app", "edge"]


def test_ordering_refuses_a_cycle_and_an_unknown_producer() -> None:
    with pytest.raises(DeliveryError, match="dependency cycle between app, edge"):
        dependency_order({"network": (), "app": ("edge",), "edge": ("app",)})
    with pytest.raises(DeliveryError, match="unknown stack 'vpc'"):
        dependency_order({"app": ("vpc",)})


def test_selected_layers_run_in_dependency_order_whatever_order_they_are_given() -> None:
    assert select_layers("edge,app", LAYERS) == ["app", "edge"]
    assert select_layers("network data app edge", LAYERS) == list(LAYERS), "the Makefile's default list"
    assert select_layers("", LAYERS) == list(LAYERS)


def test_an_unknown_layer_is_one_line_naming_what_is_allowed() -> None:
    with pytest.raises(DeliveryError) as raised:
        select_layers("app,edg", LAYERS)
    assert str(raised.value) == (
        "LAYERS='app,edg': unknown layer 'edg'; allowed: network, data, app, edge (comma-separated) or changed"
    )


def test_digest_ignores_key_order_and_cdktf_comment_properties() -> None:
    base = canonical_digest(_document())
    assert base.startswith("sha256:") and len(base) == len("sha256:") + 64
    assert canonical_digest(_document(comment="cdktf 0.22, renamed construct")) == base
    reordered = json.loads(json.dumps(_document(), sort_keys=True))
    assert canonical_digest(dict(reversed(list(reordered.items())))) == base


def test_digest_changes_with_any_value_terraform_reads() -> None:
    assert canonical_digest(_document(bucket_tag="b")) != canonical_digest(_document())
    with_comment_in_data = _document()
    # Inside an expression "//" is an ordinary key Terraform uses, so it counts.
    with_comment_in_data["resource"]["aws_s3_bucket"]["logs"]["tags"]["//"] = "kept"
    assert canonical_digest(with_comment_in_data) != canonical_digest(_document())


def test_dependents_closure_adds_every_layer_reading_a_changed_one() -> None:
    assert dependents_closure({"network"}, DEPENDENCIES) == set(LAYERS)
    assert dependents_closure({"data"}, DEPENDENCIES) == {"data", "app", "edge"}
    assert dependents_closure({"app"}, DEPENDENCIES) == {"app", "edge"}
    assert dependents_closure({"edge"}, DEPENDENCIES) == {"edge"}
    assert dependents_closure(set(), DEPENDENCIES) == set()


def _statuses(**overrides: LayerStatus) -> dict[str, LayerStatus]:
    same = {name: LayerStatus(digest=f"sha256:{name}", recorded=f"sha256:{name}", deployed=True) for name in LAYERS}
    return {**same, **overrides}


def test_nothing_changed_when_every_digest_matches_a_deployed_layer() -> None:
    assert changed_layers(_statuses(), DEPENDENCIES) == []


def test_a_changed_producer_brings_its_readers_in_dependency_order() -> None:
    changes = changed_layers(_statuses(data=LayerStatus("sha256:new", "sha256:data", True)), DEPENDENCIES)
    assert changes == [
        ("data", "configuration differs from its last deploy"),
        ("app", "reads data, which changes"),
        ("edge", "reads app, which changes"),
    ]


def test_undeployed_or_unrecorded_layers_are_changed() -> None:
    changes = changed_layers(
        _statuses(
            edge=LayerStatus("sha256:edge", None, True),
            app=LayerStatus("sha256:app", "sha256:app", False),
        ),
        DEPENDENCIES,
    )
    assert changes == [
        ("app", "not deployed (its state holds no resources)"),
        ("edge", "no digest recorded at its last deploy"),
    ]


def test_plan_counts_match_terraforms_own_summary_line() -> None:
    show = json.loads(RECORDED_PLAN.read_text())
    assert count_actions(show) == (3, 1, 3), "Terraform printed: Plan: 3 to add, 1 to change, 3 to destroy."
    assert count_actions({"format_version": "1.2", "resource_changes": []}) == (0, 0, 0)


def test_exit_codes_combine_error_over_changes_over_nothing() -> None:
    assert combined_exit_code([0, 0, 0, 0]) == 0
    assert combined_exit_code([0, 2, 0]) == 2
    assert combined_exit_code([2, 1, 0]) == 1
    assert combined_exit_code([0, 127]) == 1
    assert combined_exit_code([]) == 0


def test_summary_table_has_one_row_per_layer() -> None:
    table = summary_table([PlanRow("network", 0), PlanRow("app", 2, 3, 1, 3), PlanRow("data", 2), PlanRow("edge", 1)])
    assert table.splitlines() == [
        "| layer | to add | to change | to destroy | result |",
        "|---|---:|---:|---:|---|",
        "| network | 0 | 0 | 0 | no changes |",
        "| app | 3 | 1 | 3 | changes |",
        "| data | 0 | 0 | 0 | outputs only |",
        "| edge | – | – | – | error |",
    ]


def test_local_digest_lives_beside_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / ".state" / "prod" / "app.tfstate"
    store = LocalDigestStore(state)
    assert store.location == f"{state}.digest"
    assert store.read() is None and not store.deployed()
    store.write("sha256:abc")
    assert (tmp_path / ".state" / "prod" / "app.tfstate.digest").read_text() == "sha256:abc\n"
    assert store.read() == "sha256:abc"
    state.write_text(json.dumps({"version": 4, "resources": []}))
    assert not store.deployed(), "a destroyed layer keeps an empty state"
    state.write_text(json.dumps({"version": 4, "resources": [{"type": "aws_vpc"}]}))
    assert store.deployed()


class FakeAws:
    """Stands in for the AWS CLI: objects in a dict, argv recorded."""

    def __init__(self, objects: dict[str, str]) -> None:
        self.objects = objects
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, capture: bool = False) -> Result:
        self.calls.append(list(argv))
        args = list(argv)
        key = args[args.index("--key") + 1]
        if args[:3] == ["aws", "s3api", "get-object"]:
            if key not in self.objects:
                return Result(254, "", "An error occurred (NoSuchKey) when calling the GetObject operation")
            Path(args[-1]).write_text(self.objects[key])
            return Result(0, "{}")
        if args[:3] == ["aws", "s3api", "put-object"]:
            self.objects[key] = Path(args[args.index("--body") + 1]).read_text()
            return Result(0, "{}")
        return Result(1, "", "unexpected call")


def test_remote_digest_is_an_object_beside_the_state_key() -> None:
    aws = FakeAws({"prod/app.tfstate": json.dumps({"resources": [{"type": "aws_lb"}]})})
    store = S3DigestStore("acme-state", "prod/app.tfstate", "eu-west-1", aws)
    assert store.location == "s3://acme-state/prod/app.tfstate.digest"
    assert store.read() is None
    assert store.deployed()
    store.write("sha256:abc")
    assert aws.objects["prod/app.tfstate.digest"] == "sha256:abc\n"
    assert store.read() == "sha256:abc"
    put = next(call for call in aws.calls if call[2] == "put-object")
    assert put[put.index("--region") + 1] == "eu-west-1" and put[put.index("--bucket") + 1] == "acme-state"


def test_remote_digest_failures_other_than_missing_are_reported() -> None:
    def denied(argv: Sequence[str], *, capture: bool = False) -> Result:
        return Result(254, "", "An error occurred (AccessDenied) when calling the GetObject operation: Access Denied")

    with pytest.raises(DeliveryError, match=r"reads s3://b/k\.digest failed: .*AccessDenied"):
        S3DigestStore("b", "k", "eu-north-1", denied).read()

    def missing_cli(argv: Sequence[str], *, capture: bool = False) -> Result:
        return Result(127, "", "aws: command not found")

    with pytest.raises(DeliveryError, match="the AWS CLI is not on PATH"):
        S3DigestStore("b", "k", "eu-north-1", missing_cli).read()


def _outdir(tmp_path: Path) -> Path:
    """A cdktf.out/ with the app's four layers on local state under tmp_path/.state/dev/."""
    outdir = tmp_path / "cdktf.out"
    stacks = {}
    for name, deps in DEPENDENCIES.items():
        directory = outdir / "stacks" / name
        directory.mkdir(parents=True)
        document = {
            "terraform": {"backend": {"local": {"path": f"../../../.state/dev/{name}.tfstate"}}},
            "resource": {"terraform_data": {name: {"input": name}}},
        }
        (directory / "cdk.tf.json").write_text(json.dumps(document))
        stacks[name] = {
            "name": name,
            "dependencies": list(deps),
            "workingDirectory": f"stacks/{name}",
            "synthesizedStackPath": f"stacks/{name}/cdk.tf.json",
        }
    (outdir / "manifest.json").write_text(json.dumps({"version": "0.21.0", "stacks": stacks}))
    return outdir


def _deployed(tmp_path: Path, *names: str) -> None:
    for name in names:
        state = tmp_path / ".state" / "dev" / f"{name}.tfstate"
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"version": 4, "resources": [{"type": "terraform_data"}]}))


@pytest.fixture
def preflight_ok(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(delivery, "_preflight", lambda environ: True)


class FakeTools:
    """Stands in for terraform and cdktf: exit codes per layer, commands recorded."""

    def __init__(self, plan_codes: dict[str, int] | None = None, failing_deploy: str | None = None) -> None:
        self.plan_codes = plan_codes or {}
        self.failing_deploy = failing_deploy
        self.calls: list[list[str]] = []

    def __call__(self, argv: Sequence[str], *, capture: bool = False) -> Result:
        args = list(argv)
        self.calls.append(args)
        if args[0] == "terraform":
            layer = Path(args[1].removeprefix("-chdir=")).name
            if args[2] == "plan":
                return Result(self.plan_codes.get(layer, 0))
            if args[2] == "show":
                return Result(0, RECORDED_PLAN.read_text() if self.plan_codes.get(layer) == 2 else "{}")
            return Result(0)
        if args[:2] == ["cdktf", "deploy"]:
            return Result(1 if args[2] == self.failing_deploy else 0)
        return Result(1, "", "unexpected")


def test_plan_runs_init_plan_show_in_order_and_combines_exit_codes(
    tmp_path: Path, preflight_ok: None, capsys: pytest.CaptureFixture[str]
) -> None:
    tools = FakeTools(plan_codes={"network": 0, "app": 2})
    summary = tmp_path / "step-summary.md"
    code = delivery.main(
        ["plan", "--layers", "edge,app,network", "--summary-file", str(summary)],
        {},
        outdir=_outdir(tmp_path),
        run=tools,
    )
    assert code == 2
    planned = [Path(c[1].removeprefix("-chdir=")).name for c in tools.calls if c[2] == "plan"]
    assert planned == ["network", "app", "edge"]
    plan_call = next(c for c in tools.calls if c[2] == "plan")
    assert "-detailed-exitcode" in plan_call and "-input=false" in plan_call
    assert "| app | 3 | 1 | 3 | changes |" in capsys.readouterr().out
    assert summary.read_text().startswith("### Terraform plan\n\n| layer | to add |")


def test_plan_reports_an_error_layer_and_still_plans_the_others(tmp_path: Path, preflight_ok: None) -> None:
    tools = FakeTools(plan_codes={"data": 1, "app": 2})
    assert delivery.main(["plan"], {}, outdir=_outdir(tmp_path), run=tools) == 1
    assert [Path(c[1].removeprefix("-chdir=")).name for c in tools.calls if c[2] == "plan"] == list(LAYERS)


def test_changed_lists_every_layer_before_the_first_deploy(
    tmp_path: Path, preflight_ok: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert delivery.main(["changed"], {}, outdir=_outdir(tmp_path), run=FakeTools()) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()] == list(LAYERS)


def test_deploy_changed_deploys_in_order_and_records_digests_after_each_success(
    tmp_path: Path, preflight_ok: None, capsys: pytest.CaptureFixture[str]
) -> None:
    outdir = _outdir(tmp_path)
    _deployed(tmp_path, *LAYERS)
    tools = FakeTools()
    deploy = ["--deploy", "cdktf deploy {layer} --skip-synth --auto-approve --ignore-missing-stack-dependencies"]
    assert delivery.main(["deploy-changed", *deploy], {}, outdir=outdir, run=tools) == 0
    assert [c[2] for c in tools.calls] == list(LAYERS), "no digest recorded yet: every layer deploys"
    assert tools.calls[0] == [
        "cdktf",
        "deploy",
        "network",
        "--skip-synth",
        "--auto-approve",
        "--ignore-missing-stack-dependencies",
    ]
    for name in LAYERS:
        assert (tmp_path / ".state" / "dev" / f"{name}.tfstate.digest").read_text().startswith("sha256:")
    capsys.readouterr()

    tools = FakeTools()
    assert delivery.main(["deploy-changed", *deploy], {}, outdir=outdir, run=tools) == 0
    assert tools.calls == [], "nothing changed since"
    assert "nothing deployed" in capsys.readouterr().out

    app = outdir / "stacks" / "app" / "cdk.tf.json"
    app.write_text(app.read_text().replace('"input": "app"', '"input": "app v2"'))
    assert delivery.main(["deploy-changed", *deploy], {}, outdir=outdir, run=tools) == 0
    assert [c[2] for c in tools.calls] == ["app", "edge"], "app changed, edge reads it"


def test_a_failed_deploy_stops_and_leaves_its_digest_unrecorded(
    tmp_path: Path, preflight_ok: None, capsys: pytest.CaptureFixture[str]
) -> None:
    _deployed(tmp_path, *LAYERS)
    tools = FakeTools(failing_deploy="data")
    code = delivery.main(
        ["deploy-changed", "--deploy", "cdktf deploy {layer}"], {}, outdir=_outdir(tmp_path), run=tools
    )
    assert code == 1
    assert [c[2] for c in tools.calls] == ["network", "data"]
    digests = sorted(p.name for p in (tmp_path / ".state" / "dev").glob("*.digest"))
    assert digests == ["network.tfstate.digest"]
    assert capsys.readouterr().err.strip() == "deploy-changed: data failed (exit 1); not deployed: app, edge"


def test_without_a_synth_the_commands_say_so_in_one_line(
    tmp_path: Path, preflight_ok: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert delivery.main(["changed"], {}, outdir=tmp_path / "cdktf.out", run=FakeTools()) == 1
    assert capsys.readouterr().err == "changed: cdktf.out/manifest.json is missing: run `make synth` first\n"


def _run_without_tools(argv: list[str], tmp_path: Path, extra_path: str = "") -> subprocess.CompletedProcess[str]:
    """``argv`` with no AWS variables, an empty home and only the system directories on PATH (plus ``extra_path``)."""
    if shutil.which("terraform", path="/usr/bin:/bin"):
        pytest.skip("terraform is installed in a system directory")
    env = {"PATH": f"{extra_path}:/usr/bin:/bin".lstrip(":"), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def _fake_terraform(tmp_path: Path) -> str:
    """A terraform that only answers `version` (as 1.11.4), so preflight gets past the binary check."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    script.write_text(
        '#!/bin/sh\nif [ "$2" = "-json" ]; then echo \'{"terraform_version":"1.11.4"}\'; '
        'else echo "Terraform v1.11.4"; fi\n'
    )
    script.chmod(0o755)
    return str(bin_dir)


MAKE_TARGETS = ("plan", "plan-changed", "changed", "deploy-changed")


@pytest.mark.parametrize("target", MAKE_TARGETS)
def test_make_targets_stop_at_the_preflight_line_without_terraform(target: str, tmp_path: Path) -> None:
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "node_modules/.installed", target]
    done = _run_without_tools(make, tmp_path)
    assert done.returncode != 0
    own_lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(own_lines) == 1 and own_lines[0].startswith("preflight: terraform"), done.stderr
    assert "synthesized" not in done.stdout, "preflight runs before the synth"


@pytest.mark.parametrize("target", MAKE_TARGETS)
def test_make_targets_stop_at_the_preflight_line_without_credentials(target: str, tmp_path: Path) -> None:
    make = ["make", "--no-print-directory", "-o", ".venv/.installed", "-o", "node_modules/.installed", target]
    done = _run_without_tools(make, tmp_path, extra_path=_fake_terraform(tmp_path))
    assert done.returncode != 0
    own_lines = [line for line in done.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(own_lines) == 1 and own_lines[0].startswith("preflight: "), done.stderr


@pytest.mark.parametrize("command", ["plan", "changed", "deploy-changed --deploy 'cdktf deploy {layer}'"])
def test_the_script_itself_stops_at_the_preflight_line(command: str, tmp_path: Path) -> None:
    python = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
    done = _run_without_tools(["sh", "-c", f"{python} scripts/delivery.py {command}"], tmp_path)
    assert done.returncode == 1
    (line,) = done.stderr.splitlines()
    assert line.startswith("preflight: terraform is not on PATH")
