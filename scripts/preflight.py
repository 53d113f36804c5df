"""Check, before any deploy, diff or destroy, that Terraform is new enough, the AWS credentials work
and the state bucket belongs to the account they resolve to.

    python scripts/preflight.py [--state-bucket NAME --state-bucket-region REGION [--before-bootstrap]]

``make preflight`` (every deploy/diff/destroy target runs it first) checks the environment
file with scripts/check_environment.py before this script and passes the state bucket on.
Prints one line naming what is wrong and exits 1, or one line with the Terraform
version and the AWS account the deploy would go to and exits 0. Standard library
only, apart from boto3 for the credential check, which ``make preflight`` installs in its
own virtualenv (.preflight-venv: botocore requires python-dateutil < 3, the synth's
pins have 4.0.0). Importable without cdktf and without boto3.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

# The S3 backend's use_lockfile (state locking with a lock object next to the state,
# no DynamoDB table) arrived in Terraform 1.10.0: hashicorp/terraform#35845, "backend/s3:
# s3 native locking changelog entry", target release 1.10.0 (2024-10-11), and #36037
# (1.10 upgrade notes); argument documented at
# https://developer.hashicorp.com/terraform/language/backend/s3 (read 2026-11-23).
MINIMUM_TERRAFORM = (1, 10, 0)
INSTALL_URL = "https://developer.hashicorp.com/terraform/install"
DEFAULT_REGION = "eu-north-1"
_VERSION = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.-]+)?$")


class PreflightError(Exception):
    """A missing or unusable prerequisite; the message is one line for a person."""


def _minimum() -> str:
    return ".".join(map(str, MINIMUM_TERRAFORM))


def terraform_version(environ: Mapping[str, str]) -> str:
    """The version of the ``terraform`` on PATH, if it is at least MINIMUM_TERRAFORM."""
    executable = shutil.which("terraform", path=environ.get("PATH"))
    if executable is None:
        raise PreflightError(f"terraform is not on PATH: install Terraform {_minimum()} or later ({INSTALL_URL})")
    try:
        # CHECKPOINT_DISABLE: no call to HashiCorp's version-check service.
        result = subprocess.run(
            [executable, "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**environ, "CHECKPOINT_DISABLE": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PreflightError(f"could not run `{executable} version -json`: {error}") from None
    version = _parse_version_json(result.stdout) if result.returncode == 0 else None
    if version is None:
        raise PreflightError(
            f"could not read the Terraform version from `{executable} version -json` "
            f"(exit {result.returncode}): install Terraform {_minimum()} or later ({INSTALL_URL})"
        )
    match = _VERSION.match(version)
    assert match is not None, "checked by _parse_version_json"
    numbers = tuple(int(part) for part in match.group(1, 2, 3))
    # A pre-release of the minimum (1.10.0-beta1) comes before the release.
    if numbers < MINIMUM_TERRAFORM or (numbers == MINIMUM_TERRAFORM and match.group(4)):
        raise PreflightError(
            f"Terraform {version} at {executable} is too old: this project needs {_minimum()} or later "
            f"(S3 state locking with use_lockfile); install a newer one ({INSTALL_URL})"
        )
    return version


def _parse_version_json(text: str) -> str | None:
    try:
        document = json.loads(text)
    except ValueError:
        return None
    version = document.get("terraform_version") if isinstance(document, dict) else None
    return version if isinstance(version, str) and _VERSION.match(version) else None


def caller_identity(environ: Mapping[str, str]) -> tuple[str, str]:
    """(account, ARN) of the AWS credentials the SDKs and Terraform would use, from STS GetCallerIdentity."""
    try:
        boto3: Any = importlib.import_module("boto3")
        config_module: Any = importlib.import_module("botocore.config")
        errors: Any = importlib.import_module("botocore.exceptions")
    except ImportError:
        raise PreflightError(
            "boto3 is not installed for the preflight check: run `make preflight` (it installs .preflight-venv)"
        ) from None
    try:
        session = boto3.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise PreflightError(
                "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "or run `aws configure` (or `aws sso login`)"
            )
        region = environ.get("AWS_REGION") or session.region_name or DEFAULT_REGION
        # Bounded, so a preflight without a network answers in seconds instead of minutes.
        config = config_module.Config(
            connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"}
        )
        identity = session.client("sts", region_name=region, config=config).get_caller_identity()
    except errors.ProfileNotFound as error:
        raise PreflightError(f"{error}: set AWS_PROFILE to a profile in ~/.aws/config or ~/.aws/credentials") from None
    except errors.PartialCredentialsError as error:
        raise PreflightError(f"incomplete AWS credentials: {error}") from None
    except errors.NoCredentialsError:
        raise PreflightError(
            "no AWS credentials found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
            "or run `aws configure` (or `aws sso login`)"
        ) from None
    except errors.ClientError as error:
        detail = error.response.get("Error", {})
        raise PreflightError(
            f"AWS refused the credentials (from {credentials.method}) at STS GetCallerIdentity: "
            f"{detail.get('Code', 'error')}: {detail.get('Message', error)}"
        ) from None
    except (errors.EndpointConnectionError, errors.ConnectTimeoutError, errors.ReadTimeoutError) as error:
        raise PreflightError(f"could not reach AWS STS to check the credentials: {error}") from None
    except errors.BotoCoreError as error:
        raise PreflightError(f"the AWS credentials could not be used: {error}") from None
    return str(identity["Account"]), str(identity["Arn"])


def check_state_bucket(
    environ: Mapping[str, str], bucket: str, region: str, account: str, *, may_be_absent: bool
) -> bool:
    """Whether the state bucket exists; raises PreflightError unless it is ``account``'s (or absent, when allowed).

    S3 bucket names are global: a name in the environment file may belong to another
    account, which would then receive this project's state. HeadBucket with
    ExpectedBucketOwner answers 403 when the bucket belongs to another account and 404
    when no bucket has the name (Amazon S3 API reference, HeadBucket; "Verifying bucket
    ownership with bucket owner condition", S3 user guide; read 2026-11-29).
    """
    boto3: Any = importlib.import_module("boto3")
    config_module: Any = importlib.import_module("botocore.config")
    errors: Any = importlib.import_module("botocore.exceptions")
    config = config_module.Config(connect_timeout=5, read_timeout=10, retries={"max_attempts": 2, "mode": "standard"})
    where = f"the state bucket {bucket!r} ({region})"
    try:
        boto3.session.Session().client("s3", region_name=region, config=config).head_bucket(
            Bucket=bucket, ExpectedBucketOwner=account
        )
    except errors.ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        if code in {"404", "NoSuchBucket", "NotFound"}:
            if may_be_absent:
                return False
            raise PreflightError(
                f"{where} does not exist: create it with `make bootstrap ENV={environ.get('ENV', 'dev')}` "
                "or put the name bootstrap printed into the environment file's [state] table"
            ) from None
        if code in {"403", "AccessDenied", "Forbidden"}:
            raise PreflightError(
                f"{where} is not owned by AWS account {account} (or these credentials may not read it): "
                "S3 bucket names are global; put a bucket of this account in the environment file's [state] table "
                f"(`make bootstrap ENV={environ.get('ENV', 'dev')}` creates one and prints the line)"
            ) from None
        raise PreflightError(f"could not check {where}: HeadBucket answered {code or error}") from None
    except (errors.EndpointConnectionError, errors.ConnectTimeoutError, errors.ReadTimeoutError) as error:
        raise PreflightError(f"could not reach Amazon S3 to check {where}: {error}") from None
    except errors.BotoCoreError as error:
        raise PreflightError(f"could not check {where}: {error}") from None
    return True


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="preflight.py", description=__doc__.splitlines()[0])
    parser.add_argument("--state-bucket", help="the environment's state bucket: it must belong to the account")
    parser.add_argument("--state-bucket-region", default=DEFAULT_REGION, help="the state bucket's region")
    parser.add_argument("--before-bootstrap", action="store_true", help="the state bucket may not exist yet")
    return parser


def main(environ: Mapping[str, str], argv: Sequence[str] = ()) -> int:
    arguments = _parser().parse_args(list(argv))
    try:
        version = terraform_version(environ)
        account, arn = caller_identity(environ)
        state = ""
        if arguments.state_bucket:
            exists = check_state_bucket(
                environ,
                arguments.state_bucket,
                arguments.state_bucket_region,
                account,
                may_be_absent=arguments.before_bootstrap,
            )
            state = f"; state bucket {arguments.state_bucket}" + ("" if exists else " (bootstrap creates it)")
    except PreflightError as problem:
        print(f"preflight: {' '.join(str(problem).split())}", file=sys.stderr)
        return 1
    print(f"preflight: Terraform {version}; AWS account {account} as {arn}{state}")
    return 0


if __name__ == "__main__":
    sys.exit(main(os.environ, sys.argv[1:]))
