"""The Dockerfile's promises, read from the file (no Docker engine here to build it)."""

from __future__ import annotations

import json
import re
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent.parent
DOCKERFILE = (SERVICE_DIR / "Dockerfile").read_text()
CONTRACT = json.loads((SERVICE_DIR / "contract.json").read_text())


def _instructions() -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _runtime_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    starts = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    return instructions[starts[-1] :]


def test_base_image_is_from_ecr_public_and_pinned_by_digest_in_one_arg() -> None:
    args = [value for op, value in _instructions() if op == "ARG" and value.startswith("PYTHON_BASE=")]
    assert len(args) == 1
    assert re.fullmatch(r"PYTHON_BASE=public\.ecr\.aws/docker/library/python:3\.11-slim@sha256:[0-9a-f]{64}", args[0])
    assert [value for op, value in _instructions() if op == "FROM"] == [
        "${PYTHON_BASE} AS build",
        "${PYTHON_BASE} AS runtime",
    ]


def test_runtime_stage_runs_as_a_non_root_user_and_stops_on_sigterm() -> None:
    runtime = dict(_runtime_stage())
    assert runtime["USER"] == "10001:10001"
    assert runtime["STOPSIGNAL"] == "SIGTERM"
    assert runtime["EXPOSE"] == str(CONTRACT["port"])
    assert json.loads(runtime["ENTRYPOINT"]) == ["python", "-m", "catalog_api"]


def test_runtime_stage_installs_no_build_tools() -> None:
    runtime_text = " ".join(value for _, value in _runtime_stage())
    for tool in ("apt-get", "gcc", "build-essential", "pip install", "libpq-dev"):
        assert tool not in runtime_text
    assert "pip uninstall" in runtime_text


def test_dockerignore_admits_only_the_code_and_the_pins() -> None:
    ignore = (SERVICE_DIR / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") :][:3] == ["*", "!requirements.txt", "!catalog_api/"]


def test_i15_the_image_carries_the_rds_ca_bundle_from_aws_and_names_it_in_db_sslrootcert() -> None:
    instructions = _instructions()
    args = dict(value.split("=", 1) for op, value in instructions if op == "ARG")
    # AWS's trust store, over HTTPS (the only way AWS serves it): the download is authenticated.
    assert args["RDS_CA_BUNDLE_URL"] == "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
    path = CONTRACT["image_environment"]["DB_SSLROOTCERT"]
    assert ("ADD", f"${{RDS_CA_BUNDLE_URL}} {path}") in instructions
    runtime_env = " ".join(value for op, value in _runtime_stage() if op == "ENV").split()
    assert f"DB_SSLROOTCERT={path}" in runtime_env
    # Everything under /app reaches the runtime stage, the bundle with it.
    assert any(op == "COPY" and value.endswith("/app /app") for op, value in _runtime_stage())
