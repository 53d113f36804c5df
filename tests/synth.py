"""Synthesize the whole app the way ``main.py`` does and read back the Terraform JSON.

The whole app is synthesized before any stack is read: reading a consumer stack
on its own would show unresolved cross-stack tokens.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import main
from shared import provider_loader
from shared.config import Config, load_config

ROOT = Path(__file__).resolve().parents[1]
STACKS = ("network", "data", "app", "edge")
Json = dict[str, Any]


@dataclass(frozen=True)
class Synthesis:
    """The synthesized app: each stack's Terraform JSON (parsed and as written) and the manifest."""

    stacks: Mapping[str, Json]
    texts: Mapping[str, str]
    manifest: Json

    def resources(self, stack: str, type_: str) -> dict[str, Json]:
        """All resources of ``type_`` in ``stack``, by logical name."""
        return dict(self.stacks[stack].get("resource", {}).get(type_, {}))

    def one(self, stack: str, type_: str) -> Json:
        """The single resource of ``type_`` in ``stack``; fails if there are none or several."""
        found = self.resources(stack, type_)
        assert len(found) == 1, f"{stack}: expected one {type_}, found {sorted(found)}"
        return next(iter(found.values()))

    def ref(self, stack: str, type_: str, attribute: str) -> str:
        """The Terraform reference to ``attribute`` of the single ``type_`` resource in ``stack``."""
        found = self.resources(stack, type_)
        assert len(found) == 1, f"{stack}: expected one {type_}, found {sorted(found)}"
        return f"${{{type_}.{next(iter(found))}.{attribute}}}"

    def named(self, stack: str, type_: str, name: str) -> Json:
        """The single resource of ``type_`` in ``stack`` whose ``name`` argument is ``name``."""
        found = [resource for resource in self.resources(stack, type_).values() if resource.get("name") == name]
        assert len(found) == 1, f"{stack}: expected one {type_} named {name}, found {len(found)}"
        return found[0]

    def data_sources(self, stack: str, type_: str) -> dict[str, Json]:
        return dict(self.stacks[stack].get("data", {}).get(type_, {}))

    def ref_data(self, stack: str, type_: str, attribute: str) -> str:
        """The Terraform reference to ``attribute`` of the single ``type_`` data source in ``stack``."""
        found = self.data_sources(stack, type_)
        assert len(found) == 1, f"{stack}: expected one data.{type_}, found {sorted(found)}"
        return f"${{data.{type_}.{next(iter(found))}.{attribute}}}"

    def primary_target_group(self, stack: str = "app") -> Json:
        """The target group the ECS service names (the other one receives a release's new tasks)."""
        (balancer,) = self.one(stack, "aws_ecs_service")["load_balancer"]
        name = balancer["target_group_arn"].removeprefix("${aws_lb_target_group.").removesuffix(".arn}")
        return self.resources(stack, "aws_lb_target_group")[name]

    def production_listener(self, stack: str = "app") -> Json:
        """The listener viewers' traffic arrives on (the other one carries a release's test traffic)."""
        (rule_arn,) = {
            lb["advanced_configuration"]["production_listener_rule"]
            for lb in self.one(stack, "aws_ecs_service")["load_balancer"]
        }
        rule = self.resources(stack, "aws_lb_listener_rule")[
            rule_arn.removeprefix("${aws_lb_listener_rule.").removesuffix(".arn}")
        ]
        return self.resources(stack, "aws_lb_listener")[
            rule["listener_arn"].removeprefix("${aws_lb_listener.").removesuffix(".arn}")
        ]

    def all_resources(self) -> Iterator[tuple[str, str, str, Json]]:
        """(stack, type, name, body) of every resource in the app."""
        for stack, doc in self.stacks.items():
            for type_, items in doc.get("resource", {}).items():
                for name, body in items.items():
                    yield stack, type_, name, body


def _synthesized_outdir(environ: Mapping[str, str], build: Callable[[Any, Config], object]) -> Path:
    config = load_config(environ)
    provider_loader.enable()
    from cdktf import Testing

    app = Testing.app()
    build(app, config)
    app.synth()
    return Path(app.outdir)


def synthesize(environ: Mapping[str, str]) -> Synthesis:
    """Build and synthesize the app for ``environ`` with ``cdktf.Testing.app()``."""
    outdir = _synthesized_outdir(environ, main.build)
    manifest = json.loads((outdir / "manifest.json").read_text())
    texts = {name: (outdir / manifest["stacks"][name]["synthesizedStackPath"]).read_text() for name in STACKS}
    return Synthesis(stacks={n: json.loads(t) for n, t in texts.items()}, texts=texts, manifest=manifest)


def synthesize_bootstrap(environ: Mapping[str, str]) -> Json:
    """The bootstrap stack's Terraform JSON for ``environ``."""
    outdir = _synthesized_outdir(environ, main.build_bootstrap)
    document: Json = json.loads((outdir / "stacks" / "bootstrap" / "cdk.tf.json").read_text())
    return document


def canonical(document: Json) -> str:
    """Pretty-printed, key-sorted JSON: the snapshot format."""
    return json.dumps(document, indent=2, sort_keys=True) + "\n"


def synthesize_config(config: Config, now: datetime | None = None) -> Synthesis:
    """Build and synthesize the app for an already validated ``config`` (no loader involved), at ``now``."""
    provider_loader.enable()
    from cdktf import Testing

    app = Testing.app()
    main.build(app, config, now=now)
    app.synth()
    outdir = Path(app.outdir)
    manifest = json.loads((outdir / "manifest.json").read_text())
    texts = {name: (outdir / manifest["stacks"][name]["synthesizedStackPath"]).read_text() for name in STACKS}
    return Synthesis(stacks={n: json.loads(t) for n, t in texts.items()}, texts=texts, manifest=manifest)
