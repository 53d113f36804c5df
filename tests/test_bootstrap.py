"""`make bootstrap`: the remote-state bucket and lock table, with their own local state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import bootstrap
from tests.synth import Json


@pytest.fixture
def stack(bootstrap_stack: Json) -> Json:
    return bootstrap_stack


def _one(stack: Json, type_: str) -> Json:
    (body,) = stack["resource"][type_].values()
    return dict(body)


def test_bootstrap_state_is_local_and_relative(stack: Json) -> None:
    assert stack["terraform"]["backend"] == {"local": {"path": "../../../.state/dev/bootstrap.tfstate"}}


def test_state_bucket_versioned_encrypted_private_tls_only(stack: Json) -> None:
    bucket = _one(stack, "aws_s3_bucket")
    assert bucket["bucket"] == "catalog-api-tfstate-dev-${data.aws_caller_identity.account.account_id}"
    assert bucket["force_destroy"] is False, "destroying the bootstrap must not delete every layer's state"
    assert _one(stack, "aws_s3_bucket_versioning")["versioning_configuration"]["status"] == "Enabled"
    rule = _one(stack, "aws_s3_bucket_server_side_encryption_configuration")["rule"][0]
    assert rule["apply_server_side_encryption_by_default"]["sse_algorithm"] == "aws:kms", "state may hold secrets"
    assert rule["bucket_key_enabled"] is True
    block = _one(stack, "aws_s3_bucket_public_access_block")
    assert all(
        block[k] is True
        for k in ("block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets")
    )
    policy = json.loads(_one(stack, "aws_s3_bucket_policy")["policy"])
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_lock_table_has_the_key_terraform_uses(stack: Json) -> None:
    table = _one(stack, "aws_dynamodb_table")
    assert table["name"] == "catalog-api-tflock-dev"
    assert table["hash_key"] == "LockID"
    assert table["attribute"] == [{"name": "LockID", "type": "S"}]
    assert table["billing_mode"] == "PAY_PER_REQUEST"
    assert table["server_side_encryption"]["enabled"] is True


def test_outputs_are_the_variables_to_export(stack: Json) -> None:
    assert set(stack["output"]) == {"STATE_BUCKET", "STATE_BUCKET_REGION", "STATE_LOCK_TABLE"}
    assert stack["output"]["STATE_BUCKET_REGION"]["value"] == "eu-north-1"


def test_check_refuses_when_already_bootstrapped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bootstrap, "ROOT", tmp_path)
    assert bootstrap.main(["check"], {}) == 0, "nothing deployed yet: go ahead"
    path = tmp_path / ".state" / "dev" / "bootstrap.tfstate"
    path.parent.mkdir(parents=True)
    outputs = {
        "STATE_BUCKET": {"value": "catalog-api-tfstate-dev-123456789012"},
        "STATE_BUCKET_REGION": {"value": "eu-north-1"},
        "STATE_LOCK_TABLE": {"value": "catalog-api-tflock-dev"},
    }
    path.write_text(json.dumps({"resources": [{"type": "aws_s3_bucket"}], "outputs": outputs}))
    assert bootstrap.main(["check"], {}) == 1
    err = capsys.readouterr().err
    assert err.startswith("bootstrap: already done for ENVIRONMENT_SUFFIX=dev")
    assert "export STATE_BUCKET=catalog-api-tfstate-dev-123456789012" in err
    assert bootstrap.main(["exports"], {}) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1:] == [
        "export STATE_BUCKET=catalog-api-tfstate-dev-123456789012",
        "export STATE_BUCKET_REGION=eu-north-1",
        "export STATE_LOCK_TABLE=catalog-api-tflock-dev",
    ]


def test_bootstrap_refuses_bad_configuration(capsys: pytest.CaptureFixture[str]) -> None:
    assert bootstrap.main(["check"], {"ENVIRONMENT_SUFFIX": "Bad"}) == 2
    assert "ENVIRONMENT_SUFFIX" in capsys.readouterr().err
