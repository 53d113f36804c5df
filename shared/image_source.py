"""The identity of the API image built from ``service/``: a digest of exactly what goes into it.

The tag the platform pushes is ``src-<sha256>`` of the Dockerfile, the ``.dockerignore`` and
every file of the build context that ``.dockerignore`` lets through, so:

- the same content always has the same tag (a second build of one commit finds the tag in
  the repository and pushes nothing; ECR's immutable tags can never be moved to other bytes);
- a change to anything that reaches the image (a source file, a pinned dependency, the
  Dockerfile) changes the tag, and with it the app layer's configuration and nothing else;
- a change anywhere else (tests, docs, the service's dev tools) changes nothing.

Pure standard library: ``main.py`` computes it before any heavy import, and the publish step
(scripts/publish_image.py) recomputes it to refuse a build context that changed after the synth.

``.dockerignore`` is read with Docker's rules (moby/patternmatcher, as the BuildKit and classic
builders apply them, https://docs.docker.com/build/concepts/context/#dockerignore-files, read
2026-11-29): patterns are matched against the path relative to the context root and against
each of its parent directories; ``*`` and ``?`` do not cross ``/``, ``**`` matches any number
of directories; a leading ``!`` re-includes; the last matching pattern wins.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

TAG_PREFIX = "src-"
DOCKERFILE = "Dockerfile"
DOCKERIGNORE = ".dockerignore"


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    include: bool


def _translate(pattern: str) -> re.Pattern[str]:
    """A .dockerignore glob as a regular expression over a relative POSIX path."""
    out = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**", index):
            index += 2
            if pattern.startswith("/", index):
                index += 1
                out.append("(?:.*/)?")  # "**/" matches zero or more directories
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + r"\Z")


def parse_dockerignore(text: str) -> list[_Pattern]:
    """The patterns of a .dockerignore file, in order (comments and blank lines dropped)."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        if include:
            line = line[1:].strip()
        # Docker cleans each pattern like a path (filepath.Clean): no leading "/" or "./", no trailing "/".
        cleaned = os.path.normpath(line).lstrip("/")
        cleaned = "" if cleaned == "." else cleaned
        if cleaned:
            patterns.append(_Pattern(_translate(cleaned), include))
    return patterns


def is_excluded(relative: str, patterns: Sequence[_Pattern]) -> bool:
    """Whether Docker leaves ``relative`` (a file path inside the context) out of the build context."""
    parts = PurePosixPath(relative).parts
    candidates = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    excluded = False
    for pattern in patterns:
        if any(pattern.regex.match(candidate) for candidate in candidates):
            excluded = not pattern.include
    return excluded


def context_files(context: Path) -> list[str]:
    """Relative POSIX paths of the files Docker sends as the build context, sorted."""
    ignore = context / DOCKERIGNORE
    patterns = parse_dockerignore(ignore.read_text()) if ignore.is_file() else []
    files = []
    for path in _walk(context):
        relative = path.relative_to(context).as_posix()
        if not is_excluded(relative, patterns):
            files.append(relative)
    return sorted(files)


def _walk(root: Path) -> Iterator[Path]:
    for directory, subdirectories, names in os.walk(root):
        subdirectories.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if path.is_file():
                yield path


def source_digest(context: Path) -> str:
    """Hex sha256 over the Dockerfile, .dockerignore and the build context's files (path and bytes each)."""
    digest = hashlib.sha256()
    names = sorted({DOCKERFILE, DOCKERIGNORE} | set(context_files(context)))
    for name in names:
        path = context / name
        if not path.is_file():
            continue
        content = path.read_bytes()
        # Length-prefixed, so no two different file sets can produce the same byte stream.
        for part in (name.encode(), content):
            digest.update(len(part).to_bytes(8, "big"))
            digest.update(part)
    return digest.hexdigest()


def source_tag(context: Path) -> str:
    """The image tag of this content: ``src-<64 hex>`` (ECR tags may have up to 128 characters)."""
    return TAG_PREFIX + source_digest(context)
