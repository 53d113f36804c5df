"""Plan, change detection and change-aware deploy over the synthesized layers in cdktf.out/.

    python scripts/delivery.py plan [--layers app,edge|changed] [--summary-file FILE]
    python scripts/delivery.py changed
    python scripts/delivery.py deploy-changed --deploy "cdktf deploy {layer} --skip-synth ..."
    python scripts/delivery.py record LAYER...

A layer is *changed* when its synthesized configuration (canonical JSON, see
``canonical_digest``) differs from the digest recorded at its last successful deploy,
when no digest is recorded, or when its state holds no resources (never deployed, or
destroyed since). Every layer that reads a changed layer's outputs, directly or through
another layer (``dependencies`` in cdktf.out/manifest.json), is changed too: its
configuration is the same, but the values it reads may not be. The one exception is a
change confined to the app layer's image source (the Terraform local ``image_source``, the
content digest of service/): it changes which image the tasks run and no output another layer
reads (tests/test_release.py), so the layers reading the app layer stay as they are. For that
each record also holds the layer's *interface digest*, the digest without those locals.

The digest lives next to the layer's state: ``<state file>.digest`` for local state,
the object ``<state key>.digest`` in the state bucket for remote state (read and
written with the AWS CLI, because botocore's pins conflict with cdktf's).

Exit status of ``plan``: 0 no changes, 2 changes, 1 an error in any layer (Terraform's
``-detailed-exitcode`` convention, combined over the layers). The other commands exit
0 on success and 1 on failure. Without Terraform or credentials every command stops
with scripts/preflight.py's one line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
OUTDIR = ROOT / "cdktf.out"
# Deployment order of the layers when the manifest leaves a choice.
PREFERRED_ORDER = ("network", "data", "app", "edge")
DIGEST_SUFFIX = ".digest"
# Locals that select the API image's content and nothing another layer reads (shared/components/image_asset.py).
SOURCE_LOCALS = ("image_source",)
INTERFACE_PREFIX = "interface "
PLAN_FILE = "plan.tfplan"
Json = Mapping[str, Any]


class DeliveryError(Exception):
    """A problem reported to the person as one line, with a non-zero exit."""


# --- pure logic ---------------------------------------------------------------------------


def dependency_order(
    dependencies: Mapping[str, Sequence[str]], preferred: Sequence[str] = PREFERRED_ORDER
) -> list[str]:
    """Every layer after the layers it reads; ties in ``preferred`` order, then by name."""
    unknown = sorted({d for deps in dependencies.values() for d in deps} - set(dependencies))
    if unknown:
        raise DeliveryError(f"manifest: dependency on unknown stack {unknown[0]!r}")
    rank = {name: index for index, name in enumerate(preferred)}
    order: list[str] = []
    remaining = dict(dependencies)
    while remaining:
        ready = sorted(
            (name for name, deps in remaining.items() if set(deps) <= set(order)),
            key=lambda name: (rank.get(name, len(rank)), name),
        )
        if not ready:
            raise DeliveryError(f"manifest: dependency cycle between {', '.join(sorted(remaining))}")
        order.append(ready[0])
        del remaining[ready[0]]
    return order


def dependents_closure(layers: Iterable[str], dependencies: Mapping[str, Sequence[str]]) -> set[str]:
    """``layers`` plus every layer that reads one of them, directly or transitively."""
    closed = set(layers)
    grew = True
    while grew:
        grew = False
        for name, deps in dependencies.items():
            if name not in closed and closed & set(deps):
                closed.add(name)
                grew = True
    return closed


def _without_cdktf_comments(document: Json) -> dict[str, Any]:
    # Terraform ignores "//" properties of block bodies entirely (JSON syntax, "Comment
    # Properties": https://developer.hashicorp.com/terraform/language/syntax/json, read
    # 2026-11-23). cdktf writes its version, stack metadata and construct paths there, so a
    # cdktf upgrade or a construct rename with no effect on Terraform changes nothing here.
    # Only the places cdktf writes them are stripped: inside an expression, "//" is data.
    stripped: dict[str, Any] = {key: value for key, value in document.items() if key != "//"}
    for block in ("resource", "data"):
        if block in stripped:
            stripped[block] = {
                type_: {name: _drop_comment(body) for name, body in bodies.items()}
                for type_, bodies in stripped[block].items()
            }
    for block in ("output", "module", "variable"):
        if block in stripped:
            stripped[block] = {name: _drop_comment(body) for name, body in stripped[block].items()}
    return stripped


def _drop_comment(body: Any) -> Any:
    return {k: v for k, v in body.items() if k != "//"} if isinstance(body, Mapping) else body


def canonical_digest(document: Json) -> str:
    """``sha256:<hex>`` of the layer's Terraform JSON: keys sorted, no whitespace, cdktf comments left out."""
    text = json.dumps(_without_cdktf_comments(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def interface_digest(document: Json) -> str:
    """The canonical digest without the image-source locals: what the layers reading this one depend on."""
    trimmed = dict(document)
    if "locals" in trimmed:
        trimmed["locals"] = {k: v for k, v in trimmed["locals"].items() if k not in SOURCE_LOCALS}
    return canonical_digest(trimmed)


def record_text(document: Json) -> str:
    """What a successful deploy records: the configuration digest, then the interface digest."""
    return f"{canonical_digest(document)}\n{INTERFACE_PREFIX}{interface_digest(document)}"


def parse_record(text: str | None) -> tuple[str | None, str | None]:
    """(configuration digest, interface digest) of a record; a record from before interfaces has the first only."""
    if text is None:
        return None, None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    configuration = lines[0] if lines else None
    interface = next(
        (line.removeprefix(INTERFACE_PREFIX) for line in lines[1:] if line.startswith(INTERFACE_PREFIX)), None
    )
    return configuration, interface


@dataclass(frozen=True)
class LayerStatus:
    """What change detection knows of one layer."""

    digest: str
    """Digest of the configuration synthesized now."""
    recorded: str | None
    """Digest recorded at the last successful deploy; None when there is none."""
    deployed: bool
    """Whether the layer's state holds any resource."""
    interface: str = ""
    """Interface digest of the configuration synthesized now (see interface_digest). Default: empty."""
    recorded_interface: str | None = None
    """Interface digest recorded at the last deploy; None for none (or a record from before). Default: None."""

    @property
    def interface_changed(self) -> bool:
        """Whether the layers reading this one may read something new."""
        return not self.deployed or self.recorded_interface is None or self.recorded_interface != self.interface


def changed_layers(
    statuses: Mapping[str, LayerStatus], dependencies: Mapping[str, Sequence[str]]
) -> list[tuple[str, str]]:
    """(layer, reason) of every changed layer, in dependency order (rule in the module docstring)."""
    own: dict[str, str] = {}
    for name, status in statuses.items():
        if not status.deployed:
            own[name] = "not deployed (its state holds no resources)"
        elif status.recorded is None:
            own[name] = "no digest recorded at its last deploy"
        elif status.recorded != status.digest:
            own[name] = (
                "configuration differs from its last deploy"
                if status.interface_changed
                else "the API image's content changed (service/); nothing the other layers read"
            )
    closed = dependents_closure((n for n in own if statuses[n].interface_changed), dependencies)
    result = []
    for name in dependency_order(dependencies):
        if name in own:
            result.append((name, own[name]))
        elif name in closed:
            producers = [d for d in dependencies[name] if d in closed]
            result.append((name, f"reads {', '.join(producers)}, which changes"))
    return result


def select_layers(raw: str, known: Sequence[str]) -> list[str]:
    """Layer names from ``app,edge`` or ``app edge``, refusing unknown names."""
    names = [part for chunk in raw.split(",") for part in chunk.split()]
    for name in names:
        if name not in known:
            raise DeliveryError(
                f"LAYERS={raw!r}: unknown layer {name!r}; allowed: {', '.join(known)} (comma-separated) or changed"
            )
    return [name for name in known if name in names] if names else list(known)


@dataclass(frozen=True)
class PlanRow:
    """One line of the plan summary."""

    layer: str
    """Layer name."""
    exit_code: int
    """terraform plan -detailed-exitcode: 0 no changes, 2 changes, 1 error."""
    add: int = 0
    """Resources to create (a replacement counts here and in destroy)."""
    change: int = 0
    """Resources to update in place."""
    destroy: int = 0
    """Resources to delete (a replacement counts here and in add)."""

    @property
    def result(self) -> str:
        if self.exit_code == 1:
            return "error"
        if self.exit_code == 2:
            return "changes" if self.add or self.change or self.destroy else "outputs only"
        return "no changes"


def count_actions(show: Json) -> tuple[int, int, int]:
    """(add, change, destroy) from ``terraform show -json <planfile>``, counted as Terraform's "Plan:" line counts.

    Only managed resources count; data-source reads and no-ops do not. A replacement
    (``["delete","create"]`` or ``["create","delete"]``) adds one and destroys one.
    """
    add = change = destroy = 0
    for resource in show.get("resource_changes", []):
        if resource.get("mode") != "managed":
            continue
        actions = resource["change"]["actions"]
        add += "create" in actions
        change += actions == ["update"]
        destroy += "delete" in actions
    return add, change, destroy


def combined_exit_code(codes: Iterable[int]) -> int:
    """1 if any layer failed, else 2 if any has changes, else 0."""
    codes = list(codes)
    if any(code not in (0, 2) for code in codes):
        return 1
    return 2 if 2 in codes else 0


def summary_table(rows: Sequence[PlanRow]) -> str:
    """A Markdown table (readable in a terminal and in a CI job summary)."""
    lines = ["| layer | to add | to change | to destroy | result |", "|---|---:|---:|---:|---|"]
    for row in rows:
        numbers = ("–", "–", "–") if row.exit_code == 1 else (row.add, row.change, row.destroy)
        lines.append(f"| {row.layer} | {numbers[0]} | {numbers[1]} | {numbers[2]} | {row.result} |")
    return "\n".join(lines) + "\n"


# --- the outside world --------------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    """Exit code and captured output of one command."""

    code: int
    """Exit status; 127 when the program is not on PATH."""
    stdout: str = ""
    """Captured standard output; empty when not captured. Default: empty."""
    stderr: str = ""
    """Captured standard error; empty when not captured. Default: empty."""


class Runner(Protocol):
    """Runs a command; ``capture`` keeps its output instead of showing it."""

    def __call__(self, argv: Sequence[str], *, capture: bool = False) -> Result: ...


def subprocess_runner(environ: Mapping[str, str]) -> Runner:
    env = {**environ, "TF_IN_AUTOMATION": "1"}

    def run(argv: Sequence[str], *, capture: bool = False) -> Result:
        try:
            done = subprocess.run(list(argv), env=env, capture_output=capture, text=True, check=False)
        except FileNotFoundError:
            return Result(127, "", f"{argv[0]}: command not found")
        return Result(done.returncode, done.stdout or "", done.stderr or "")

    return run


class DigestStore(Protocol):
    """Where one layer's deploy digest lives, next to its state."""

    @property
    def location(self) -> str: ...

    def read(self) -> str | None: ...

    def write(self, digest: str) -> None: ...

    def deployed(self) -> bool: ...


@dataclass(frozen=True)
class LocalDigestStore:
    """``<state file>.digest`` beside a local state file."""

    state: Path
    """The layer's local state file, e.g. .state/dev/app.tfstate."""

    @property
    def location(self) -> str:
        return str(self.state) + DIGEST_SUFFIX

    def read(self) -> str | None:
        path = Path(self.location)
        return path.read_text().strip() if path.is_file() else None

    def write(self, digest: str) -> None:
        path = Path(self.location)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole and renamed, so an interrupted write never leaves half a digest.
        partial = path.with_name(path.name + ".partial")
        partial.write_text(digest + "\n")
        partial.replace(path)

    def deployed(self) -> bool:
        return self.state.is_file() and bool(json.loads(self.state.read_text() or "{}").get("resources"))


@dataclass(frozen=True)
class S3DigestStore:
    """The object ``<state key>.digest`` beside the state object, through the AWS CLI."""

    bucket: str
    """State bucket."""
    key: str
    """The layer's state key, e.g. prod/app.tfstate."""
    region: str
    """Region of the state bucket."""
    run: Runner
    """Runs the AWS CLI."""

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.key}{DIGEST_SUFFIX}"

    def _get(self, key: str) -> str | None:
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / "object"
            argv = ["aws", "s3api", "get-object", "--bucket", self.bucket, "--key", key, "--region", self.region]
            result = self.run([*argv, str(target)], capture=True)
            if result.code == 0:
                return target.read_text()
            if "NoSuchKey" in result.stderr or "(404)" in result.stderr:
                return None
            raise _aws_failure(result, f"reads s3://{self.bucket}/{key}")

    def read(self) -> str | None:
        text = self._get(self.key + DIGEST_SUFFIX)
        return text.strip() if text is not None else None

    def write(self, digest: str) -> None:
        with tempfile.TemporaryDirectory() as scratch:
            body = Path(scratch) / "digest"
            body.write_text(digest + "\n")
            argv = ["aws", "s3api", "put-object", "--bucket", self.bucket, "--key", self.key + DIGEST_SUFFIX]
            argv += ["--region", self.region, "--content-type", "text/plain", "--body", str(body)]
            result = self.run(argv, capture=True)
        if result.code != 0:
            raise _aws_failure(result, f"writes {self.location}")

    def deployed(self) -> bool:
        state = self._get(self.key)
        return state is not None and bool(json.loads(state or "{}").get("resources"))


def _aws_failure(result: Result, what: str) -> DeliveryError:
    if result.code == 127:
        return DeliveryError(f"the AWS CLI is not on PATH; it {what} (install AWS CLI v2)")
    return DeliveryError(f"{what} failed: {_last_line(result)}")


def _last_line(result: Result) -> str:
    lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    return lines[-1].strip() if lines else f"exit status {result.code}"


@dataclass(frozen=True)
class Layer:
    """One synthesized stack."""

    name: str
    """Stack name, e.g. app."""
    directory: Path
    """Its working directory, e.g. cdktf.out/stacks/app."""
    dependencies: tuple[str, ...]
    """The stacks whose outputs it reads."""

    @property
    def document(self) -> Json:
        document: Json = json.loads((self.directory / "cdk.tf.json").read_text())
        return document


def load_layers(outdir: Path) -> dict[str, Layer]:
    """The stacks of cdktf.out/manifest.json; a missing synth is one clear line."""
    manifest_path = outdir / "manifest.json"
    if not manifest_path.is_file():
        raise DeliveryError(f"{outdir.name}/manifest.json is missing: run `make synth` first")
    manifest = json.loads(manifest_path.read_text())
    return {
        name: Layer(name, outdir / stack["workingDirectory"], tuple(stack.get("dependencies", ())))
        for name, stack in manifest["stacks"].items()
    }


def digest_store(layer: Layer, run: Runner) -> DigestStore:
    """The digest location that belongs to the layer's backend block (the state it deploys to)."""
    ((kind, settings),) = layer.document["terraform"]["backend"].items()
    if kind == "local":
        return LocalDigestStore((layer.directory / settings["path"]).resolve())
    if kind == "s3":
        return S3DigestStore(settings["bucket"], settings["key"], settings["region"], run)
    raise DeliveryError(f"{layer.name}: backend {kind!r} has no digest store (allowed: local, s3)")


def statuses(layers: Mapping[str, Layer], run: Runner) -> dict[str, LayerStatus]:
    result = {}
    for name, layer in layers.items():
        store = digest_store(layer, run)
        recorded, recorded_interface = parse_record(store.read())
        document = layer.document
        result[name] = LayerStatus(
            canonical_digest(document), recorded, store.deployed(), interface_digest(document), recorded_interface
        )
    return result


# --- commands -----------------------------------------------------------------------------


def plan(layers: Mapping[str, Layer], selected: Sequence[str], run: Runner) -> list[PlanRow]:
    """init + plan -detailed-exitcode + show -json per layer, in dependency order; errors do not stop the rest."""
    rows = []
    for name in selected:
        chdir = f"-chdir={layers[name].directory}"
        print(f"\n=== plan {name} ===", flush=True)
        init = run(["terraform", chdir, "init", "-input=false", "-no-color"], capture=True)
        if init.code != 0:
            print(init.stdout + init.stderr, file=sys.stderr)
            rows.append(PlanRow(name, 1))
            continue
        # A deploy in progress holds the state lock; wait for it rather than fail.
        planned = run(
            [
                "terraform",
                chdir,
                "plan",
                "-input=false",
                "-detailed-exitcode",
                "-lock-timeout=300s",
                f"-out={PLAN_FILE}",
            ]
        )
        if planned.code not in (0, 2):
            rows.append(PlanRow(name, 1))
            continue
        show = run(["terraform", chdir, "show", "-json", PLAN_FILE], capture=True)
        if show.code != 0:
            print(show.stderr, file=sys.stderr)
            rows.append(PlanRow(name, 1))
            continue
        rows.append(PlanRow(name, planned.code, *count_actions(json.loads(show.stdout))))
    return rows


def deploy_changed(
    layers: Mapping[str, Layer], changes: Sequence[tuple[str, str]], deploy: Sequence[str], run: Runner
) -> int:
    """Deploy each changed layer in order; record its digest only after its deploy succeeded."""
    for index, (name, reason) in enumerate(changes):
        print(f"\n=== deploy {name}: {reason} ===", flush=True)
        result = run([part.replace("{layer}", name) for part in deploy])
        if result.code != 0:
            rest = [n for n, _ in changes[index + 1 :]]
            stopped = f"; not deployed: {', '.join(rest)}" if rest else ""
            print(f"deploy-changed: {name} failed (exit {result.code}){stopped}", file=sys.stderr)
            return 1
        layer = layers[name]
        digest_store(layer, run).write(record_text(layer.document))
    print(f"deploy-changed: deployed {', '.join(n for n, _ in changes)}; digests recorded")
    return 0


def _preflight(environ: Mapping[str, str]) -> bool:
    """scripts/preflight.py prints its one line itself."""
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "preflight.py")], env=dict(environ), check=False)
    return done.returncode == 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="delivery.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    planning = commands.add_parser("plan", help="plan layers in dependency order and print one summary table")
    planning.add_argument("--layers", default="", help="app,edge or changed; default: every layer")
    planning.add_argument("--summary-file", type=Path, help="also append the table here (e.g. $GITHUB_STEP_SUMMARY)")
    commands.add_parser("changed", help="list the changed layers and why")
    deploying = commands.add_parser("deploy-changed", help="deploy the changed layers and record their digests")
    deploying.add_argument("--deploy", required=True, help="deploy command with {layer}, e.g. 'cdktf deploy {layer}'")
    recording = commands.add_parser("record", help="record the digest of layers just deployed")
    recording.add_argument("layers", nargs="+")
    return parser


def main(argv: Sequence[str], environ: Mapping[str, str], *, outdir: Path = OUTDIR, run: Runner | None = None) -> int:
    args = _parser().parse_args(list(argv))
    runner = run or subprocess_runner(environ)
    if args.command != "record" and not _preflight(environ):
        return 1
    try:
        layers = load_layers(outdir)
        dependencies = {name: layer.dependencies for name, layer in layers.items()}
        order = dependency_order(dependencies)
        if args.command == "record":
            return _record(layers, select_layers(",".join(args.layers), order), runner)
        if args.command == "plan" and args.layers.strip() != "changed":
            return _plan(layers, select_layers(args.layers, order), runner, args.summary_file)
        changes = changed_layers(statuses(layers, runner), dependencies)
        if args.command == "plan":
            return _plan(layers, [name for name, _ in changes], runner, args.summary_file)
        if args.command == "changed":
            for name, reason in changes:
                print(f"{name:<8} {reason}")
            if not changes:
                print("no layer changed since its last deploy")
            return 0
        if not changes:
            print("deploy-changed: no layer changed since its last deploy; nothing deployed")
            return 0
        return deploy_changed(layers, changes, shlex.split(args.deploy), runner)
    except DeliveryError as error:
        print(f"{args.command}: {error}", file=sys.stderr)
        return 1


def _plan(layers: Mapping[str, Layer], selected: Sequence[str], run: Runner, summary_file: Path | None) -> int:
    rows = plan(layers, selected, run) if selected else []
    table = summary_table(rows) if rows else "No layer to plan: none changed since its last deploy.\n"
    code = combined_exit_code(row.exit_code for row in rows)
    print("\n" + table, end="")
    if summary_file is not None:
        with summary_file.open("a") as summary:
            summary.write(f"### Terraform plan\n\n{table}\n")
    return code


def _record(layers: Mapping[str, Layer], names: Sequence[str], run: Runner) -> int:
    # A deploy has just succeeded: a digest that cannot be written only means the layer
    # is listed as changed again, so this warns instead of failing the deploy.
    for name in names:
        layer = layers[name]
        try:
            store = digest_store(layer, run)
            store.write(record_text(layer.document))
        except DeliveryError as error:
            print(
                f"record: {name} deployed, but its digest was not recorded ({error}); `make changed` will list it again",
                file=sys.stderr,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], os.environ))
