"""Stand-in command-line tools for tests that run the project's scripts for real (aws, docker, terraform)."""

from __future__ import annotations

import os
import stat
from pathlib import Path


def stand_in(directory: Path, name: str, script: str) -> Path:
    """An executable ``directory/name`` running ``script`` (a shell script); ``directory`` is created."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def path_first(directory: Path, path: str | None = None) -> str:
    """A PATH that finds ``directory``'s stand-ins before the machine's own tools."""
    return f"{directory}{os.pathsep}{path if path is not None else os.environ['PATH']}"
