"""Build the service's Dockerfile with buildah on a Debian stand-in base and boot it as ECS would.

`make -C service image-check` (as root; needs Debian's `buildah` and `debootstrap`):

1. reads the API container's definition from the synthesized app layer (environment names and
   values, secret names);
2. makes the stand-in base `localhost/python-standin:3.11` once (debootstrap of Debian bookworm,
   whose python3 is 3.11) and caches it in service/.image-check/ and in buildah's storage;
3. builds service/Dockerfile with `buildah bud --isolation chroot`, PYTHON_BASE set to it and
   RDS_CA_BUNDLE_URL set to a loopback copy of the stand-in CA;
4. starts a throwaway PostgreSQL with TLS, its certificate signed by a stand-in for the RDS CA
   that the build baked into the image (the task definition asks for DB_SSLMODE=verify-full),
   and a loopback stand-in for Secrets Manager holding the admin token at its ARN;
5. runs the image's ENTRYPOINT + CMD as its USER with the task definition's variables, then
   checks GET /health, a write with the admin token, the product list, a write without it,
   the process's uid, and a clean stop on SIGTERM.

The stand-in base is NOT the production base (python:3.11-slim from ECR Public, pinned by
digest in the Dockerfile): Debian's python3.11 in /usr/bin with a `python` symlink, pip
installed from Debian's wheel, this machine's extra CA certificates. What only the real base,
a registry and ECS show is listed in service/README.md ("Building and booting the image here").
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any

from devtools import pgserver, tls

SERVICE_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = SERVICE_DIR.parent
CACHE_DIR = SERVICE_DIR / ".image-check"
BASE_TAR = CACHE_DIR / "python-standin-bookworm.tar"
STANDIN_IMAGE = "localhost/python-standin:3.11"
IMAGE = "localhost/catalog-api:image-check"
DEBIAN_SUITE = "bookworm"
# python3-venv brings Debian's pip and setuptools wheels; ca-certificates and passwd are in
# the official slim image too (the Dockerfile's groupadd/useradd need passwd).
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates", "passwd")
CONTRACT = json.loads((SERVICE_DIR / "contract.json").read_text())
# Any 12 digits: nothing here reaches AWS. The ARNs only have to pass the service's validation.
LOCAL_ACCOUNT = "123456789012"
ADMIN_TOKEN = "image-check-" + secrets.token_hex(12)
STOP_BUDGET_S = 45.0
"""The service drains for up to 30 s (GRACEFUL_SHUTDOWN_S); ECS's stopTimeout is 120 s."""


class CheckFailedError(Exception):
    """A step failed; the message is the one line printed."""


@dataclass(frozen=True)
class ContainerDefinition:
    """The API container as the synthesized task definition describes it."""

    environment: Mapping[str, str]
    """Plain variables, name -> value (unresolved Terraform references kept as written)."""
    secrets: tuple[str, ...]
    """Names of the variables ECS injects from Secrets Manager."""
    port: int
    """The container port of its port mapping."""


def _run(args: list[str], *, log: Path, timeout: float, what: str, env: Mapping[str, str] | None = None) -> str:
    """Run a command, append its output to `log`, return stdout; fail in one line naming `what`."""
    with log.open("a") as out:
        out.write(f"\n$ {' '.join(args)}\n")
        out.flush()
        try:
            done = subprocess.run(
                args, stdout=subprocess.PIPE, stderr=out, text=True, timeout=timeout, env=env, check=False
            )
        except FileNotFoundError as exc:
            raise CheckFailedError(f"{what}: {args[0]} is not installed") from exc
        except subprocess.TimeoutExpired as exc:
            raise CheckFailedError(f"{what}: no result within {timeout:.0f} s") from exc
        out.write(done.stdout)
    if done.returncode != 0:
        raise CheckFailedError(f"{what}: `{' '.join(args[:3])} …` exited with {done.returncode}")
    return done.stdout


# --- the task definition -------------------------------------------------------------------------


def _environment_file() -> tuple[str, str]:
    """(suffix, region) of environments/dev.toml, the environment `make synth` uses by default."""
    data = tomllib.loads((REPO_ROOT / "environments" / "dev.toml").read_text())
    return str(data["suffix"]), str(data["region"])


def synthesize_app_layer(workdir: Path, log: Path) -> Path:
    """Synthesize the platform (default environment) with an image of the platform's own repository."""
    python = REPO_ROOT / ".venv" / "bin" / "python"
    if not python.exists():
        raise CheckFailedError(f"task definition: {python} is missing; run `make install` at the repository root")
    suffix, region = _environment_file()
    # The digest is a placeholder: the task definition's shape, not its image, is what is read.
    image = f"{LOCAL_ACCOUNT}.dkr.ecr.{region}.amazonaws.com/catalog-api-images-{suffix}@sha256:{'0' * 64}"
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/root"),
        "ENV": "dev",
        "CATALOG_OVERRIDES": "CONTAINER_IMAGE",
        "CONTAINER_IMAGE": image,
        "CDKTF_OUTDIR": str(workdir / "cdktf.out"),
    }
    with log.open("a") as out:
        done = subprocess.run(
            [str(python), "main.py"], cwd=REPO_ROOT, env=env, stdout=out, stderr=out, timeout=600, check=False
        )
    if done.returncode != 0:
        lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        reason = lines[-1][:300] if lines else "(no output)"
        raise CheckFailedError(f"task definition: the synth failed (exit {done.returncode}): {reason}")
    return workdir / "cdktf.out" / "stacks" / "app" / "cdk.tf.json"


def read_container_definition(app_stack: Path) -> ContainerDefinition:
    """The one container of the app layer's task definition that serves the contract's port."""
    try:
        stack: dict[str, Any] = json.loads(app_stack.read_text())
    except (OSError, ValueError) as exc:
        raise CheckFailedError(f"task definition: cannot read {app_stack}: {exc}") from exc
    definitions = stack.get("resource", {}).get("aws_ecs_task_definition", {})
    if len(definitions) != 1:
        raise CheckFailedError(f"task definition: expected one aws_ecs_task_definition, found {len(definitions)}")
    containers: list[dict[str, Any]] = json.loads(next(iter(definitions.values()))["container_definitions"])
    serving = [
        c for c in containers if any(m.get("containerPort") == CONTRACT["port"] for m in c.get("portMappings", []))
    ]
    if len(serving) != 1:
        raise CheckFailedError(f"task definition: expected one container on port {CONTRACT['port']}")
    container = serving[0]
    if "PLACEHOLDER_NGINX_CONF" in {e["name"] for e in container.get("environment", [])}:
        raise CheckFailedError("task definition: the app layer runs the placeholder, not the catalog API")
    return ContainerDefinition(
        environment={e["name"]: str(e["value"]) for e in container.get("environment", [])},
        secrets=tuple(s["name"] for s in container.get("secrets", [])),
        port=int(CONTRACT["port"]),
    )


# --- the stand-in base and the build --------------------------------------------------------------


def _image_exists(name: str) -> bool:
    return (
        subprocess.run(["buildah", "inspect", "--type", "image", name], capture_output=True, check=False).returncode
        == 0
    )


def make_base_tar(workdir: Path, log: Path) -> None:
    """debootstrap Debian bookworm, adapt it to the official image's layout, pack it as a tar."""
    rootfs = workdir / "rootfs"
    _run(
        ["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}", DEBIAN_SUITE, str(rootfs)],
        log=log,
        timeout=1200,
        what="stand-in base: debootstrap",
    )
    # The official image's python is /usr/local/bin/python with pip in its own site-packages and no
    # PEP 668 marker; the Dockerfile relies on all three (`python -m pip`, `pip uninstall`).
    (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)
    (rootfs / "usr/local/bin/python").symlink_to("/usr/bin/python3")
    wheels = sorted(str(p.relative_to(rootfs).as_posix()) for p in (rootfs / "usr/share/python-wheels").glob("*.whl"))
    pip_wheel = next(w for w in wheels if Path(w).name.startswith("pip-"))
    _run(
        ["chroot", str(rootfs), "/usr/bin/python3", f"/{pip_wheel}/pip", "install", "--quiet", "--no-index"]
        + [f"/{w}" for w in wheels if Path(w).name.startswith(("pip-", "setuptools-"))],
        log=log,
        timeout=300,
        what="stand-in base: pip from Debian's wheel",
    )
    # This machine may reach PyPI through a TLS-inspecting proxy: its local CAs go into the
    # stand-in's bundle (which Debian's pip reads) so the Dockerfile's pip install verifies.
    local_cas = sorted(Path("/usr/local/share/ca-certificates").glob("*.crt"))
    for ca in local_cas:
        shutil.copy(ca, rootfs / "usr/local/share/ca-certificates" / ca.name)
    if local_cas:
        _run(["chroot", str(rootfs), "update-ca-certificates"], log=log, timeout=120, what="stand-in base: CAs")
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for path in (rootfs / junk).glob("*"):
            if path.is_file():
                path.unlink()
    CACHE_DIR.mkdir(exist_ok=True)
    partial = BASE_TAR.with_suffix(f".{os.getpid()}.partial")
    _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], log=log, timeout=600, what="tar")
    partial.replace(BASE_TAR)


def import_base(log: Path) -> None:
    """`buildah from scratch` + the cached root file system, committed as STANDIN_IMAGE."""
    container = _run(["buildah", "from", "--quiet", "scratch"], log=log, timeout=60, what="stand-in base").strip()
    try:
        _run(["buildah", "add", "--quiet", container, str(BASE_TAR), "/"], log=log, timeout=600, what="import")
        _run(
            [
                "buildah",
                "config",
                "--env",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "--env",
                "LANG=C.UTF-8",
                "--cmd",
                "python3",
                "--label",
                "org.opencontainers.image.description=stand-in for python:3.11-slim (Debian bookworm)",
                container,
            ],
            log=log,
            timeout=60,
            what="stand-in base: config",
        )
        _run(["buildah", "commit", "--quiet", container, STANDIN_IMAGE], log=log, timeout=600, what="commit")
    finally:
        subprocess.run(["buildah", "rm", container], capture_output=True, check=False)


def build_image(workdir: Path, log: Path, *, no_cache: bool, ca_bundle_url: str) -> str:
    """Build the Dockerfile on the stand-in; the image ID (not the shared tag, which another run may move)."""
    iidfile = workdir / "image-id"
    args = ["buildah", "bud", "--isolation", "chroot", "--layers", "--force-rm", "--iidfile", str(iidfile)]
    args += ["--build-arg", f"PYTHON_BASE={STANDIN_IMAGE}", "--build-arg", f"RDS_CA_BUNDLE_URL={ca_bundle_url}"]
    if no_cache:
        args.append("--no-cache")
    _run([*args, "--tag", IMAGE, str(SERVICE_DIR)], log=log, timeout=1800, what="build")
    return iidfile.read_text().strip()


def production_base() -> str:
    match = re.search(r"^ARG PYTHON_BASE=(\S+)", (SERVICE_DIR / "Dockerfile").read_text(), re.MULTILINE)
    return match.group(1) if match else "(no ARG PYTHON_BASE in the Dockerfile)"


# --- the stand-ins for Aurora and Secrets Manager -------------------------------------------------


def enable_tls(server: pgserver.PostgresServer, ca: tls.Authority) -> None:
    """ssl=on with a certificate for 127.0.0.1 signed by the stand-in RDS CA: the task
    definition's DB_SSLMODE=verify-full then checks it against the bundle baked into the image."""
    certificate, key = tls.server_certificate(ca, dns_names=("localhost",), ip_addresses=("127.0.0.1",))
    try:
        tls.enable_tls(server, certificate_pem=certificate, key_pem=key)
    except RuntimeError as exc:
        raise CheckFailedError(f"database: {exc}") from exc


def _serve_on_loopback(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """``handler`` on a free loopback port, in a daemon thread."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _stop_serving(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


@dataclass
class BundleServer:
    """Serves the stand-in CA on loopback as the build's RDS_CA_BUNDLE_URL (AWS's trust store is unreachable here)."""

    pem: bytes
    """The bundle's bytes."""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> str:
        pem = self.pem

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/x-pem-file")
                self.send_header("Content-Length", str(len(pem)))
                self.end_headers()
                self.wfile.write(pem)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _serve_on_loopback(Handler)
        return f"http://127.0.0.1:{self._server.server_address[1]}/global-bundle.pem"

    def stop(self) -> None:
        _stop_serving(self._server)


@dataclass
class SecretsManagerStandIn:
    """GetSecretValue on loopback, for the ARNs the task definition passes; records each read."""

    values: Mapping[str, str]
    """SecretString by ARN."""
    reads: list[str] = field(default_factory=list)
    """ARNs read, in order."""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> int:
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
                arn = str(body.get("SecretId", ""))
                if self.headers.get("X-Amz-Target") != "secretsmanager.GetSecretValue" or arn not in stand_in.values:
                    self._answer(400, {"__type": "ResourceNotFoundException", "message": "not found"})
                    return
                stand_in.reads.append(arn)
                name = arn.rsplit(":", 1)[-1]
                self._answer(
                    200,
                    {"ARN": arn, "Name": name, "SecretString": stand_in.values[arn], "VersionId": "v1"}
                    | {"VersionStages": ["AWSCURRENT"], "CreatedDate": time.time()},
                )

            def _answer(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = _serve_on_loopback(Handler)
        return int(self._server.server_address[1])

    def stop(self) -> None:
        _stop_serving(self._server)


def local_environment(
    definition: ContainerDefinition, db: pgserver.PostgresServer, *, port: int, secrets_port: int
) -> tuple[dict[str, str], dict[str, str]]:
    """(the container's variables for this machine, SecretString by ARN for the Secrets Manager stand-in).

    Every name the task definition lists is passed; literal values unchanged except the addresses
    (DB_HOST, DB_READER_HOST, DB_PORT, PORT: the container shares this machine's network); Terraform references
    to secret ARNs become local ARNs that the stand-in serves.
    """
    region = definition.environment.get("AWS_REGION", "eu-north-1")
    env: dict[str, str] = {}
    served: dict[str, str] = {}
    for name, value in definition.environment.items():
        if name in ("DB_HOST", "DB_READER_HOST"):
            # One local server stands in for Aurora's writer and reader endpoints alike.
            env[name] = "127.0.0.1"
        elif name == "DB_PORT":
            env[name] = str(db.port)
        elif name == "PORT":
            env[name] = str(port)
        elif name.endswith("_SECRET_ARN"):
            env[name] = f"arn:aws:secretsmanager:{region}:{LOCAL_ACCOUNT}:secret:image-check-{name.lower()}"
        elif "${" in value:
            raise CheckFailedError(f"boot: no local stand-in for {name}={value[:60]}")
        else:
            env[name] = value
    injected = {"DB_USER": pgserver.MASTER_USER, "DB_PASSWORD": db.master_password}
    for name in definition.secrets:
        if name not in injected:
            raise CheckFailedError(f"boot: no local value for the injected secret {name}")
        env[name] = injected[name]
    if "DB_SECRET_ARN" in env:
        served[env["DB_SECRET_ARN"]] = json.dumps(
            {"username": injected["DB_USER"], "password": injected["DB_PASSWORD"]}
        )
    if "ADMIN_TOKEN_SECRET_ARN" in env:
        served[env["ADMIN_TOKEN_SECRET_ARN"]] = ADMIN_TOKEN
    # What ECS gives through the task role's credentials endpoint and the regional endpoint.
    env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = f"http://127.0.0.1:{secrets_port}"
    env["AWS_ACCESS_KEY_ID"] = "AKIAIMAGECHECKLOCAL0"
    env["AWS_SECRET_ACCESS_KEY"] = secrets.token_hex(20)
    return env, served


# --- booting and checking -------------------------------------------------------------------------


def _request(port: int, method: str, path: str, *, token: str | None = None, body: Any = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")
    finally:
        conn.close()


@dataclass
class Boot:
    """The image's entry point running in a buildah container on the host network."""

    container: str
    config: Mapping[str, Any]
    """The image's OCI config: Entrypoint, Cmd, User, WorkingDir, StopSignal."""
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    def last_log_line(self) -> str:
        lines = self.log_path.read_text(errors="replace").strip().splitlines()
        return lines[-1][:300] if lines else "(no output)"


def image_config(image: str, log: Path) -> dict[str, Any]:
    """The built image's OCI config (Entrypoint, Cmd, User, WorkingDir, Env)."""
    out = _run(["buildah", "inspect", "--type", "image", image], log=log, timeout=60, what="image config")
    config: dict[str, Any] = json.loads(out)["OCIv1"]["config"]
    return config


def boot(image: str, env: Mapping[str, str], port: int, log: Path) -> Boot:
    config = image_config(image, log)
    command = [*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])]
    container = _run(
        ["buildah", "from", "--quiet", "--name", f"image-check-{os.getpid()}", image],
        log=log,
        timeout=300,
        what="boot",
    ).strip()
    args = ["buildah", "run", "--isolation", "chroot", "--network", "host", "--user", str(config.get("User") or "")]
    args += ["--workingdir", str(config.get("WorkingDir") or "/")]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    log_path = CACHE_DIR / "last-service.log"
    with log_path.open("wb") as out:
        # Its own process group: killing `buildah run` alone would leave the chroot'ed service running.
        process = subprocess.Popen(
            [*args, container, "--", *command], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Boot(container=container, config=config, process=process, port=port, log_path=log_path)


def wait_healthy(booted: Boot, within_s: float) -> None:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if booted.process.poll() is not None:
            raise CheckFailedError(f"boot: exited with {booted.process.returncode}: {booted.last_log_line()}")
        with contextlib.suppress(OSError):
            if _request(booted.port, "GET", CONTRACT["health_path"])[0] == 200:
                return
        time.sleep(0.25)
    raise CheckFailedError(f"boot: no 200 from {CONTRACT['health_path']} within {within_s:.0f} s")


def service_pid(booted: Boot) -> int:
    """The image's process: the one whose command is the service and whose environment has this boot's PORT.

    Chroot isolation gives it no PID namespace, so it is found among the machine's processes.
    """
    marker = f"PORT={booted.port}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == booted.process.pid:
            continue
        with contextlib.suppress(OSError):
            if b"catalog_api" in (proc / "cmdline").read_bytes() and marker in (proc / "environ").read_bytes().split(
                b"\0"
            ):
                return int(proc.name)
    raise CheckFailedError("checks: the service's process was not found")


def _uid(pid: int) -> int:
    match = re.search(r"^Uid:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    if match is None:
        raise CheckFailedError(f"checks: no Uid line in /proc/{pid}/status")
    return int(match.group(1))


def check_requests(
    booted: Boot, stand_in: SecretsManagerStandIn, token_arn: str | None, db: pgserver.PostgresServer
) -> list[str]:
    """The checks against the booted image; one line each for the report."""
    done: list[str] = []
    status, _ = _request(booted.port, "GET", CONTRACT["health_path"])
    if status != 200:
        raise CheckFailedError(f"checks: GET {CONTRACT['health_path']} answered {status}, expected 200")
    done.append(f"GET {CONTRACT['health_path']} -> 200")
    sku = f"IMG-CHECK-{secrets.token_hex(4).upper()}"
    body = {"sku": sku, "name": "Image check", "category": "test", "price": "1.00"}
    status, _ = _request(booted.port, "POST", "/products", body=body)
    if status != 401:
        raise CheckFailedError(f"checks: POST /products without a token answered {status}, expected 401")
    done.append("POST /products without a token -> 401")
    status, created = _request(booted.port, "POST", "/products", token=ADMIN_TOKEN, body=body)
    if status != 201:
        raise CheckFailedError(f"checks: POST /products with the admin token answered {status}: {str(created)[:200]}")
    done.append("POST /products with the admin token (read from Secrets Manager at its ARN) -> 201")
    status, listing = _request(booted.port, "GET", "/products?limit=100")
    if status != 200 or sku not in {item.get("sku") for item in (listing or {}).get("items", [])}:
        raise CheckFailedError(f"checks: GET /products answered {status} without the product just written")
    done.append("GET /products -> 200, lists the product just written")
    if token_arn is not None and token_arn not in stand_in.reads:
        raise CheckFailedError("checks: the service did not read ADMIN_TOKEN_SECRET_ARN from Secrets Manager")
    with db.admin() as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(bool_and(s.ssl), false) FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)"
            " WHERE a.usename = %s",
            (pgserver.MASTER_USER,),
        ).fetchone()
    if row is None or row[0] == 0 or not row[1]:
        raise CheckFailedError("checks: the service's database connections are not all TLS")
    done.append(f"its {row[0]} database connection(s) use TLS")
    image_env = dict(item.split("=", 1) for item in booted.config.get("Env") or [] if "=" in item)
    for name, value in CONTRACT["image_environment"].items():
        if image_env.get(name) != value:
            raise CheckFailedError(f"checks: the image sets {name}={image_env.get(name)}, the contract says {value}")
    done.append(
        "the image sets "
        + " ".join(f"{k}={v}" for k, v in CONTRACT["image_environment"].items())
        + "; with the task definition's DB_SSLMODE the stand-in CA's certificate was verified against it"
    )
    uid = _uid(service_pid(booted))
    expected = int(str(booted.config.get("User") or "0").split(":")[0])
    if uid != expected or uid == 0:
        raise CheckFailedError(f"checks: the service runs as uid {uid} (image USER {expected}); it must not be root")
    done.append(f"the service runs as uid {uid} (the image's USER, not root)")
    return done


def stop(booted: Boot) -> int:
    """The image's STOPSIGNAL to the service's process, as the container runtime sends it when ECS stops a task.

    `buildah run` does not forward signals (it kills its child), so the signal goes to the process itself.
    """
    stop_signal = signal.Signals[str(booted.config.get("StopSignal") or "SIGTERM")]
    os.kill(service_pid(booted), stop_signal)
    try:
        return booted.process.wait(timeout=STOP_BUDGET_S)
    except subprocess.TimeoutExpired as exc:
        raise CheckFailedError(f"stop: still running {STOP_BUDGET_S:.0f} s after {stop_signal.name}") from exc


# --- the run --------------------------------------------------------------------------------------


class Steps:
    """Prints each step with its duration; the total at the end."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.number = 0
        self.started = time.monotonic()
        self.current = ""

    @contextlib.contextmanager
    def step(self, title: str) -> Iterator[None]:
        self.number += 1
        self.current = title
        print(f"[{self.number}/{self.total}] {title} ...", flush=True)
        began = time.monotonic()
        yield
        print(f"      done in {time.monotonic() - began:.1f} s", flush=True)

    def elapsed(self) -> float:
        return time.monotonic() - self.started


def _preflight(*, need_debootstrap: bool) -> None:
    if os.geteuid() != 0:
        raise CheckFailedError("preflight: run as root (buildah --isolation chroot and debootstrap need it)")
    tools = ["buildah", "tar"] + (["debootstrap", "chroot"] if need_debootstrap else [])
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        raise CheckFailedError(
            f"preflight: {', '.join(missing)} not installed; on Debian: apt-get install -y buildah debootstrap"
        )


def run(app_stack: Path | None, *, cold: bool, steps: Steps, cleanups: list[Callable[[], None]]) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="image-check-"))
    cleanups.append(lambda: _remove_workdir(workdir))
    CACHE_DIR.mkdir(exist_ok=True)
    log = CACHE_DIR / "last-run.log"
    log.write_text("")
    print(f"image-check: details in {log}")
    print(f"image-check: base is a STAND-IN ({STANDIN_IMAGE}: Debian {DEBIAN_SUITE}, python3.11 from Debian),")
    print(f"             not the production base {production_base()}")
    if cold:
        BASE_TAR.unlink(missing_ok=True)
        for name in (IMAGE, STANDIN_IMAGE):
            subprocess.run(["buildah", "rmi", "--force", name], capture_output=True, check=False)
        # The layer cache of earlier builds (untagged images) goes too: nothing is reused.
        subprocess.run(["buildah", "rmi", "--prune"], capture_output=True, check=False)
    need_base = not _image_exists(STANDIN_IMAGE)
    _preflight(need_debootstrap=need_base and not BASE_TAR.exists())

    with steps.step("task definition: the API container of the synthesized app layer"):
        definition = read_container_definition(app_stack or synthesize_app_layer(workdir, log))
        print(f"      environment: {', '.join(definition.environment)}; secrets: {', '.join(definition.secrets)}")

    with steps.step(f"stand-in base {STANDIN_IMAGE}"):
        if not need_base:
            print("      cached in buildah's storage")
        else:
            if BASE_TAR.exists():
                print(f"      from the cached root file system {BASE_TAR.relative_to(SERVICE_DIR)}")
            else:
                print(f"      debootstrap {DEBIAN_SUITE} ({', '.join(BASE_PACKAGES)})")
                make_base_tar(workdir, log)
            import_base(log)

    with steps.step(f"build service/Dockerfile -> {IMAGE} (buildah bud --isolation chroot)"):
        ca = tls.authority("stand-in Amazon RDS CA (image check)")
        bundle = BundleServer(pem=ca.pem)
        ca_bundle_url = bundle.start()
        cleanups.append(bundle.stop)
        print(f"      RDS_CA_BUNDLE_URL={ca_bundle_url} (a STAND-IN CA, not AWS's trust store)")
        image = build_image(workdir, log, no_cache=cold, ca_bundle_url=ca_bundle_url)

    with steps.step("database: throwaway PostgreSQL with TLS; Secrets Manager stand-in on loopback"):
        try:
            db = pgserver.start()
        except pgserver.PostgresUnavailableError as exc:
            raise CheckFailedError(f"database: {exc}") from exc
        cleanups.append(db.stop)
        enable_tls(db, ca)
        stand_in = SecretsManagerStandIn(values={})
        secrets_port = stand_in.start()
        cleanups.append(stand_in.stop)
        env, served = local_environment(definition, db, port=pgserver.free_port(), secrets_port=secrets_port)
        stand_in.values = served

    with steps.step("boot: the image's ENTRYPOINT + CMD as its USER, with the task definition's variables"):
        shown = {k: ("<set>" if k in definition.secrets or "SECRET_ACCESS" in k else v) for k, v in env.items()}
        print("      " + " ".join(f"{k}={v}" for k, v in shown.items()))
        booted = boot(image, env, int(env.get("PORT", CONTRACT["port"])), log)
        cleanups.append(lambda: _remove_container(booted))
        wait_healthy(booted, float(CONTRACT["start_within_seconds"]))

    with steps.step("checks against the booted image"):
        for line in check_requests(booted, stand_in, env.get("ADMIN_TOKEN_SECRET_ARN"), db):
            print(f"      ok  {line}")

    with steps.step("stop: the image's STOPSIGNAL, drained exit 0"):
        code = stop(booted)
        if code != 0:
            raise CheckFailedError(f"stop: exited with {code} after SIGTERM, expected 0: {booted.last_log_line()}")
    print(f"image-check: passed in {steps.elapsed():.1f} s (stand-in base, not the production base)")


def _remove_container(booted: Boot) -> None:
    """Kill whatever still runs in the boot's process group, then remove the container (and its mount)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(booted.process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        booted.process.wait(timeout=10)
    subprocess.run(["buildah", "rm", booted.container], capture_output=True, check=False)


def _remove_workdir(workdir: Path) -> None:
    """Unmount what an interrupted debootstrap left mounted in the root file system (/proc, /sys), then remove it."""
    mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for mountpoint in sorted((m for m in mounts if m.startswith(f"{workdir}/")), reverse=True):
        subprocess.run(["umount", "--lazy", mountpoint], capture_output=True, check=False)
    shutil.rmtree(workdir, ignore_errors=True)


def _raise_interrupt(signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.image_check", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--app-stack",
        type=Path,
        help="read the task definition from this synthesized app layer (cdk.tf.json) instead of synthesizing",
    )
    parser.add_argument("--cold", action="store_true", help="rebuild the stand-in base and the image from nothing")
    args = parser.parse_args(argv)
    cleanups: list[Callable[[], None]] = []
    steps = Steps(total=7)
    for stop_signal in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(stop_signal, _raise_interrupt)
    try:
        run(args.app_stack, cold=args.cold, steps=steps, cleanups=cleanups)
    except CheckFailedError as exc:
        print(f"image-check: FAILED: {exc} (details: {CACHE_DIR / 'last-run.log'})", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, not a traceback; the log has the details
        where = steps.current or "preparation"
        print(f"image-check: FAILED in {where!r}: {type(exc).__name__}: {str(exc)[:300]}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("image-check: interrupted; cleaned up", file=sys.stderr)
        return 130
    finally:
        for cleanup in reversed(cleanups):
            with contextlib.suppress(Exception):
                cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
