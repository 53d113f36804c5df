"""The README and guides stay true to the Makefile, and their diagrams are well formed."""

from __future__ import annotations

import re

import pytest

from tests.synth import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GUIDES = ["architecture", "deployment", "security", "monitoring", "troubleshooting"]
LAYERS = ["network", "data", "app", "edge"]


def _make_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z][a-z0-9_-]*):(?!=)", text, re.MULTILINE))
    for prefix in re.findall(r"^\$\(addprefix ([a-z]+)-,\$\(LAYERS\)\):", text, re.MULTILINE):
        targets |= {f"{prefix}-{layer}" for layer in LAYERS}
    return targets


def _mermaid_blocks() -> list[tuple[str, str]]:
    return [
        (doc.name, block) for doc in DOCS for block in re.findall(r"```mermaid\n(.*?)```", doc.read_text(), re.DOTALL)
    ]


def test_every_make_command_in_the_docs_exists() -> None:
    targets = _make_targets()
    assert {"synth", "test", "bootstrap", "deploy", "destroy", "outputs", "deploy-app"} <= targets
    for doc in DOCS:
        for command in re.findall(r"\bmake ([a-z][a-z0-9-]*(?:<layer>)?)", doc.read_text()):
            if command.endswith("-"):
                continue
            assert command.replace("<layer>", "app") in targets, (
                f"{doc.name}: `make {command}` is not a Makefile target"
            )


def test_readme_links_every_guide() -> None:
    readme = (ROOT / "README.md").read_text()
    for guide in GUIDES:
        assert (ROOT / "docs" / f"{guide}.md").is_file()
        assert f"](docs/{guide}.md)" in readme


def test_architecture_has_network_request_path_and_layer_diagrams() -> None:
    blocks = [block for name, block in _mermaid_blocks() if name == "architecture.md"]
    assert len(blocks) == 3


@pytest.mark.parametrize("name,block", _mermaid_blocks(), ids=lambda v: v if v.endswith(".md") else "")
def test_mermaid_block_is_well_formed(name: str, block: str) -> None:
    first = block.strip().splitlines()[0]
    assert first.split()[0] in {"flowchart", "sequenceDiagram", "graph"}, f"{name}: unknown diagram type {first!r}"
    for opening, closing in ("[]", "()", "{}"):
        assert block.count(opening) == block.count(closing), f"{name}: unbalanced {opening}{closing}"
    assert block.count('"') % 2 == 0, f"{name}: unbalanced quotes"
