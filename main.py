#!/usr/bin/env python
"""Composition root of the Product Catalog API platform.

Reads the configuration once, validates it before cdktf or the AWS provider is
imported (a bad value costs well under a second and writes nothing), then builds
the four layer stacks, handing each consumer what it needs from its producers.
"""

from __future__ import annotations

import atexit
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from shared import outdir
from shared.config import PROJECT, Config, ConfigError, load_config

if TYPE_CHECKING:
    from cdktf import TerraformStack
    from constructs import Construct

    from shared.components.image_asset import ImageChoice
    from shared.layer import LayerContext
    from stacks.app_stack import AppStack
    from stacks.bootstrap_stack import BootstrapStack
    from stacks.data_stack import DataStack
    from stacks.edge_stack import EdgeStack
    from stacks.network_stack import NetworkStack

ROOT = Path(__file__).resolve().parent
OUTDIR = "cdktf.out"
BOOTSTRAP_OUTDIR = "cdktf.out.bootstrap"
USAGE = """\
usage: python main.py [--bootstrap]   (usually through `make synth`)

Validates environments/<ENV>.toml, then synthesizes the four layers (network, data,
app, edge) into cdktf.out/. Nothing is written when the configuration is refused.

  --bootstrap   synthesize only the remote-state bootstrap stack, into cdktf.out.bootstrap/
  -h, --help    show this help and exit

Variables: ENV (environment file name, default dev), CATALOG_ENVIRONMENTS_DIR (another
folder of environment files), CATALOG_OVERRIDES (variables allowed to override the file,
e.g. CONTAINER_IMAGE), CDKTF_OUTDIR (another output folder).
"""
# on every resource through provider default_tags.
BASE_TAGS: Mapping[str, str] = {"Environment": "production", "Project": PROJECT, "ManagedBy": "cdktf"}
# The API's build context, relative to the project root: the default image is built from it.
SERVICE_DIRECTORY = "service"
# Fargate's part of a task start that the service's start budget does not cover: placing the
# task, attaching its network interface and pulling the image. Not measured here (no AWS
# account); two minutes is a margin chosen for a 1-vCPU task and an image of a few hundred MB.
TASK_PLACEMENT_SECONDS = 120


def task_lead(root: Path = ROOT) -> timedelta:
    """How long before a sale its tasks are started, from the service's own start budget (S-04).

    service/contract.json ``start_within_seconds`` (process start to listening, migrations
    included) plus the ALB's health checks until the target is healthy (healthy_threshold x
    interval) plus TASK_PLACEMENT_SECONDS, rounded up to whole minutes.
    """
    from shared.components.load_balancer import HealthCheck

    contract = json.loads((root / SERVICE_DIRECTORY / "contract.json").read_text(encoding="utf-8"))
    check = HealthCheck()
    seconds = int(contract["start_within_seconds"]) + check.healthy_threshold * check.interval_seconds
    return timedelta(minutes=math.ceil((seconds + TASK_PLACEMENT_SECONDS) / 60))


def canonical_query(root: Path = ROOT) -> dict[str, tuple[str, ...]]:
    """The query parameters the API accepts per catalog-read path pattern (S-05).

    service/contract.json ``canonical_query.routes``: each read route of the API (``/products``,
    ``/products/{id}``, ``/products/sku/{sku}``) to the parameter names it accepts. The edge's
    cached behaviors match path patterns (``/products``, ``/products/*``), so a route below its
    first segment becomes the pattern ``/<first segment>/*``, and routes sharing a pattern must
    accept the same names. The edge keeps only these, in alphabetical order, in the cache key. Read here and
    nowhere else.
    """
    where = f"{SERVICE_DIRECTORY}/contract.json canonical_query.routes"
    contract = json.loads((root / SERVICE_DIRECTORY / "contract.json").read_text(encoding="utf-8"))
    section = contract.get("canonical_query")
    routes = section.get("routes") if isinstance(section, dict) else None
    if not isinstance(routes, dict) or not routes:
        raise ValueError(f"{where} is missing or empty; allowed: an object from a read route to parameter names")
    patterns: dict[str, tuple[str, ...]] = {}
    for route, names in routes.items():
        if not (isinstance(names, list) and all(isinstance(n, str) and n for n in names)):
            raise ValueError(f"{where} {route!r}: {names!r} is not allowed: a list of parameter names")
        if len(set(names)) != len(names):
            raise ValueError(f"{where} {route!r}: {names!r} is not allowed: each name once")
        first, _, rest = route.lstrip("/").partition("/")
        pattern = f"/{first}/*" if rest else route
        if patterns.setdefault(pattern, tuple(names)) != tuple(names):
            raise ValueError(
                f"{where} {route!r}: {names!r} is not allowed: routes under the edge pattern {pattern} "
                "must accept the same parameters"
            )
    return patterns


@dataclass(frozen=True)
class Layers:
    """The four stacks, in deployment order."""

    network: NetworkStack
    data: DataStack
    app: AppStack
    edge: EdgeStack


def _context(config: Config, *, local_state: bool = False) -> LayerContext:
    from shared.config import StateConfig
    from shared.layer import LayerContext
    from shared.naming import PERMISSIONS_BOUNDARY_KIND, Naming

    naming = Naming(project=PROJECT, suffix=config.environment_suffix)
    return LayerContext(
        naming=naming,
        region=config.region,
        tags={**BASE_TAGS, "EnvironmentSuffix": config.environment_suffix},
        state=StateConfig() if local_state else config.state,
        # With a GitHub repository, `make bootstrap` creates the boundary and a deploy role
        # that may create roles only with it; without one, no boundary policy exists.
        permissions_boundary=naming.name(PERMISSIONS_BOUNDARY_KIND) if config.github_repository else None,
    )


def _add_guardrails(*stacks: TerraformStack) -> None:
    # Every known apply-time failure (SPEC section 4) stops the synth instead. cdktf
    # invokes aspects from each stack down, so the aspect goes on every stack.
    from cdktf import Aspects

    from shared.guardrails import Guardrails

    guardrails = Guardrails()
    for stack in stacks:
        Aspects.of(stack).add(guardrails)


def build_bootstrap(scope: Construct, config: Config) -> BootstrapStack:
    """Create the remote-state bootstrap stack (local state; GitHub deploy roles when a repository is set)."""
    from stacks.bootstrap_stack import BootstrapStack, BootstrapStackProps

    context = _context(config, local_state=True)
    if config.state.bucket is not None:
        # The bucket is created where the environment file says it lives.
        context = replace(context, region=config.state.bucket_region)
    props = BootstrapStackProps(
        context=context,
        bucket_name=config.state.bucket,
        lock_table_name=config.state.lock_table,
        github_repository=config.github_repository,
        github_environment=config.environment_name,
        deploy_region=config.region,
        hosted_zone_id=config.domain.hosted_zone_id if config.domain is not None else None,
    )
    stack = BootstrapStack(scope, "bootstrap", props=props)
    _add_guardrails(stack)
    return stack


def image_choice(config: Config, root: Path = ROOT) -> ImageChoice:
    """What the app layer's tasks run: a prebuilt digest, the placeholder on request, or service/ built from source."""
    from shared.components.image_asset import PlaceholderImage, PrebuiltImage, SourceImage
    from shared.image_source import source_tag

    if config.placeholder:
        return PlaceholderImage()
    if config.container_image is not None:
        return PrebuiltImage(reference=config.container_image)
    return SourceImage(directory=SERVICE_DIRECTORY, tag=source_tag(root / SERVICE_DIRECTORY))


def build(scope: Construct, config: Config, *, image: ImageChoice | None = None, now: datetime | None = None) -> Layers:
    """Create the four stacks in ``scope`` (an App) from a validated ``config``.

    ``image`` defaults to ``image_choice(config)``; tests pass one to synthesize another content.
    ``now`` (default: the clock) decides whether a sale window is raised at deploy time.
    """
    from shared.components.fargate_service import DatabaseConnection, Scaling
    from shared.components.scheduled_capacity import CapacityWindow
    from shared.config import READER_LEAD
    from stacks.app_stack import AppStack, AppStackProps, OriginTls
    from stacks.data_stack import DataStack, DataStackProps
    from stacks.edge_stack import EdgeStack, EdgeStackProps
    from stacks.network_stack import NetworkStack, NetworkStackProps

    context = _context(config)
    moment = now if now is not None else datetime.now(UTC)
    lead = task_lead()
    # Terraform owns the scalable targets' bounds: a deploy inside a raised window keeps the
    # sale's bounds instead of putting [scaling]'s back until the window's restore.
    task_sale = next((sale for sale in config.sales if sale.starts - lead <= moment < sale.ends), None)
    reader_sale = next((sale for sale in config.sales if sale.starts - READER_LEAD <= moment < sale.ends), None)

    def windows(kind: str) -> tuple[CapacityWindow, ...]:
        return tuple(
            CapacityWindow(
                name=sale.name,
                starts=sale.starts,
                ends=sale.ends,
                min_capacity=sale.min_tasks if kind == "tasks" else sale.min_readers,
                max_capacity=sale.max_tasks if kind == "tasks" else config.max_readers,
            )
            for sale in config.sales
        )

    network = NetworkStack(
        scope,
        "network",
        props=NetworkStackProps(context=context, nat_gateways=config.nat_gateways, alarm_email=config.alarm_email),
    )
    data = DataStack(
        scope,
        "data",
        props=DataStackProps(
            context=context,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            availability_zones=network.private_subnet_zones,
            app_security_group_id=network.app_security_group_id,
            alarm_topic_arn=network.alarm_topic_arn,
            deletion_protection=config.deletion_protection,
            final_snapshot=config.final_snapshot,
            max_readers=config.max_readers,
            min_readers=reader_sale.min_readers if reader_sale else 1,
            reader_sales=windows("readers"),
            reader_lead=READER_LEAD,
        ),
    )
    domain = config.domain
    origin_tls = (
        OriginTls(domain_name=domain.origin_name, hosted_zone_id=domain.hosted_zone_id, zone_name=domain.zone_name)
        if domain is not None
        and domain.origin_name is not None
        and domain.hosted_zone_id is not None
        and domain.zone_name is not None
        else None
    )
    app = AppStack(
        scope,
        "app",
        props=AppStackProps(
            context=context,
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            app_security_group_id=network.app_security_group_id,
            database=DatabaseConnection(
                host=data.db_host,
                reader_host=data.reader_endpoint,
                port=data.db_port,
                name=data.db_name,
                secret_arn=data.db_secret_arn,
                security_group_id=data.db_security_group_id,
            ),
            image=image if image is not None else image_choice(config),
            alarm_topic_arn=network.alarm_topic_arn,
            on_demand_base=config.on_demand_base,
            scaling=Scaling(
                min_tasks=task_sale.min_tasks if task_sale else config.min_tasks,
                max_tasks=task_sale.max_tasks if task_sale else config.max_tasks,
                restore_min_tasks=config.min_tasks,
                restore_max_tasks=config.max_tasks,
                sales=windows("tasks"),
                sale_lead=lead,
            ),
            deletion_protection=config.deletion_protection,
            origin_tls=origin_tls,
        ),
    )
    edge = EdgeStack(
        scope,
        "edge",
        props=EdgeStackProps(
            context=context,
            alb_dns_name=app.alb_dns_name,
            alb_arn=app.alb_arn,
            service=app.service_identity,
            db_cluster_identifier=data.db_cluster_identifier,
            waf_enabled=config.waf_enabled,
            domain_name=config.domain.name if config.domain else None,
            hosted_zone_id=config.domain.hosted_zone_id if config.domain else None,
            zone_name=config.domain.zone_name if config.domain else None,
            canonical_query=canonical_query(),
            origin_shield_region=config.origin_shield_region,
            origin_https_name=origin_tls.domain_name if origin_tls else None,
        ),
    )
    _add_guardrails(network, data, app, edge)
    return Layers(network=network, data=data, app=app, edge=edge)


def main(environ: Mapping[str, str], argv: Sequence[str] = ()) -> int:
    """Validate configuration, then synthesize all stacks into ``cdktf.out/``.

    ``--bootstrap`` synthesizes only the remote-state bootstrap stack, into
    ``cdktf.out.bootstrap/``. With ``CATALOG_SYNTH_TIMINGS=<file>`` the seconds spent
    in each phase are written there as JSON (used by ``make bench``).
    """
    if "--help" in argv or "-h" in argv:
        print(USAGE, end="")
        return 0
    bootstrap = "--bootstrap" in argv
    unknown = [arg for arg in argv if arg != "--bootstrap"]
    if unknown:
        print(f"usage error: unknown argument {unknown[0]!r}; allowed: --bootstrap, --help", file=sys.stderr)
        return 2
    clock = _Clock()
    try:
        config = load_config(environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    if report := config.override_report():
        print(report, file=sys.stderr)
    clock.lap("config")
    # The output folder is checked before the slow imports too: a refused one costs
    # well under a second, and nothing is deleted or half-written (shared/outdir.py).
    try:
        target = outdir.Target.resolve(
            environ.get("CDKTF_OUTDIR"),
            BOOTSTRAP_OUTDIR if bootstrap else OUTDIR,
            cwd=Path.cwd(),
            project_root=ROOT,
            home=Path.home(),
        )
        outdir.check(target)
    except outdir.OutputError as error:
        print(f"output error: {error}", file=sys.stderr)
        return error.status

    from shared import provider_loader

    provider_loader.enable(eager=environ.get(provider_loader.DISABLE_SWITCH) == "1")
    from cdktf import App

    import stacks.app_stack
    import stacks.data_stack
    import stacks.edge_stack
    import stacks.network_stack  # noqa: F401 - imported here so the import phase is timed on its own

    clock.lap("import")

    def synthesize(staging: Path) -> None:
        try:
            app = App(outdir=str(staging))
            if bootstrap:
                build_bootstrap(app, config)
            else:
                build(app, config)
            clock.lap("build")
            app.synth()
        except outdir.Interrupted:
            _stop_node_quietly()
            raise

    # Synthesized next to the target and swapped in only when every stack passed its
    # guardrails, so a refused or interrupted synth leaves the previous output as it was.
    try:
        outdir.write(target, synthesize, on_wait=lambda message: print(message, file=sys.stderr))
    except outdir.OutputError as error:
        print(f"output error: {error}", file=sys.stderr)
        return error.status
    except Exception as error:  # noqa: BLE001 - report, clean up, exit non-zero
        print(f"synth refused: {_first_lines(error)}", file=sys.stderr)
        return 1
    clock.lap("synth")
    if timings := environ.get("CATALOG_SYNTH_TIMINGS"):
        Path(timings).write_text(json.dumps(clock.laps))
    return 0


class _Clock:
    """Seconds per phase since the previous lap."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = now - self._last
        self._last = now


def _first_lines(error: Exception) -> str:
    """The guardrail messages of a failed validation, without the JavaScript stack."""
    lines = [line.strip() for line in str(error).splitlines()]
    # cdktf's hint to skip validations is dropped on purpose: the guardrails are the point.
    kept = [line for line in lines if line and not line.startswith(("at ", "If you wish to ignore"))]
    return "\n".join(kept) or type(error).__name__


def use_project_node(environ: MutableMapping[str, str], root: Path = ROOT) -> None:
    """Make jsii run the project's Node 22 (``npm ci`` puts it in node_modules/.bin).

    jsii's Python runtime starts its kernel with ``environ.get("JSII_NODE", "node")``
    through subprocess.Popen with ``env=os.environ.copy()``, so a bare ``node`` is
    looked up on PATH (jsii 1.142.0, jsii/_kernel/providers/process.py,
    ``_NodeProcess.start``). On a machine whose own node is 20, jsii prints a
    multi-line end-of-life banner, which its stderr reader shows as raw bytes.
    Without node_modules (before ``make install``) the machine's node is used as before;
    a JSII_NODE set by the user is left alone.
    """
    node = root / "node_modules" / ".bin" / "node"
    if "JSII_NODE" in environ or not os.access(node, os.X_OK):
        return
    environ["JSII_NODE"] = str(node)
    path = environ.get("PATH", "")
    if str(node.parent) not in path.split(os.pathsep):
        environ["PATH"] = os.pathsep.join(filter(None, (str(node.parent), path)))


def use_private_temp_dir(environ: MutableMapping[str, str], prefix: str = "catalog-api-synth-") -> Path:
    """Send this process's temporary files, and its children's, into one new folder removed at exit.

    A synth leaves files in the temporary directory that nothing removes when it is
    interrupted: jsii's Python runtime copies its JavaScript runtime into a
    ``tempfile.TemporaryDirectory`` (jsii 1.142.0, jsii/_kernel/providers/process.py,
    ``_jsii_runtime``; about 2.2 MB), its node kernel unpacks the providers into
    ``jsii-kernel-*`` folders, and ``cdktf.Testing.app()`` writes ``cdktf.outdir.*``
    folders it never deletes. TMPDIR (read by Python's tempfile and Node's os.tmpdir())
    points both at the new folder. The removal is registered before jsii starts, so it
    runs after jsii's own exit hook has stopped the node process; an interrupted synth,
    which leaves without exit hooks, calls ``remove_private_temp_dir`` itself.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    environ["TMPDIR"] = str(folder)
    tempfile.tempdir = str(folder)
    atexit.register(remove_private_temp_dir, folder)
    return folder


def remove_private_temp_dir(folder: Path) -> None:
    """Remove a folder made by ``use_private_temp_dir`` and everything in it."""
    shutil.rmtree(folder, ignore_errors=True)


def _stop_node_quietly() -> None:
    """After an interrupt, end jsii's node process before the staging folder goes.

    It may still be writing stacks into the staging folder (jsii sends it one request
    and waits; the interrupt only ends the wait). jsii's stderr reader thread
    ("process.stderr_sink") would relay its dying words as raw bytes, so stderr is
    muted until that thread has read them.
    """
    real_stderr = sys.stderr
    with open(os.devnull, "w") as devnull:
        sys.stderr = devnull
        try:
            outdir.stop_child_processes()
            for thread in threading.enumerate():
                if thread.name == "process.stderr_sink":
                    thread.join(timeout=2)
        finally:
            sys.stderr = real_stderr


def _run(argv: Sequence[str]) -> int:
    """``main`` for a process: SIGINT and SIGTERM end it with one line and exit 130 or 143."""
    with outdir.signals_as_exit():
        try:
            return main(os.environ, argv)
        except outdir.Interrupted as interrupt:
            _stop_node_quietly()
            print(
                f"interrupted by {interrupt.name}: no partial output was left; the output folder holds "
                "the last complete synth",
                file=sys.stderr,
            )
            return interrupt.exit_code


if __name__ == "__main__":
    use_project_node(os.environ)
    scratch = use_private_temp_dir(os.environ)
    status = _run(sys.argv[1:])
    if status > 128:
        # Interrupted: jsii's exit hook would write to its node process, which the same
        # Ctrl-C has already ended, and print a BrokenPipeError traceback. Everything of
        # ours is cleaned up by now (the node process is stopped), so remove the
        # temporary files and leave without exit hooks.
        remove_private_temp_dir(scratch)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
