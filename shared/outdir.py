"""Where a synth writes, and how it replaces the previous output without losing a file.

Pure standard library on purpose: ``main.py`` checks the output folder with this
module before cdktf or the AWS provider is imported, so a refused folder costs well
under a second and nothing is written.

A synth only ever deletes what is recognizably its own output:

- the folder is refused when it is empty, the file system root, the home directory,
  the project root or the working directory, an ancestor of one of those, a file, or
  a folder with other content than a cdktf output;
- the new output is synthesized into a staging folder next to the target, then the
  previous output is renamed aside, the new one renamed in and the old one deleted,
  so a kill at any moment leaves a complete output (the previous or the new one);
- one synth at a time per folder, through ``flock`` on a lock file next to it;
- Terraform's working files in each stack folder (``.terraform/``, the provider lock
  file, state files Terraform writes there) move from the previous output into the new
  one, and a later synth recovers them from whatever a killed synth left behind.

The file names next to a target ``<parent>/<name>``: ``.<name>.lock`` (held while a
synth writes), ``.<name>.staging-*`` (being synthesized), ``.<name>.previous-*`` (the
output being replaced) and ``.<name>.probe-*`` (a write test that lives microseconds).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

# What cdktf writes at the top of its output folder (cdktf's Manifest.fileName and
# Manifest.stacksFolder); a folder with anything else in it is not ours to delete.
MANIFEST = "manifest.json"
STACKS = "stacks"
CDKTF_ENTRIES = frozenset({MANIFEST, STACKS})
# The keys cdktf 0.21 writes into manifest.json.
MANIFEST_KEYS = frozenset({"version", "stacks"})

# Files Terraform and the cdktf CLI keep in a stack's working folder
# (cdktf.out/stacks/<stack>/) that a synth must not throw away: the initialised
# providers, the lock file pinning their checksums, and state that Terraform writes
# next to the configuration (a local backend without a path, or errored.tfstate when
# it could not save state to the backend).
STATE_FILES = ("terraform.tfstate", "terraform.tfstate.backup", "errored.tfstate")
WORKING_FILES = (".terraform", ".terraform.lock.hcl", *STATE_FILES)

# A synth with the provider's lazy import writes in a few seconds and the lock is only
# taken after the imports, so two minutes of waiting means the other one is stuck.
LOCK_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.1


class OutputError(Exception):
    """The output folder cannot be used or replaced; the message is one line for a person."""

    def __init__(self, message: str, *, status: int = 2) -> None:
        super().__init__(message)
        self.status = status
        """Exit status: 2 for a refused folder (bad input), 1 for a failure while writing."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived; raised so that every ``finally`` cleans up on the way out.

    A BaseException so that ``except Exception`` around a synth does not report it
    as a refused synth.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    @property
    def name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        """128 + the signal number, as a shell reports a process ended by it (130, 143)."""
        return 128 + self.signum


@dataclass(frozen=True)
class Target:
    """An output folder, resolved, with what it must never be."""

    path: Path
    """Absolute, symlink-resolved output folder, e.g. /home/me/catalog/cdktf.out."""
    label: str
    """How the user named it, for messages: ``CDKTF_OUTDIR=<value>`` or the default name."""
    cwd: Path
    """Working directory of the synth (resolved)."""
    project_root: Path
    """Folder holding main.py (resolved)."""
    home: Path
    """The user's home directory (resolved)."""

    @classmethod
    def resolve(cls, setting: str | None, default: str, *, cwd: Path, project_root: Path, home: Path) -> Target:
        """The target for ``CDKTF_OUTDIR`` (``setting``; None when unset) or ``default``, relative to ``cwd``."""
        if setting is None:
            raw, label = default, default
        elif not setting.strip():
            raise OutputError(
                f"CDKTF_OUTDIR is set but empty: name a folder of its own for the synthesized stacks, e.g. {default}"
            )
        else:
            raw, label = setting, f"CDKTF_OUTDIR={setting}"
        cwd = cwd.resolve()
        return cls(
            path=(cwd / raw).resolve(),
            label=label,
            cwd=cwd,
            project_root=project_root.resolve(),
            home=home.resolve(),
        )

    @property
    def name(self) -> str:
        return self.path.name

    def sibling(self, kind: str) -> Path:
        """``<parent>/.<name>.<kind>``: the lock file and the prefix of the staging folders."""
        return self.path.parent / f".{self.name}.{kind}"


def is_cdktf_output(path: Path) -> bool:
    """True for an empty folder or one holding only what a cdktf synth writes.

    Recognized by cdktf's own ``manifest.json`` (a JSON object with no other keys
    than cdktf's ``version`` and ``stacks``) rather than by a marker of this
    project's: outputs written before this check existed, and by ``cdktf synth``, are
    recognized with no migration. Only ``manifest.json`` and ``stacks/`` (holding
    folders) may be there, so a folder that merely contains a manifest.json among
    other things, or someone else's manifest.json, is still refused.
    """
    if not path.is_dir() or path.is_symlink():
        return False
    entries = set(os.listdir(path))
    if not entries:
        return True
    if not entries <= CDKTF_ENTRIES or MANIFEST not in entries:
        return False
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(manifest, dict) or not set(manifest) <= MANIFEST_KEYS:
        return False
    if not isinstance(manifest.get("stacks", {}), dict):
        return False
    stacks = path / STACKS
    return STACKS not in entries or (stacks.is_dir() and all(child.is_dir() for child in stacks.iterdir()))


def check(target: Target) -> None:
    """Refuse, with one line, a folder the synth must not replace or cannot write.

    Creates a missing parent folder (as ``mkdir -p`` would): the synth writes nothing
    else before the stacks have passed their guardrails.
    """
    path = target.path
    _refuse_protected(target)
    if path.exists():
        if not path.is_dir():
            raise OutputError(
                f"{target.label} ({path}) is a file, not a folder: name a new folder or a previous cdktf output"
            )
        if not is_cdktf_output(path):
            raise OutputError(
                f"{target.label} ({path}) is a folder with other content ({_some_entries(path)}), "
                "not a cdktf output: name a new or empty folder (nothing was deleted)"
            )
        _refuse_read_only_tree(target)
    _prepare_parent(target)


def write(
    target: Target,
    synthesize: Callable[[Path], None],
    *,
    lock_timeout: float = LOCK_TIMEOUT_SECONDS,
    on_wait: Callable[[str], None] = lambda message: None,
) -> None:
    """Run ``synthesize(staging)`` and swap its result in as ``target``, one synth at a time.

    If ``synthesize`` raises (a guardrail refused a stack, or the synth was
    interrupted), the staging folder is removed and the previous output is left as it
    was. Stale staging folders of killed synths are swept first.
    """
    check(target)
    with _locked(target, timeout=lock_timeout, on_wait=on_wait):
        # Checked again: the folder may have changed while another synth held the lock.
        check(target)
        sweep(target)
        staging: Path | None = None
        try:
            # An interrupt between creating the folder and knowing its name would leave it
            # behind (seen under load): it waits until the name is kept for the clean-up.
            with _signals_deferred():
                staging = _new_folder(target, "staging-")
                # mkdtemp makes it private (0700); the output is a normal folder of the project.
                staging.chmod(0o777 & ~_umask())
            with _dir_lock(staging) as owned:
                assert owned, "a folder this synth just created is locked by no one else"
                synthesize(staging)
                try:
                    previous = _publish(staging, target)
                except OSError as error:
                    raise OutputError(f"cannot replace {target.label}: {_reason(error)}", status=1) from None
        finally:
            if staging is not None and staging.exists():
                _discard(staging, target)
        if previous is not None:
            _discard(previous, target)


def sweep(target: Target) -> list[Path]:
    """Remove the leftovers of killed synths of ``target``; returns what was removed.

    Only folders named like ours, holding nothing but cdktf output, and not locked by
    a live synth are touched. Terraform working files in them go back into the
    output first. A synth killed between its two renames left no output but the
    previous one aside: that one is renamed back.
    """
    removed: list[Path] = []
    leftovers = _leftovers(target)
    for probe in [p for p in leftovers if ".probe-" in p.name]:
        leftovers.remove(probe)
        if probe.is_file() and not probe.is_symlink():
            probe.unlink(missing_ok=True)
            removed.append(probe)
    if not target.path.exists():
        asides = [p for p in leftovers if ".previous-" in p.name]
        for aside in sorted(asides, key=lambda p: p.stat().st_mtime, reverse=True):
            with _dir_lock(aside) as free:
                if free and is_cdktf_output(aside):
                    aside.rename(target.path)
                    leftovers.remove(aside)
                    break
    for leftover in leftovers:
        with _dir_lock(leftover) as free:
            if free and _holds_only_cdktf_output(leftover):
                _discard(leftover, target)
                removed.append(leftover)
    return removed


def carry_working_files(previous: Path, new: Path) -> None:
    """Move each stack's Terraform working files from ``previous`` into ``new``.

    Without this every synth would throw away the initialised providers and the
    .terraform.lock.hcl that pins their checksums, and the next deploy would start
    over. Nothing in ``new`` is overwritten. A stack that is no longer in the app is
    not brought back, unless its folder holds Terraform state: then it moves whole.
    """
    old_stacks, new_stacks = previous / STACKS, new / STACKS
    if not old_stacks.is_dir() or old_stacks.is_symlink():
        return
    for old in sorted(old_stacks.iterdir()):
        if not old.is_dir() or old.is_symlink():
            continue
        current = new_stacks / old.name
        if current.is_dir():
            for name in WORKING_FILES:
                source, destination = old / name, current / name
                if (source.exists() or source.is_symlink()) and not (destination.exists() or destination.is_symlink()):
                    source.rename(destination)
        elif not current.exists() and any((old / name).exists() for name in STATE_FILES):
            new_stacks.mkdir(exist_ok=True)
            old.rename(current)


@contextmanager
def signals_as_exit() -> Iterator[None]:
    """Turn SIGINT and SIGTERM into :class:`Interrupted` while the block runs.

    Python's default SIGINT handling raises KeyboardInterrupt (a traceback), and the
    default SIGTERM action ends the process without running any ``finally``, leaving
    the staging folder behind. Handlers can only be installed from the main thread;
    elsewhere the block runs with the handlers it has.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    _deferred["raised"] = 0
    for signum in previous:
        signal.signal(signum, _raise_interrupted)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def stop_child_processes(timeout: float = 5.0) -> None:
    """End the processes this one started, and theirs, and wait until they are gone.

    After an interrupt, a helper process of the synth (jsii's node kernel) may still be
    writing stacks into the staging folder; it has to stop before the folder is
    removed, or it would write a new one. SIGTERM first, SIGKILL after ``timeout``
    seconds. Linux /proc only; elsewhere nothing is done.
    """
    deadline = time.monotonic() + timeout
    helpers = _descendants(os.getpid())
    for pid in helpers:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGTERM)
    while helpers and time.monotonic() < deadline:
        helpers = [pid for pid in helpers if _alive(pid)]
        time.sleep(0.02)
    for pid in helpers:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signal.SIGKILL)


# --- internals -------------------------------------------------------------------------


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, ValueError, IndexError):
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, ()))
    return found


def _alive(pid: int) -> bool:
    """Running, as opposed to gone or a zombie (a zombie writes nothing)."""
    with suppress(ChildProcessError, OSError):
        # Reaps it if it is a child of ours; jsii's own wait then finds it gone, which
        # subprocess handles.
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


_deferred: dict[str, int] = {"depth": 0, "pending": 0, "raised": 0}


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    # A second Ctrl-C while the first one is being cleaned up (a few seconds at most)
    # would otherwise interrupt the clean-up itself.
    if _deferred["raised"]:
        return
    if _deferred["depth"]:
        _deferred["pending"] = signum
        return
    _deferred["raised"] = signum
    raise Interrupted(signum)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold a signal that arrives during the block until the block has finished.

    The renames that swap the output in must all happen or none, or Terraform's working
    files could be left in a folder about to be deleted. Blocking the signal with
    pthread_sigmask would not do: the process also has jsii's reader thread, which
    would take it instead.
    """
    _deferred["depth"] += 1
    try:
        yield
    finally:
        _deferred["depth"] -= 1
        pending = _deferred["pending"]
        if not _deferred["depth"] and pending:
            _deferred["pending"] = 0
            _deferred["raised"] = pending
            raise Interrupted(pending)


def _refuse_protected(target: Target) -> None:
    path = target.path
    why = ""
    if path == Path(path.anchor):
        why = "the file system root"
    else:
        for description, protected in (
            ("the working directory", target.cwd),
            ("the project root", target.project_root),
            ("your home directory", target.home),
        ):
            if path == protected:
                why = description
                break
            if protected.is_relative_to(path):
                why = f"a folder holding {description}"
                break
    if why:
        raise OutputError(
            f"{target.label} ({path}) is {why}: the synth replaces its output folder as a whole, "
            "so it must be a folder of its own such as cdktf.out"
        )


def _refuse_read_only_tree(target: Target) -> None:
    # Replacing the output moves Terraform's working folders out of it and deletes the
    # rest, which needs write access to every folder in it; finding out halfway would
    # leave a half-moved output.
    for folder, _, _ in os.walk(target.path):
        if not os.access(folder, os.W_OK | os.X_OK):
            raise OutputError(
                f"cannot replace {target.label}: {folder} is not writable for this user "
                "(make it writable or name another folder)"
            )


def _prepare_parent(target: Target) -> None:
    parent = target.path.parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot create {target.label} ({target.path}): {existing} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        # os.access answers yes to root even on a read-only mount or under /proc, so try.
        handle, probe = tempfile.mkstemp(prefix=f".{target.name}.probe-", dir=parent)
        os.close(handle)
        # A concurrent synth's sweep (under its lock, which this check does not take) may
        # already have removed the probe as a leftover: the write test still succeeded.
        Path(probe).unlink(missing_ok=True)
    except OSError as error:
        raise OutputError(f"cannot write {target.label} ({target.path}): {_reason(error)}") from None


def _publish(staging: Path, target: Target) -> Path | None:
    """Swap ``staging`` in as the target; returns where the previous output now is, if any."""
    path = target.path
    with _signals_deferred():
        if not path.exists():
            _rename(staging, path, target)
            return None
        with _dir_lock(path):
            # Locked so that a concurrent sweep (if the lock file was deleted by hand)
            # takes the folder for a live one until it has been renamed aside.
            carry_working_files(path, staging)
            aside = _new_folder(target, "previous-")
            try:
                _rename(path, aside, target)  # replaces the empty folder just made
            except BaseException:
                carry_working_files(staging, path)
                aside.rmdir()
                raise
            try:
                _rename(staging, path, target)
            except BaseException:
                _rename(aside, path, target)
                carry_working_files(staging, path)
                raise
        return aside


def _discard(folder: Path, target: Target) -> None:
    """Delete a staging or previous-output folder, after saving its working files."""
    if target.path.is_dir() and folder != target.path:
        carry_working_files(folder, target.path)
    try:
        shutil.rmtree(folder)
    except OSError as error:
        raise OutputError(
            f"the synth finished but could not remove {folder}: {_reason(error)}; the next synth retries", status=1
        ) from None


def _rename(source: Path, destination: Path, target: Target) -> None:
    try:
        source.rename(destination)
    except OSError as error:
        raise OutputError(f"cannot replace {target.label}: {_reason(error)}", status=1) from None


def _new_folder(target: Target, kind: str) -> Path:
    try:
        return Path(tempfile.mkdtemp(prefix=f".{target.name}.{kind}", dir=target.path.parent))
    except OSError as error:
        raise OutputError(f"cannot write {target.label} ({target.path}): {_reason(error)}", status=1) from None


def _leftovers(target: Target) -> list[Path]:
    # Earlier versions staged into tempfile.mkdtemp(prefix=".<name>."): eight characters
    # of its alphabet after the dot.
    legacy = re.compile(rf"^\.{re.escape(target.name)}\.[a-z0-9_]{{8}}$")
    ours = (f".{target.name}.staging-", f".{target.name}.previous-", f".{target.name}.probe-")
    parent = target.path.parent
    if not parent.is_dir():
        return []
    return sorted(p for p in parent.iterdir() if p.name.startswith(ours) or legacy.match(p.name))


def _holds_only_cdktf_output(folder: Path) -> bool:
    """What a killed synth can leave: nothing, part of an output, or an output aside."""
    if folder.is_symlink() or not folder.is_dir():
        return False
    entries = set(os.listdir(folder))
    if not entries <= CDKTF_ENTRIES:
        return False
    stacks = folder / STACKS
    return not stacks.exists() or (stacks.is_dir() and not stacks.is_symlink())


@contextmanager
def _dir_lock(folder: Path) -> Iterator[bool]:
    """Try to lock ``folder`` for this synth; yields False when a live synth holds it."""
    try:
        handle = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)


@contextmanager
def _locked(target: Target, *, timeout: float, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the lock file next to the target; wait up to ``timeout`` seconds for it."""
    lock_path = target.sibling("lock")
    deadline = time.monotonic() + timeout
    announced = False
    while True:
        try:
            handle = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise OutputError(f"cannot write {target.label} ({target.path}): {_reason(error)}", status=1) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(handle, 32, 0).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            if time.monotonic() >= deadline:
                raise OutputError(
                    f"another synth (pid {holder}) has been writing {target.path} for over {timeout:.0f} s: "
                    "try again when it has finished",
                    status=1,
                ) from None
            if not announced:
                on_wait(f"waiting for another synth (pid {holder}) to finish writing {target.path}")
                announced = True
            time.sleep(_POLL_SECONDS)
            continue
        # The synth before this one removes the lock file when it finishes: a lock taken
        # on the removed file excludes no one, so take the one now at the path instead.
        with suppress(FileNotFoundError):
            if os.stat(lock_path).st_ino == os.fstat(handle).st_ino:
                break
        os.close(handle)
    try:
        os.ftruncate(handle, 0)
        os.pwrite(handle, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        # Removed while still held, so no one can take a lock on a file about to vanish.
        with suppress(FileNotFoundError):
            lock_path.unlink()
        os.close(handle)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _some_entries(path: Path) -> str:
    names = sorted(os.listdir(path))
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _reason(error: OSError) -> str:
    where = f" ({error.filename})" if error.filename else ""
    return f"{error.strerror or error}{where}"
