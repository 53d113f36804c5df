"""Deploy targets stop in one line unless Terraform is new enough and the AWS credentials work.

Without AWS: fake ``terraform`` executables print the version JSON, and a fake STS
endpoint on 127.0.0.1 answers GetCallerIdentity, so the real boto3 path (credential
chain, signing, parsing) runs in the preflight's own virtualenv. No network beyond
loopback: the instance metadata lookup is switched off.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts import preflight
from scripts.preflight import PreflightError, terraform_version
from tests.synth import ROOT

PREFLIGHT_PYTHON = ROOT / ".preflight-venv" / "bin" / "python"
VALID_KEY = "AKIDCATALOGVALID0001"
ACCOUNT = "123456789012"
ARN = f"arn:aws:iam::{ACCOUNT}:user/deployer"


def _terraform(tmp_path: Path, script: str) -> str:
    """A folder with a fake ``terraform`` running ``script``, for PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    terraform = bin_dir / "terraform"
    terraform.write_text(f"#!/bin/sh\n{script}\n")
    terraform.chmod(0o755)
    return str(bin_dir)


def _printing(version: str) -> str:
    document = {"terraform_version": version, "platform": "linux_amd64", "provider_selections": {}}
    return f"echo '{json.dumps(document)}'"


@pytest.mark.parametrize("version", ["1.10.0", "1.11.4", "2.0.0"])
def test_terraform_1_10_or_later_passes(tmp_path: Path, version: str) -> None:
    assert terraform_version({"PATH": _terraform(tmp_path, _printing(version))}) == version


@pytest.mark.parametrize("version", ["1.5.7", "1.9.8", "0.15.5", "1.10.0-beta1"])
def test_terraform_older_than_1_10_is_named_with_the_minimum(tmp_path: Path, version: str) -> None:
    path = _terraform(tmp_path, _printing(version))
    with pytest.raises(PreflightError) as raised:
        terraform_version({"PATH": path})
    assert str(raised.value) == (
        f"Terraform {version} at {path}/terraform is too old: this project needs 1.10.0 or later "
        "(S3 state locking with use_lockfile); install a newer one (https://developer.hashicorp.com/terraform/install)"
    )


@pytest.mark.parametrize(
    "script",
    ["echo 'Terraform v0.11.14'", 'echo \'{"terraform_version": "latest"}\'', "echo '[]'", "exit 3"],
    ids=["pre-json", "not-a-version", "not-an-object", "fails"],
)
def test_an_unreadable_terraform_version_is_named(tmp_path: Path, script: str) -> None:
    path = _terraform(tmp_path, script)
    with pytest.raises(PreflightError) as raised:
        terraform_version({"PATH": path})
    message = str(raised.value)
    assert message.startswith(f"could not read the Terraform version from `{path}/terraform version -json` (exit ")
    assert message.endswith("install Terraform 1.10.0 or later (https://developer.hashicorp.com/terraform/install)")


def test_missing_terraform_is_named(tmp_path: Path) -> None:
    with pytest.raises(PreflightError) as raised:
        terraform_version({"PATH": str(tmp_path)})
    assert str(raised.value) == (
        "terraform is not on PATH: install Terraform 1.10.0 or later (https://developer.hashicorp.com/terraform/install)"
    )


def test_terraform_is_asked_without_calling_hashicorp(tmp_path: Path) -> None:
    path = _terraform(tmp_path, 'echo "{\\"terraform_version\\": \\"1.11.$CHECKPOINT_DISABLE\\"}"')
    assert terraform_version({"PATH": path}) == "1.11.1"


def test_without_boto3_the_preflight_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "boto3", None)
    assert preflight.main({"PATH": _terraform(tmp_path, _printing("1.11.4"))}) == 1
    assert capsys.readouterr().err == "preflight: boto3 is not installed for the preflight check: run `make install`\n"


def test_preflight_imports_neither_cdktf_nor_boto3() -> None:
    code = "import sys; import scripts.preflight; print(sorted(m for m in sys.modules if m.split('.')[0] in {'cdktf', 'jsii', 'boto3', 'botocore'}))"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


# --- credentials, through boto3 against a fake STS on 127.0.0.1 ---------------------------


class _FakeSts(BaseHTTPRequestHandler):
    """GetCallerIdentity as STS answers it: the account for the valid key, InvalidClientTokenId otherwise."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if f"Credential={VALID_KEY}/" in self.headers.get("Authorization", ""):
            status, body = (
                200,
                (
                    '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
                    f"<GetCallerIdentityResult><Arn>{ARN}</Arn><UserId>AIDACATALOG</UserId>"
                    f"<Account>{ACCOUNT}</Account></GetCallerIdentityResult>"
                    "<ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>"
                ),
            )
        else:
            status, body = (
                403,
                (
                    '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
                    "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid."
                    "</Message></Error><RequestId>2</RequestId></ErrorResponse>"
                ),
            )
        self.send_response(status)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the preflight's output, not the server's."""


@pytest.fixture(scope="module")
def sts_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeSts)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _preflight(tmp_path: Path, sts: str, **variables: str) -> subprocess.CompletedProcess[str]:
    if not PREFLIGHT_PYTHON.exists():
        pytest.skip("the preflight virtualenv is not installed (make install)")
    env = {
        "PATH": os.pathsep.join((_terraform(tmp_path, _printing("1.11.4")), "/usr/bin", "/bin")),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-north-1",
        "AWS_ENDPOINT_URL_STS": sts,
        **variables,
    }
    return subprocess.run(
        [str(PREFLIGHT_PYTHON), str(ROOT / "scripts" / "preflight.py")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_working_credentials_pass_and_name_the_account(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, AWS_ACCESS_KEY_ID=VALID_KEY, AWS_SECRET_ACCESS_KEY="secret")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"preflight: Terraform 1.11.4; AWS account {ACCOUNT} as {ARN}\n"
    assert result.stderr == ""


def test_credentials_from_a_profile_pass(tmp_path: Path, sts_url: str) -> None:
    credentials = tmp_path / "credentials"
    credentials.write_text(f"[catalog]\naws_access_key_id = {VALID_KEY}\naws_secret_access_key = secret\n")
    result = _preflight(tmp_path, sts_url, AWS_PROFILE="catalog", AWS_SHARED_CREDENTIALS_FILE=str(credentials))
    assert result.returncode == 0, result.stderr
    assert f"AWS account {ACCOUNT}" in result.stdout


def test_credentials_aws_refuses_are_named(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, AWS_ACCESS_KEY_ID="AKIDREVOKED000000001", AWS_SECRET_ACCESS_KEY="old")
    assert result.returncode == 1
    assert result.stderr == (
        "preflight: AWS refused the credentials (from env) at STS GetCallerIdentity: "
        "InvalidClientTokenId: The security token included in the request is invalid.\n"
    )
    assert result.stdout == ""


def test_missing_credentials_are_named(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url)
    assert result.returncode == 1
    assert result.stderr == (
        "preflight: no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
        "or run `aws configure` (or `aws sso login`)\n"
    )


def test_half_a_key_pair_is_not_credentials(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, AWS_ACCESS_KEY_ID=VALID_KEY)
    assert result.returncode == 1
    assert result.stderr == (
        "preflight: incomplete AWS credentials: Partial credentials found in env, missing: AWS_SECRET_ACCESS_KEY\n"
    )


def test_an_unknown_profile_is_named(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, AWS_PROFILE="typo")
    assert result.returncode == 1
    assert result.stderr == (
        "preflight: The config profile (typo) could not be found: "
        "set AWS_PROFILE to a profile in ~/.aws/config or ~/.aws/credentials\n"
    )


def test_an_unreachable_sts_is_named(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    result = _preflight(tmp_path, closed, AWS_ACCESS_KEY_ID=VALID_KEY, AWS_SECRET_ACCESS_KEY="secret")
    assert result.returncode == 1
    assert result.stderr.startswith("preflight: could not reach AWS STS to check the credentials: ")
    assert len(result.stderr.splitlines()) == 1


def test_an_old_terraform_stops_the_preflight_before_aws_is_asked(tmp_path: Path, sts_url: str) -> None:
    (tmp_path / "old").mkdir()
    path = _terraform(tmp_path / "old", _printing("1.9.8"))
    result = _preflight(tmp_path, sts_url, PATH=path, AWS_ACCESS_KEY_ID=VALID_KEY, AWS_SECRET_ACCESS_KEY="s")
    assert result.returncode == 1
    assert result.stderr.startswith("preflight: Terraform 1.9.8 at ") and "is too old" in result.stderr
