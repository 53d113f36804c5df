"""Build the API image and push it to the platform's ECR repository; or promote one by digest.

    python3 scripts/publish_image.py                 # what the app layer's apply runs (environment below)
    python3 scripts/publish_image.py ready           # before a deploy: Docker and the AWS CLI, if the app layer builds
    python3 scripts/publish_image.py promote SOURCE@sha256:<hex> TARGET_REPOSITORY_URL

``publish`` (the default) reads IMAGE_CONTEXT (build context relative to the project root),
IMAGE_TAG (``src-<sha256>`` of that context, computed at synth), REPOSITORY_URL and AWS_REGION.
It runs from the project root (the provisioner's working_dir) and:

1. refuses a context whose content no longer matches IMAGE_TAG (edited after the synth: the
   tag would name other bytes), with one line;
2. does nothing when the tag is already in the repository (tags there are immutable and
   name content, so a second run of one commit pushes nothing);
3. otherwise logs Docker in to the registry, builds for linux/amd64 (Fargate Spot runs
   x86_64 only) and pushes the tag.

``promote`` copies an image by digest into another environment's repository (build once,
release the same bytes everywhere) and prints the environment-file line; it checks that the
digest arrived unchanged. Standard library only; Docker and the AWS CLI do the work.
Every failure is one line on stderr and exit status 1 (2 for a usage error).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.image_source import TAG_PREFIX, source_tag  # noqa: E402

# How the synthesized app layer says it builds the image (shared/components/image_asset.py).
PUBLISH_MARKER = '"python3 scripts/publish_image.py"'
_REPOSITORY_URL = re.compile(
    r"(?P<registry>[0-9]{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com)/(?P<name>[a-z0-9._/-]+)"
)
_DIGEST_REFERENCE = re.compile(rf"(?P<repository>{_REPOSITORY_URL.pattern})@(?P<digest>sha256:[a-f0-9]{{64}})")


class PublishError(Exception):
    """One line for the person deploying."""


def _run(argv: Sequence[str], *, stdin: str | None = None, capture: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(list(argv), input=stdin, capture_output=capture, text=True, check=False)
    except FileNotFoundError:
        raise PublishError(f"{argv[0]} is not installed (needed to build and push the API image)") from None


def _last_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = [
        line.strip() for line in (done.stderr or "").splitlines() + (done.stdout or "").splitlines() if line.strip()
    ]
    return lines[-1] if lines else f"exit status {done.returncode}"


def _say(message: str) -> None:
    print(f"image: {message}", flush=True)


def _repository(url: str, what: str) -> re.Match[str]:
    match = _REPOSITORY_URL.fullmatch(url)
    if match is None:
        raise PublishError(f"{what} {url!r} is not <12-digit account>.dkr.ecr.<region>.amazonaws.com/<repository>")
    return match


def _image_exists(repository: re.Match[str], image_id: str) -> bool:
    done = _run(
        [
            "aws",
            "ecr",
            "describe-images",
            "--repository-name",
            repository["name"],
            "--image-ids",
            image_id,
            "--region",
            repository["region"],
            "--output",
            "text",
            "--query",
            "imageDetails[0].imageDigest",
        ]
    )
    if done.returncode == 0:
        return True
    if "ImageNotFoundException" in done.stderr:
        return False
    raise PublishError(f"could not look up {image_id} in {repository['name']}: {_last_line(done)}")


def _docker_ready() -> None:
    done = _run(["docker", "info", "--format", "{{.ServerVersion}}"])
    if done.returncode != 0:
        raise PublishError(
            "no Docker daemon is reachable (docker info failed); deploy from a machine where Docker runs"
        )


def _login(repository: re.Match[str]) -> None:
    password = _run(["aws", "ecr", "get-login-password", "--region", repository["region"]])
    if password.returncode != 0:
        raise PublishError(f"aws ecr get-login-password failed: {_last_line(password)}")
    login = _run(
        ["docker", "login", "--username", "AWS", "--password-stdin", repository["registry"]], stdin=password.stdout
    )
    if login.returncode != 0:
        raise PublishError(f"docker login to {repository['registry']} failed: {_last_line(login)}")


def publish(environ: Mapping[str, str], root: Path = ROOT) -> None:
    missing = [name for name in ("IMAGE_CONTEXT", "IMAGE_TAG", "REPOSITORY_URL") if not environ.get(name)]
    if missing:
        raise PublishError(f"{', '.join(missing)} not set: the app layer's apply sets them (make deploy-app)")
    context = root / environ["IMAGE_CONTEXT"]
    tag = environ["IMAGE_TAG"]
    repository = _repository(environ["REPOSITORY_URL"], "REPOSITORY_URL")
    if not tag.startswith(TAG_PREFIX):
        raise PublishError(f"IMAGE_TAG {tag!r} is not a content tag ({TAG_PREFIX}<sha256>)")
    if not (context / "Dockerfile").is_file():
        raise PublishError(f"{environ['IMAGE_CONTEXT']}/Dockerfile not found under {root}")
    current = source_tag(context)
    if current != tag:
        raise PublishError(
            f"{environ['IMAGE_CONTEXT']}/ changed after the synth (synthesized {tag[:16]}…, now {current[:16]}…): "
            "run the deploy again; it synthesizes first"
        )
    image = f"{environ['REPOSITORY_URL']}:{tag}"
    if _image_exists(repository, f"imageTag={tag}"):
        _say(f"{repository['name']} already has {tag[:16]}… (same content): nothing built or pushed")
        return
    _docker_ready()
    started = time.monotonic()
    _say(f"building {environ['IMAGE_CONTEXT']}/ for linux/amd64 as {repository['name']}:{tag[:16]}…")
    _login(repository)
    build = _run(
        ["docker", "build", "--pull", "--platform", "linux/amd64", "--tag", image, str(context)], capture=False
    )
    if build.returncode != 0:
        raise PublishError(
            f"docker build of {environ['IMAGE_CONTEXT']}/ failed (exit {build.returncode}); nothing pushed"
        )
    push = _run(["docker", "push", image], capture=False)
    if push.returncode != 0:
        raise PublishError(f"docker push of {repository['name']}:{tag[:16]}… failed (exit {push.returncode})")
    _say(f"pushed {repository['name']}:{tag[:16]}… in {time.monotonic() - started:.0f} s")


def ready(app_layer: Path) -> None:
    """Before any layer deploys: the tools the app layer's provisioners need must work.

    The AWS CLI stores the admin token's value (scripts/secret_value.py); Docker builds the
    image when the app layer builds it from service/ (not for a prebuilt digest or the placeholder).
    """
    text = app_layer.read_text() if app_layer.is_file() else ""
    needed = [tool for tool, marker in (("aws", '"local-exec"'), ("docker", PUBLISH_MARKER)) if marker in text]
    for tool in needed:
        if shutil.which(tool) is None:
            why = (
                "the app layer builds the API image from service/ during the deploy "
                '(or set image in the environment file to a prebuilt digest, or "placeholder")'
                if tool == "docker"
                else "the app layer's deploy stores the admin token's value with it"
            )
            raise PublishError(f"{tool} is not installed: {why}")
    if "docker" in needed:
        _docker_ready()


def promote(source: str, target_url: str) -> str:
    """Copy ``source`` (by digest) into ``target_url``; return the environment-file reference."""
    match = _DIGEST_REFERENCE.fullmatch(source)
    if match is None:
        raise PublishError(
            f"{source!r} is not <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex digits>"
        )
    digest = match["digest"]
    target = _repository(target_url, "target repository")
    reference = f"{target_url}@{digest}"
    if _image_exists(target, f"imageDigest={digest}"):
        _say(f"{target['name']} already has {digest[:19]}…: nothing copied")
        return reference
    source_repository = _repository(match["repository"], "source repository")
    _docker_ready()
    for repository in {source_repository["registry"]: source_repository, target["registry"]: target}.values():
        _login(repository)
    steps = (
        ["docker", "pull", "--platform", "linux/amd64", source],
        ["docker", "tag", source, f"{target_url}:promoted-{digest[7:19]}"],
        ["docker", "push", f"{target_url}:promoted-{digest[7:19]}"],
    )
    for argv in steps:
        done = _run(argv, capture=False)
        if done.returncode != 0:
            raise PublishError(f"{' '.join(argv[:2])} failed (exit {done.returncode}); nothing promoted")
    if not _image_exists(target, f"imageDigest={digest}"):
        raise PublishError(
            f"the push to {target['name']} did not keep {digest[:19]}… (the registry re-wrote the manifest); "
            "promote with a tool that copies manifests unchanged, or build in the target environment"
        )
    return reference


def main(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    try:
        if not argv:
            publish(environ)
            return 0
        if argv == ["ready"]:
            ready(Path(environ.get("CDKTF_APP_LAYER", ROOT / "cdktf.out" / "stacks" / "app" / "cdk.tf.json")))
            return 0
        if argv[0] == "promote" and len(argv) == 3:
            reference = promote(argv[1], argv[2])
            _say("promoted; put this line in the target environment's file and deploy its app layer:")
            print(f'image = "{reference}"')
            return 0
        print("usage: publish_image.py [ready | promote SOURCE@sha256:<hex> TARGET_REPOSITORY_URL]", file=sys.stderr)
        return 2
    except PublishError as error:
        print(f"image: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
