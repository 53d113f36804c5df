"""The README and guides stay true to the Makefile, and their diagrams are well formed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from shared.config import KEYS
from tests.synth import ROOT

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
GUIDES = ["architecture", "deployment", "security", "monitoring", "troubleshooting", "sales"]
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


# --- claims a new user acts on ----------------------------------------------------------------

# Override variables a guide could tell a user to set; AWS_REGION and GITHUB_REPOSITORY are
# left out, as they have other meanings (the AWS SDKs, GitHub Actions).
OVERRIDE_VARIABLES = sorted(key.variable for key in KEYS if key.variable not in {"AWS_REGION", "GITHUB_REPOSITORY"})


def _paragraphs(text: str) -> list[str]:
    """Blocks between blank lines, each table row on its own."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        rows = [line for line in block.splitlines() if line.lstrip().startswith("|")]
        blocks += rows if rows else [block]
    return blocks


@pytest.mark.parametrize("doc", [*GUIDES, "service"], ids=str)
def test_a_guide_names_an_override_variable_only_with_catalog_overrides(doc: str) -> None:
    path = ROOT / "service" / "README.md" if doc == "service" else ROOT / "docs" / f"{doc}.md"
    for paragraph in _paragraphs(path.read_text()):
        named = [v for v in OVERRIDE_VARIABLES if re.search(rf"`[^`\n]*\b{v}\b[^`\n]*`", paragraph)]
        assert not named or "CATALOG_OVERRIDES" in paragraph, (
            f"{path.relative_to(ROOT)}: {named[0]} is ignored unless named in CATALOG_OVERRIDES; "
            f"name the environment-file key instead: {paragraph[:120]!r}"
        )


def test_the_environment_files_do_not_say_the_image_build_writes_them() -> None:
    # `make image` prints the reference to put in the file; it never edits an environment file.
    image_rule = re.search(r"^image:.*?(?=^\S)", (ROOT / "Makefile").read_text(), re.MULTILINE | re.DOTALL)
    assert image_rule is not None and "environments/" not in image_rule.group(0)
    for path in (ROOT / "environments").glob("*.toml"):
        comments = " ".join(line for line in path.read_text().splitlines() if line.lstrip().startswith("#"))
        assert not re.search(r"`make image[^`]*`[^.]*\bwrites\b", comments), f"{path.name}: make image only prints"


def test_the_prerequisites_name_what_the_makefile_runs_before_installing() -> None:
    readme = (ROOT / "README.md").read_text()
    needs = next(line for line in readme.splitlines() if line.startswith("Needs ") and "Python" in line)
    makefile = (ROOT / "Makefile").read_text()
    assert "python3 -m venv" in makefile and "npm ci" in makefile
    for prerequisite in ("GNU make", "python3-venv", "Python 3.11", "npm", "postgresql"):
        assert prerequisite in needs, f"README prerequisites omit {prerequisite}"


def test_a_test_count_in_the_readme_is_dated() -> None:
    for match in re.finditer(r"\((\d+) tests([^)]*)\)", (ROOT / "README.md").read_text()):
        assert re.search(r"\d{4}-\d\d-\d\d", match.group(2)), (
            f"README: '{match.group(0)}' goes stale with the next test; say when it was counted"
        )


def test_make_help_names_where_the_bench_tools_come_from() -> None:
    bench = (ROOT / "service" / "devtools" / "bench.py").read_text()
    assert "apt-get install -y wrk hey" in bench, "the service's bench installs both from Debian"
    help_line = next(line for line in (ROOT / "Makefile").read_text().splitlines() if line.startswith("bench-service:"))
    assert "Debian's wrk and hey" in help_line


# --- every command a code block shows exists -------------------------------------------------

COMMAND_DOCS = [*DOCS, ROOT / "service" / "README.md"]
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*")
_MAKE_ENVIRONMENT_DROPPED = {"ENV", "CONFIRM", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "CATALOG_OVERRIDES", "LAYERS"}


def _code_block_commands(text: str) -> list[list[str]]:
    """The commands of every ```bash/sh/shell block, as words (comments, continuations, && and ; handled)."""
    commands: list[list[str]] = []
    for block in re.findall(r"```(?:bash|sh|shell)\n(.*?)```", text, re.DOTALL):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line, comments=True)
            command: list[str] = []
            for word in [*words, ";"]:
                if word in {"&&", "||", ";", "|"}:
                    if command:
                        commands.append(command)
                    command = []
                else:
                    command.append(word)
    return commands


def _command_problem(words: list[str], cwd: Path) -> str | None:
    """Why a documented command would not run as shown (a missing target or script), or None."""
    assignments: dict[str, str] = {}
    while words and _ASSIGNMENT.fullmatch(words[0]):
        name, _, value = words[0].partition("=")
        assignments[name] = value
        words = words[1:]
    if not words:
        return None
    program, arguments = words[0], words[1:]
    if program == "make":
        environ = {k: v for k, v in os.environ.items() if k not in _MAKE_ENVIRONMENT_DROPPED} | assignments
        result = subprocess.run(
            ["make", "-n", "--no-print-directory", *arguments],
            cwd=cwd,
            env=environ,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            return f"`make {' '.join(arguments)}` fails under make -n: {result.stderr.strip().splitlines()[-1:]}"
        return None
    if program.endswith(("python", "python3")) or program.startswith("./") or program.endswith((".py", ".sh")):
        script = next(
            (word for word in ([program] if program.startswith("./") else arguments) if not word.startswith("-")), None
        )
        if script is not None and script.endswith((".py", ".sh")) and not (cwd / script).is_file():
            return f"`{' '.join(words)}`: there is no {script}"
    return None


def test_the_command_check_finds_a_missing_target_and_a_missing_script(tmp_path: Path) -> None:
    doc = "```bash\nmake synth   # fine\nmake no-such-target ENV=dev\npython scripts/no_such_script.py --x\n```\n"
    problems = [_command_problem(command, ROOT) for command in _code_block_commands(doc)]
    assert problems[0] is None
    assert problems[1] is not None and "make no-such-target ENV=dev" in problems[1]
    assert problems[2] == "`python scripts/no_such_script.py --x`: there is no scripts/no_such_script.py"


@pytest.mark.parametrize("doc", COMMAND_DOCS, ids=lambda path: str(path.relative_to(ROOT)))
def test_every_command_in_a_code_block_runs_under_a_dry_run(doc: Path) -> None:
    # Commands in service/README.md run in service/, as its own Makefile's.
    cwd = doc.parent if doc.parent != ROOT / "docs" else ROOT
    problems = [p for command in _code_block_commands(doc.read_text()) if (p := _command_problem(command, cwd))]
    assert problems == [], f"{doc.relative_to(ROOT)}: {problems}"


def test_s07_security_doc_tables_every_hop_of_encryption_in_transit() -> None:
    text = (ROOT / "docs" / "security.md").read_text()
    section = text[text.index("### Encryption in transit") : text.index("## What the edge keeps inside")]
    for hop in ("viewer → CloudFront", "CloudFront → ALB", "ALB → API task", "API task → Aurora"):
        row = next((line for line in section.splitlines() if line.startswith(f"| {hop} |")), None)
        assert row is not None, hop
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert len(cells) == 3 and all(cells), f"{hop}: hop, what encrypts it, source"
    assert "Not encrypted by TLS" in section and "TLSv1.2_2021" in section
