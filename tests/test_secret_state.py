"""S-06: no secret value is kept in Terraform state, and no plan needs one, in any environment.

Terraform stores every data source's result and every non-write-only argument in state
(and in the saved plan). A managed ``aws_secretsmanager_secret_version`` is refreshed with
GetSecretValue on every plan, even with a write-only value (provider secret_version.go), so a
plan role would need to read the secret: the project's own secret values are set outside
Terraform (scripts/secret_value.py, run by a provisioner) and no layer has a secret version.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VARIANT
from tests.synth import ROOT, Synthesis, synthesize

# Data sources and resources whose result is a secret value: their state would carry it.
SECRET_PRODUCERS = {
    "aws_secretsmanager_random_password",
    "aws_secretsmanager_secret_version",
    "random_password",
    "random_string",
    "tls_private_key",
}
# Arguments that carry a secret value into state when set from configuration.
SECRET_ARGUMENTS = {"secret_string", "secret_binary", "master_password", "password"}


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(argument path, string) of every string value below ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


def _keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from _keys(value)
    elif isinstance(node, list):
        for value in node:
            yield from _keys(value)


def secret_leaks(synthesis: Synthesis) -> list[str]:
    """Every place a layer's JSON would carry a secret value into state or plan."""
    leaks: list[str] = []
    for stack, document in synthesis.stacks.items():
        for type_ in sorted(SECRET_PRODUCERS & set(document.get("data", {}))):
            leaks.append(f"{stack}: data.{type_} stores its value in state")
        for type_ in sorted(
            {"random_password", "random_string", "tls_private_key"} & set(document.get("resource", {}))
        ):
            leaks.append(f"{stack}: resource {type_} stores its value in state")
        if "aws_secretsmanager_secret_version" in document.get("resource", {}):
            leaks.append(f"{stack}: resource aws_secretsmanager_secret_version is refreshed with GetSecretValue")
        for block in ("resource", "output", "locals", "module"):
            body = document.get(block, {})
            for key in sorted(SECRET_ARGUMENTS & set(_keys(body))):
                leaks.append(f"{stack}: {block} sets {key}, which Terraform stores")
            for path, text in _strings(body, block):
                argument = path.rsplit(".", 1)[-1].split("[", 1)[0]
                for producer in SECRET_PRODUCERS:
                    if f"data.{producer}." in text:
                        leaks.append(f"{stack}: {path} reads data.{producer}")
                if "ephemeral." in text and not argument.endswith("_wo"):
                    leaks.append(f"{stack}: {path} carries an ephemeral value into a stored argument")
    return leaks


ENVIRONMENT_FILES = [*sorted((ROOT / "tests" / "environments").glob("*.toml")), ROOT / "environments" / "prod.toml"]


def _environ(path: Path) -> dict[str, str]:
    return {"ENV": path.stem, "CATALOG_ENVIRONMENTS_DIR": str(path.parent.relative_to(ROOT))}


def test_s06_no_secret_value_in_state_with_the_defaults(synth: Synthesis) -> None:
    assert secret_leaks(synth) == []


@pytest.mark.parametrize("path", ENVIRONMENT_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_s06_no_secret_value_in_state_in_any_environment(path: Path, variant_synth: Synthesis) -> None:
    environ = _environ(path)
    synthesis = variant_synth if environ == VARIANT else synthesize(environ)
    assert secret_leaks(synthesis) == []


def test_s06_admin_token_value_is_set_outside_terraform_once_per_secret(synth: Synthesis) -> None:
    app = synth.stacks["app"]
    assert "aws_secretsmanager_secret_version" not in app["resource"]
    assert "ephemeral" not in app
    secret = synth.ref("app", "aws_secretsmanager_secret", "arn")
    (name, step) = next(
        (n, b) for n, b in synth.resources("app", "terraform_data").items() if n.startswith("admin-token_value")
    )
    # A new secret or a raised value_version writes a new value; nothing else does.
    assert step["triggers_replace"] == {"secret": secret, "version": "1"}
    ((kind, run),) = step["provisioner"][0].items()
    assert kind == "local-exec" and run["command"] == "python3 scripts/secret_value.py"
    assert run["environment"] == {"SECRET_ID": secret, "SECRET_LENGTH": "48", "AWS_REGION": "eu-north-1"}
    # The tasks read the token at start: they wait for its value.
    assert f"terraform_data.{name}" in synth.one("app", "aws_ecs_service")["depends_on"]


def test_s06_the_leak_check_sees_the_old_data_source_path(synth: Synthesis) -> None:
    import copy

    stacks = copy.deepcopy(dict(synth.stacks))
    stacks["app"].setdefault("data", {})["aws_secretsmanager_random_password"] = {"r": {"password_length": 48}}
    stacks["app"]["resource"]["aws_secretsmanager_secret_version"] = {
        "v": {"secret_string": "${data.aws_secretsmanager_random_password.r.random_password}"}
    }
    leaks = secret_leaks(Synthesis(stacks=stacks, texts=synth.texts, manifest=synth.manifest))
    assert len(leaks) == 4, leaks
