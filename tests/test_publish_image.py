"""scripts/publish_image.py, the step the app layer's apply runs: real script, stand-in docker and aws CLIs.

The stand-ins are shell scripts on PATH that record each call and answer as the real CLIs do
for the case under test (an image present or not in ECR, a failing build).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from shared.image_source import source_tag
from tests.stand_in import path_first, stand_in

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "publish_image.py"
REPOSITORY = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/catalog-api-images-dev"
DIGEST = "sha256:" + "ab" * 32

FAKE_AWS = """#!/bin/sh
echo "aws $*" >> "$CALLS"
case "$*" in
  *describe-images*imageTag=*) [ -n "$HAS_TAG" ] && { echo "$DIGEST"; exit 0; }
     echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation" >&2; exit 254 ;;
  *describe-images*imageDigest=*) [ -n "$HAS_DIGEST" ] || [ -f "$CALLS.pushed" ] && { echo "$DIGEST"; exit 0; }
     echo "An error occurred (ImageNotFoundException) when calling the DescribeImages operation" >&2; exit 254 ;;
  *get-login-password*) echo "not-a-real-password"; exit 0 ;;
esac
exit 0
"""
FAKE_DOCKER = """#!/bin/sh
echo "docker $*" >> "$CALLS"
case "$1" in
  info) [ -n "$NO_DAEMON" ] && exit 1; echo 27.0.0 ;;
  login) cat > /dev/null ;;
  build) [ -n "$BUILD_FAILS" ] && exit 1 ;;
  push) [ -n "$PUSH_REWRITES" ] || touch "$CALLS.pushed" ;;
esac
exit 0
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    """A project root with the script, shared/ and a tiny build context; stand-in CLIs on PATH."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    (root / "scripts" / "publish_image.py").write_text(SCRIPT.read_text())
    (root / "shared").mkdir()
    for name in ("__init__.py", "image_source.py"):
        (root / "shared" / name).write_text((ROOT / "shared" / name).read_text())
    context = root / "service"
    (context / "app").mkdir(parents=True)
    (context / "Dockerfile").write_text("FROM scratch\nCOPY app /app\n")
    (context / ".dockerignore").write_text("*\n!app/\n")
    (context / "app" / "main.py").write_text("print('v1')\n")
    bin_dir = tmp_path / "bin"
    stand_in(bin_dir, "aws", FAKE_AWS)
    stand_in(bin_dir, "docker", FAKE_DOCKER)
    return root


def _run(project: Path, *args: str, **env: str) -> tuple[int, str, str, list[str]]:
    calls = project.parent / "calls"
    environ = {
        "PATH": path_first(project.parent / "bin"),
        "CALLS": str(calls),
        "DIGEST": DIGEST,
        **env,
    }
    done = subprocess.run(
        [sys.executable, "scripts/publish_image.py", *args],
        cwd=project,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
    )
    recorded = calls.read_text().splitlines() if calls.exists() else []
    return done.returncode, done.stdout, done.stderr, recorded


def _publish_env(project: Path, **extra: str) -> dict[str, str]:
    tag = source_tag(project / "service")
    return {
        "IMAGE_CONTEXT": "service",
        "IMAGE_TAG": tag,
        "REPOSITORY_URL": REPOSITORY,
        "AWS_REGION": "eu-north-1",
        **extra,
    }


def test_s01_content_already_in_the_repository_builds_and_pushes_nothing(project: Path) -> None:
    code, out, err, calls = _run(project, **_publish_env(project, HAS_TAG="1"))
    assert (code, err) == (0, "")
    assert "same content): nothing built or pushed" in out
    assert [c.split()[:3] for c in calls] == [["aws", "ecr", "describe-images"]]


def test_s01_new_content_is_built_for_fargate_and_pushed_under_its_content_tag(project: Path) -> None:
    env = _publish_env(project)
    code, out, err, calls = _run(project, **env)
    assert (code, err) == (0, ""), err
    image = f"{REPOSITORY}:{env['IMAGE_TAG']}"
    assert [c.split()[1] for c in calls] == ["ecr", "info", "ecr", "login", "build", "push"]
    assert calls[4] == f"docker build --pull --platform linux/amd64 --tag {image} {project / 'service'}"
    assert calls[5] == f"docker push {image}"
    assert "--password-stdin 123456789012.dkr.ecr.eu-north-1.amazonaws.com" in calls[3]
    assert "pushed catalog-api-images-dev:src-" in out


def test_s01_content_changed_after_the_synth_is_refused_before_any_build(project: Path) -> None:
    env = _publish_env(project)
    (project / "service" / "app" / "main.py").write_text("print('v2')\n")
    code, _, err, calls = _run(project, **env)
    assert code == 1 and calls == []
    assert err.count("\n") == 1 and "service/ changed after the synth" in err and "run the deploy again" in err


def test_s01_a_failed_build_pushes_nothing_and_says_so_in_one_line(project: Path) -> None:
    code, _, err, calls = _run(project, **_publish_env(project, BUILD_FAILS="1"))
    assert code == 1
    assert not [c for c in calls if c.startswith("docker push")]
    assert err.strip().splitlines()[-1].startswith("image: docker build of service/ failed")


def test_s01_no_docker_daemon_is_one_line_before_any_login(project: Path) -> None:
    code, _, err, calls = _run(project, **_publish_env(project, NO_DAEMON="1"))
    assert code == 1
    assert err == "image: no Docker daemon is reachable (docker info failed); deploy from a machine where Docker runs\n"
    assert not [c for c in calls if "login" in c]


def test_s01_run_by_hand_without_the_apply_it_names_what_is_missing(project: Path) -> None:
    code, _, err, calls = _run(project)
    assert (code, calls) == (1, [])
    assert (
        err
        == "image: IMAGE_CONTEXT, IMAGE_TAG, REPOSITORY_URL not set: the app layer's apply sets them (make deploy-app)\n"
    )


PROD = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/catalog-api-images-prod"


def test_s01_promote_copies_a_digest_and_prints_the_environment_line(project: Path) -> None:
    code, out, err, calls = _run(project, "promote", f"{REPOSITORY}@{DIGEST}", PROD)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f'image = "{PROD}@{DIGEST}"'
    docker = [c for c in calls if c.startswith("docker ") and " info" not in c and " login" not in c]
    assert docker == [
        f"docker pull --platform linux/amd64 {REPOSITORY}@{DIGEST}",
        f"docker tag {REPOSITORY}@{DIGEST} {PROD}:promoted-{DIGEST[7:19]}",
        f"docker push {PROD}:promoted-{DIGEST[7:19]}",
    ]


def test_s01_promote_refuses_when_the_registry_did_not_keep_the_digest(project: Path) -> None:
    code, _, err, _ = _run(project, "promote", f"{REPOSITORY}@{DIGEST}", PROD, PUSH_REWRITES="1")
    assert code == 1 and "did not keep sha256:" in err


def test_s01_promote_of_a_digest_already_there_copies_nothing(project: Path) -> None:
    code, out, _, calls = _run(project, "promote", f"{REPOSITORY}@{DIGEST}", PROD, HAS_DIGEST="1")
    assert code == 0 and "nothing copied" in out
    assert not [c for c in calls if c.startswith("docker")]


@pytest.mark.parametrize("source", [f"{REPOSITORY}:latest", "nginx@" + DIGEST, f"{REPOSITORY}@sha256:abc"])
def test_s01_promote_takes_only_an_ecr_image_by_digest(project: Path, source: str) -> None:
    code, _, err, calls = _run(project, "promote", source, PROD)
    assert (code, calls) == (1, [])
    assert "is not <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>" in err


def test_s01_a_deploy_that_builds_stops_first_without_docker(project: Path, tmp_path: Path) -> None:
    # Checked before the network layer deploys, not halfway through the app layer's apply.
    building = tmp_path / "app.tf.json"
    building.write_text('{"provisioner": [{"local-exec": {"command": "python3 scripts/publish_image.py"}}]}')
    (project.parent / "bin" / "docker").unlink()
    env = {"CDKTF_APP_LAYER": str(building), "PATH": str(project.parent / "bin")}
    done = subprocess.run(
        [sys.executable, "scripts/publish_image.py", "ready"], cwd=project, env=env, capture_output=True, text=True
    )
    assert done.returncode == 1
    assert done.stderr.startswith("image: docker is not installed: the app layer builds the API image from service/")
    prebuilt = tmp_path / "prebuilt.tf.json"
    prebuilt.write_text('{"provisioner": [{"local-exec": {"command": "python3 scripts/secret_value.py"}}]}')
    done = subprocess.run(
        [sys.executable, "scripts/publish_image.py", "ready"],
        cwd=project,
        env={**env, "CDKTF_APP_LAYER": str(prebuilt)},
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr) == (0, ""), "a prebuilt digest or the placeholder needs no Docker"
    (project.parent / "bin" / "aws").unlink()
    done = subprocess.run(
        [sys.executable, "scripts/publish_image.py", "ready"],
        cwd=project,
        env={**env, "CDKTF_APP_LAYER": str(prebuilt)},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr == "image: aws is not installed: the app layer's deploy stores the admin token's value with it\n"
