"""Deploy targets stop in one line unless Terraform is new enough and the AWS credentials work.

Without AWS: fake ``terraform`` executables print the version JSON, and a fake STS
endpoint on 127.0.0.1 answers GetCallerIdentity, so the real boto3 path (credential
chain, signing, parsing) runs in the preflight's own virtualenv. No network beyond
loopback: the instance metadata lookup is switched off.
"""

from __future__ import annotations

import json
import os
import re
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
from tests.stand_in import path_first, stand_in
from tests.synth import ROOT

PREFLIGHT_PYTHON = ROOT / ".preflight-venv" / "bin" / "python"
VALID_KEY = "AKIDCATALOGVALID0001"
ACCOUNT = "123456789012"
ARN = f"arn:aws:iam::{ACCOUNT}:user/deployer"
OWN_BUCKET = "catalog-api-tfstate-prod-123456789012"
FOREIGN_BUCKET = "catalog-api-tfstate-prod"
BUCKET_OWNERS = {OWN_BUCKET: ACCOUNT, FOREIGN_BUCKET: "210987654321"}


def _terraform(tmp_path: Path, script: str) -> str:
    """A folder with a fake ``terraform`` running ``script``, for PATH."""
    return str(stand_in(tmp_path / "bin", "terraform", f"#!/bin/sh\n{script}\n").parent)


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
    assert (
        capsys.readouterr().err
        == "preflight: boto3 is not installed for the preflight check: run `make preflight` (it installs .preflight-venv)\n"
    )


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

    def do_HEAD(self) -> None:
        """S3 HeadBucket (path style): the bucket's owner must match x-amz-expected-bucket-owner, as S3 checks it."""
        bucket = self.path.strip("/").split("/")[0].split("?")[0]
        expected = self.headers.get("x-amz-expected-bucket-owner")
        owner = BUCKET_OWNERS.get(bucket)
        if owner is None:
            status = 404
        elif expected is not None and expected != owner:
            status = 403
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

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


def _preflight(tmp_path: Path, sts: str, *argv: str, **variables: str) -> subprocess.CompletedProcess[str]:
    if not PREFLIGHT_PYTHON.exists():
        pytest.skip("the preflight virtualenv is not installed (make preflight)")
    env = {
        "PATH": path_first(Path(_terraform(tmp_path, _printing("1.11.4"))), "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_REGION": "eu-north-1",
        "AWS_ENDPOINT_URL_STS": sts,
        "AWS_ENDPOINT_URL_S3": sts,
        **variables,
    }
    return subprocess.run(
        [str(PREFLIGHT_PYTHON), str(ROOT / "scripts" / "preflight.py"), *argv],
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


# --- the state bucket belongs to the deploying account ---------------------------------------

KEYS = {"AWS_ACCESS_KEY_ID": VALID_KEY, "AWS_SECRET_ACCESS_KEY": "secret"}


def test_a_state_bucket_of_the_account_passes_and_is_named(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, "--state-bucket", OWN_BUCKET, "--state-bucket-region", "eu-north-1", **KEYS)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"preflight: Terraform 1.11.4; AWS account {ACCOUNT} as {ARN}; state bucket {OWN_BUCKET}\n"


def test_a_state_bucket_of_another_account_is_refused_in_one_line(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, "--state-bucket", FOREIGN_BUCKET, **KEYS)
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"preflight: the state bucket '{FOREIGN_BUCKET}' (eu-north-1) is not owned by AWS account {ACCOUNT} "
        "(or these credentials may not read it): S3 bucket names are global; put a bucket of this account in the "
        "environment file's [state] table (`make bootstrap ENV=dev` creates one and prints the line)\n"
    )


def test_a_missing_state_bucket_is_named_with_the_bootstrap(tmp_path: Path, sts_url: str) -> None:
    result = _preflight(tmp_path, sts_url, "--state-bucket", "catalog-api-tfstate-nobody", ENV="prod", **KEYS)
    assert result.returncode == 1
    assert result.stderr == (
        "preflight: the state bucket 'catalog-api-tfstate-nobody' (eu-north-1) does not exist: create it with "
        "`make bootstrap ENV=prod` or put the name bootstrap printed into the environment file's [state] table\n"
    )


def test_before_a_bootstrap_the_state_bucket_may_be_missing_but_not_foreign(tmp_path: Path, sts_url: str) -> None:
    missing = _preflight(tmp_path, sts_url, "--state-bucket", "catalog-api-tfstate-new", "--before-bootstrap", **KEYS)
    assert missing.returncode == 0, missing.stderr
    assert missing.stdout.endswith("; state bucket catalog-api-tfstate-new (bootstrap creates it)\n")
    foreign = _preflight(tmp_path, sts_url, "--state-bucket", FOREIGN_BUCKET, "--before-bootstrap", **KEYS)
    assert foreign.returncode == 1
    assert "is not owned by AWS account" in foreign.stderr


# --- the environment file is checked first, on every target that reads it ---------------------

STAMPS = ("-o", ".venv/.installed", "-o", "node_modules/.installed", "-o", ".preflight-venv/.installed")


def _aws_targets() -> list[str]:
    """preflight and every target that runs it, as the Makefile declares them (layer patterns expanded)."""
    text = (ROOT / "Makefile").read_text()
    targets = {"preflight"}
    for name, prerequisites in re.findall(r"^([^\s:#=.][^:=]*):(?!=)([^\n#]*)", text, re.MULTILINE):
        if not re.search(r"(^|\s)preflight(\s|$)", prerequisites.split("##")[0]):
            continue
        layered = re.fullmatch(r"\$\(addprefix ([a-z]+)-,\$\(LAYERS\)\)", name.strip())
        if layered:
            targets |= {f"{layered.group(1)}-{layer}" for layer in ("network", "data", "app", "edge")}
        else:
            targets |= set(name.split())
    return sorted(targets)


def _make(*args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    drop = {"ENV", "CONFIRM", "MAKEFLAGS", "MAKELEVEL", "CATALOG_ENVIRONMENTS_DIR", "CATALOG_OVERRIDES"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("AWS_")} | variables
    return subprocess.run(
        ["make", "--no-print-directory", *STAMPS, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_aws_targets_are_found() -> None:
    assert {"preflight", "plan", "deploy", "deploy-app", "destroy", "destroy-edge", "outputs", "bootstrap"} <= set(
        _aws_targets()
    )


@pytest.mark.parametrize("target", [*_aws_targets(), "synth", "scan", "test"])
def test_a_mistyped_environment_is_named_before_installs_and_credentials(target: str) -> None:
    result = _make("-n", target, "ENV=prdo", "CONFIRM=prdo")
    assert result.returncode != 0
    assert result.stdout == "", "nothing would run: no install, no preflight, no synth"
    (line,) = result.stderr.strip().splitlines()
    assert "ENV=prdo: there is no environments/prdo.toml; available: dev, prod" in line
    assert "credentials" not in line


def test_a_mistyped_environment_stops_a_real_plan_at_once(tmp_path: Path) -> None:
    result = _make("plan", "ENV=prdo", HOME=str(tmp_path), AWS_EC2_METADATA_DISABLED="true")
    assert result.returncode != 0
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.endswith(
        "configuration error: ENV=prdo: there is no environments/prdo.toml; available: dev, prod.  Stop."
    )


def _no_credentials(tmp_path: Path) -> dict[str, str]:
    return {
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PATH": path_first(Path(_terraform(tmp_path, _printing("1.11.4"))), "/usr/bin:/bin"),
    }


def test_a_wrong_value_is_named_before_credentials(tmp_path: Path) -> None:
    (tmp_path / "envs").mkdir()
    (tmp_path / "envs" / "staging.toml").write_text('suffix = "staging"\nregion = "eu-nort-1"\n')
    result = _make(
        "preflight", "ENV=staging", CATALOG_ENVIRONMENTS_DIR=str(tmp_path / "envs"), **_no_credentials(tmp_path)
    )
    assert result.returncode != 0
    own = [line for line in result.stderr.splitlines() if not line.startswith("make: ***")]
    assert len(own) == 1, result.stderr
    assert own[0].startswith("configuration error: ") and "region = 'eu-nort-1' is not an AWS region" in own[0]


def test_the_shipped_example_state_bucket_is_refused_before_credentials(tmp_path: Path) -> None:
    result = _make("preflight", "ENV=prod", **_no_credentials(tmp_path))
    assert result.returncode != 0
    own = [line for line in result.stderr.splitlines() if not line.startswith("make: ***")]
    assert own == [
        "configuration error: environments/prod.toml: state.bucket = 'example-org-catalog-api-tfstate' is the "
        "example name the project ships, and S3 bucket names are global (another account may own it): put a name "
        "of your own there, e.g. catalog-api-tfstate-prod-<your account id>, and run `make bootstrap ENV=prod` to "
        "create it"
    ]


def test_make_preflight_checks_the_environment_files_state_bucket(tmp_path: Path, sts_url: str) -> None:
    (tmp_path / "envs").mkdir()
    for name, bucket in (("own", OWN_BUCKET), ("foreign", FOREIGN_BUCKET)):
        (tmp_path / "envs" / f"{name}.toml").write_text(
            f'suffix = "{name}"\nregion = "eu-north-1"\n[state]\nbucket = "{bucket}"\n'
        )
    variables = {
        **_no_credentials(tmp_path),
        **KEYS,
        "CATALOG_ENVIRONMENTS_DIR": str(tmp_path / "envs"),
        "AWS_ENDPOINT_URL_STS": sts_url,
        "AWS_ENDPOINT_URL_S3": sts_url,
        "AWS_REGION": "eu-north-1",
    }
    own = _make("preflight", "ENV=own", **variables)
    assert own.returncode == 0, own.stderr
    assert own.stdout.endswith(f"; state bucket {OWN_BUCKET}\n")
    foreign = _make("preflight", "ENV=foreign", **variables)
    assert foreign.returncode != 0
    assert f"preflight: the state bucket '{FOREIGN_BUCKET}' (eu-north-1) is not owned by AWS account" in foreign.stderr


def test_only_a_bootstrap_lets_the_state_bucket_be_missing() -> None:
    def preflight_line(target: str) -> str:
        result = _make("-n", target, "ENV=dev")
        assert result.returncode == 0, result.stderr
        return next(line for line in result.stdout.splitlines() if "scripts/preflight.py" in line)

    assert preflight_line("bootstrap").endswith("--before-bootstrap")
    assert "--before-bootstrap" not in preflight_line("deploy")
