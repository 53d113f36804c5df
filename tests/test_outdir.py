"""The output folder: what a synth refuses, how it swaps, what it never loses (shared/outdir.py).

Fast: a fake ``synthesize`` writes what cdktf would, so no synth runs here.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import outdir
from shared.outdir import OutputError, Target
from tests.conftest import TEMP_ROOT

NOBODY = 65534


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project root holding sources, a .git folder and a previous output with Terraform working files."""
    root = tmp_path / "project"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "main.py").write_text("print('app')\n")
    _fake_output(root / "cdktf.out", ("app", "data"), "old")
    working = root / "cdktf.out" / "stacks" / "app"
    (working / ".terraform" / "providers").mkdir(parents=True)
    (working / ".terraform" / "providers" / "aws").write_text("provider binary")
    (working / ".terraform.lock.hcl").write_text("checksums")
    return root


def _target(project: Path, setting: str | None, *, default: str = "cdktf.out") -> Target:
    return Target.resolve(setting, default, cwd=project, project_root=project, home=project.parent / "home")


def _fake_output(folder: Path, stacks: tuple[str, ...], tag: str) -> None:
    """What cdktf writes: manifest.json and stacks/<stack>/cdk.tf.json."""
    manifest = {"stacks": {name: {"synthesizedStackPath": f"stacks/{name}/cdk.tf.json"} for name in stacks}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    for name in stacks:
        (folder / "stacks" / name).mkdir(parents=True, exist_ok=True)
        (folder / "stacks" / name / "cdk.tf.json").write_text(json.dumps({"tag": tag}))


def _synth(tag: str, stacks: tuple[str, ...] = ("app", "data")) -> Callable[[Path], None]:
    return lambda staging: _fake_output(staging, stacks, tag)


def _tags(folder: Path) -> dict[str, str]:
    return {p.parent.name: json.loads(p.read_text())["tag"] for p in sorted(folder.glob("stacks/*/cdk.tf.json"))}


def _siblings(project: Path) -> list[str]:
    """Everything the synth may have left next to cdktf.out: staging, previous, lock and probe files."""
    return sorted(p.name for p in project.iterdir() if p.name.startswith(".cdktf.out"))


def _working_files_intact(output: Path) -> bool:
    app = output / "stacks" / "app"
    return (app / ".terraform" / "providers" / "aws").read_text() == "provider binary" and (
        app / ".terraform.lock.hcl"
    ).read_text() == "checksums"


def _tree(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))}


# --- refused folders: one line, nothing deleted ---------------------------------------------


def test_empty_cdktf_outdir_is_refused(project: Path) -> None:
    with pytest.raises(OutputError) as refused:
        _target(project, "")
    assert "CDKTF_OUTDIR is set but empty" in str(refused.value)
    assert "\n" not in str(refused.value) and refused.value.status == 2
    with pytest.raises(OutputError):
        _target(project, "   ")


@pytest.mark.parametrize(
    ("setting", "what"),
    [
        (".", "is the working directory"),
        ("./", "is the working directory"),
        ("..", "a folder holding the working directory"),
        ("/", "the file system root"),
        ("{home}", "is your home directory"),
        ("{home}/..", "a folder holding the working directory"),
    ],
    ids=["dot", "dot-slash", "parent", "root", "home", "home-parent"],
)
def test_project_root_cwd_home_and_their_ancestors_are_refused(project: Path, setting: str, what: str) -> None:
    home = project.parent / "home"
    home.mkdir()
    before = _tree(project.parent)
    with pytest.raises(OutputError) as refused:
        outdir.check(_target(project, setting.format(home=home)))
    message = str(refused.value)
    assert what in message and "\n" not in message
    assert _tree(project.parent) == before, "nothing deleted, nothing written"


def test_project_root_is_refused_when_the_synth_runs_elsewhere(project: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = Target.resolve(str(project), "cdktf.out", cwd=elsewhere, project_root=project, home=tmp_path / "home")
    with pytest.raises(OutputError, match="is the project root"):
        outdir.check(target)


def test_a_file_is_refused(project: Path) -> None:
    with pytest.raises(OutputError, match=r"main\.py\) is a file, not a folder"):
        outdir.check(_target(project, "main.py"))
    assert (project / "main.py").read_text() == "print('app')\n"


def test_a_folder_with_other_content_is_refused_and_kept(project: Path) -> None:
    notes = project / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("keep me")
    with pytest.raises(OutputError) as refused:
        outdir.write(_target(project, "notes"), _synth("new"))
    assert "is a folder with other content (todo.txt), not a cdktf output" in str(refused.value)
    assert (notes / "todo.txt").read_text() == "keep me"
    assert _siblings(project) == []


def test_a_manifest_among_other_files_is_not_a_cdktf_output(project: Path) -> None:
    site = project / "site"
    _fake_output(site, ("app",), "x")
    (site / "index.html").write_text("<html>")
    assert not outdir.is_cdktf_output(site)
    (site / "index.html").unlink()
    assert outdir.is_cdktf_output(site)
    (site / "manifest.json").write_text('{"name": "a web app"}')
    assert not outdir.is_cdktf_output(site), "a manifest.json with other keys than cdktf's is someone else's"
    (site / "manifest.json").write_text('{"version": "0.21.0", "stacks": []}')
    assert not outdir.is_cdktf_output(site)


def test_a_missing_parent_is_created(project: Path) -> None:
    target = _target(project, "build/out/cdktf")
    outdir.write(target, _synth("new"))
    assert _tags(project / "build" / "out" / "cdktf") == {"app": "new", "data": "new"}
    assert sorted(p.name for p in (project / "build" / "out").iterdir()) == ["cdktf"]


def test_a_path_under_a_file_is_refused(project: Path) -> None:
    with pytest.raises(OutputError, match=r"main\.py is a file, not a folder"):
        outdir.check(_target(project, "main.py/out"))


def test_a_location_no_one_can_write_is_refused_in_one_line(project: Path) -> None:
    # Tests run as root, who may write almost anywhere; nothing can be created under /proc.
    with pytest.raises(OutputError) as refused:
        outdir.check(_target(project, "/proc/catalog/cdktf.out"))
    assert str(refused.value).startswith("cannot write CDKTF_OUTDIR=/proc/catalog/cdktf.out")
    assert "\n" not in str(refused.value)


# --- unwritable for the user running the synth ----------------------------------------------


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder user nobody can reach (pytest's tmp_path is private to root)."""
    base = Path(tempfile.mkdtemp(prefix="catalog-outdir-", dir=TEMP_ROOT))
    base.chmod(0o755)
    yield base
    for folder, _, _ in os.walk(base):
        os.chmod(folder, 0o755)
    shutil.rmtree(base)


def _as_nobody(action: Callable[[], None]) -> str:
    """Run ``action`` as user nobody (in a forked child when running as root): 'ok', 'refused: …' or 'crash: …'.

    Root passes every permission check, so an unwritable folder can only be tried
    with a user that is not root.
    """
    if os.geteuid() != 0:
        return _outcome(action)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        outcome = "crash: no outcome"
        try:
            os.close(read_end)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            outcome = _outcome(action)
        finally:
            os.write(write_end, outcome.encode())
            os._exit(0)
    os.close(write_end)
    chunks = []
    while chunk := os.read(read_end, 65536):
        chunks.append(chunk)
    os.close(read_end)
    os.waitpid(pid, 0)
    return b"".join(chunks).decode()


def _outcome(action: Callable[[], None]) -> str:
    try:
        action()
    except OutputError as error:
        return f"refused: {error}"
    except BaseException as error:  # noqa: BLE001 - the outcome under test
        return f"crash: {error!r}"
    return "ok"


def test_a_read_only_output_folder_is_refused_in_one_line(shared_tmp: Path) -> None:
    parent = shared_tmp / "project"
    _fake_output(parent / "cdktf.out", ("app",), "old")
    for folder, _, _ in os.walk(parent):
        os.chown(folder, NOBODY, NOBODY)
    (parent / "cdktf.out" / "stacks" / "app").chmod(0o555)
    target = Target.resolve(None, "cdktf.out", cwd=parent, project_root=parent, home=shared_tmp / "home")

    outcome = _as_nobody(lambda: outdir.write(target, _synth("new", ("app",))))

    assert outcome.startswith("refused: cannot replace cdktf.out:") and "is not writable" in outcome, outcome
    assert "\n" not in outcome
    assert _tags(parent / "cdktf.out") == {"app": "old"}


def test_a_read_only_parent_is_refused_in_one_line(shared_tmp: Path) -> None:
    parent = shared_tmp / "read-only"
    parent.mkdir()
    os.chown(parent, NOBODY, NOBODY)
    parent.chmod(0o555)
    target = Target.resolve(None, "cdktf.out", cwd=parent, project_root=parent, home=shared_tmp / "home")

    outcome = _as_nobody(lambda: outdir.write(target, _synth("new")))

    assert outcome.startswith("refused: cannot write cdktf.out") and "Permission denied" in outcome, outcome
    assert list(parent.iterdir()) == []


# --- the swap ------------------------------------------------------------------------------


def test_the_new_output_replaces_the_previous_with_working_files_carried(project: Path) -> None:
    outdir.write(_target(project, None), _synth("new", ("app", "edge")))
    output = project / "cdktf.out"
    assert _tags(output) == {"app": "new", "edge": "new"}
    assert _working_files_intact(output)
    assert not (output / "stacks" / "data").exists(), "a stack no longer in the app is not brought back"
    assert _siblings(project) == [], "no staging, previous output, lock or probe left"


def test_the_output_folder_is_not_private(project: Path) -> None:
    outdir.write(_target(project, None), _synth("new"))
    mode = (project / "cdktf.out").stat().st_mode & 0o777
    assert mode == 0o777 & ~outdir._umask()


def test_a_removed_stack_holding_terraform_state_is_kept(project: Path) -> None:
    (project / "cdktf.out" / "stacks" / "data" / "errored.tfstate").write_text("state Terraform could not save")
    outdir.write(_target(project, None), _synth("new", ("app",)))
    assert (project / "cdktf.out" / "stacks" / "data" / "errored.tfstate").read_text() == (
        "state Terraform could not save"
    )


def test_a_refused_synth_leaves_the_previous_output_and_no_staging(project: Path) -> None:
    before = _tree(project / "cdktf.out")

    def refused(staging: Path) -> None:
        _fake_output(staging, ("app",), "half")
        raise RuntimeError("guardrail: refused")

    with pytest.raises(RuntimeError, match="guardrail"):
        outdir.write(_target(project, None), refused)
    assert _tree(project / "cdktf.out") == before
    assert _siblings(project) == []


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["SIGINT", "SIGTERM"])
def test_an_interrupted_synth_leaves_the_previous_output_and_no_staging(project: Path, signum: int, code: int) -> None:
    before = _tree(project / "cdktf.out")
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)

    def interrupted(staging: Path) -> None:
        _fake_output(staging, ("app",), "half")
        os.kill(os.getpid(), signum)
        time.sleep(5)
        raise AssertionError("the signal did not interrupt the synth")

    with pytest.raises(outdir.Interrupted) as raised, outdir.signals_as_exit():
        outdir.write(_target(project, None), interrupted)
    assert raised.value.exit_code == code
    assert _tree(project / "cdktf.out") == before
    assert _siblings(project) == []
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers, "handlers restored"


def test_a_second_signal_does_not_interrupt_the_clean_up(project: Path) -> None:
    cleaned: list[bool] = []
    with pytest.raises(outdir.Interrupted) as raised, outdir.signals_as_exit():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        finally:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            cleaned.append(True)
    assert cleaned == [True] and raised.value.signum == signal.SIGINT


def test_a_signal_during_the_swap_waits_until_the_swap_is_done(project: Path) -> None:
    swapped: list[bool] = []
    with pytest.raises(outdir.Interrupted), outdir.signals_as_exit(), outdir._signals_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        swapped.append(True)
    assert swapped == [True]


# --- leftovers of killed synths ----------------------------------------------------------


def test_stale_staging_is_swept_and_its_working_files_recovered(project: Path) -> None:
    # Killed after moving the working files into its staging folder, before the renames.
    staging = project / ".cdktf.out.staging-k1lled"
    _fake_output(staging, ("app", "data"), "killed")
    (project / "cdktf.out" / "stacks" / "app" / ".terraform").rename(staging / "stacks" / "app" / ".terraform")
    legacy = project / ".cdktf.out.ab12_x9z"  # tempfile.mkdtemp's name from earlier versions
    (legacy / "stacks" / "app").mkdir(parents=True)

    outdir.write(_target(project, None), _synth("new"))

    assert _working_files_intact(project / "cdktf.out")
    assert _siblings(project) == []


def test_a_synth_killed_between_its_renames_gets_its_previous_output_back(project: Path) -> None:
    (project / "cdktf.out").rename(project / ".cdktf.out.previous-k1lled")
    assert outdir.sweep(_target(project, None)) == []
    assert _working_files_intact(project / "cdktf.out")
    assert _siblings(project) == []


def test_folders_that_are_not_ours_or_are_in_use_are_not_swept(project: Path) -> None:
    foreign = project / ".cdktf.out.staging-notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("keep me")
    live = project / ".cdktf.out.staging-live"
    (live / "stacks").mkdir(parents=True)
    with outdir._dir_lock(live) as locked:
        assert locked
        outdir.write(_target(project, None), _synth("new"))
        assert live.is_dir(), "locked by a live synth"
    assert (foreign / "todo.txt").read_text() == "keep me"
    outdir.write(_target(project, None), _synth("newer"))
    assert _siblings(project) == [".cdktf.out.staging-notes"]


# --- one synth at a time ----------------------------------------------------------------


def test_concurrent_synths_both_complete_and_keep_the_working_files(project: Path) -> None:
    """The second synth starts while the first is inside its synthesize and holds the lock; the
    first finishes only once the second has said it waits. Events, not sleeps, order the two,
    so the overlap is the same on an idle machine and a loaded one."""
    inside: list[int] = []
    overlaps: list[int] = []
    errors: list[BaseException] = []
    first_inside = threading.Event()
    second_waiting = threading.Event()

    def synthesize_for(tag: str) -> Callable[[Path], None]:
        def synthesize(staging: Path) -> None:
            inside.append(1)
            overlaps.append(len(inside))
            if tag == "first":
                first_inside.set()
                assert second_waiting.wait(60), "the second synth never waited for the lock"
            _fake_output(staging, ("app", "data"), tag)
            inside.pop()

        return synthesize

    def run(tag: str) -> None:
        on_wait = (lambda _message: second_waiting.set()) if tag == "second" else (lambda _message: None)
        try:
            outdir.write(_target(project, None), synthesize_for(tag), on_wait=on_wait)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
            first_inside.set()
            second_waiting.set()

    first = threading.Thread(target=run, args=("first",))
    first.start()
    assert first_inside.wait(60), "the first synth never started"
    second = threading.Thread(target=run, args=("second",))
    second.start()
    for thread in (first, second):
        thread.join(timeout=120)

    assert not first.is_alive() and not second.is_alive(), "a synth never finished"
    assert errors == []
    assert overlaps == [1, 1], "the second synth waited for the first"
    assert _tags(project / "cdktf.out") == {"app": "second", "data": "second"}, "the later synth's output, whole"
    assert _working_files_intact(project / "cdktf.out")
    assert _siblings(project) == []


def test_a_write_probe_swept_by_a_concurrent_synth_is_not_a_write_failure(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two synths started together: the one holding the lock sweeps probe files while the other
    checks, before the lock, that it can write; that probe vanishing is not 'cannot write'."""
    target = _target(project, None)
    real_mkstemp = tempfile.mkstemp

    def mkstemp_then_swept(*args: Any, **kwargs: Any) -> tuple[int, str]:
        handle, name = real_mkstemp(*args, **kwargs)
        outdir.sweep(target)
        return handle, name

    monkeypatch.setattr(tempfile, "mkstemp", mkstemp_then_swept)
    outdir.check(target)
    assert _siblings(project) == []


def test_waiting_for_the_lock_is_bounded_and_said_in_one_line(project: Path) -> None:
    target = _target(project, None)
    said: list[str] = []
    with outdir._locked(target, timeout=0, on_wait=said.append):
        started = time.monotonic()
        with pytest.raises(OutputError) as refused:
            outdir.write(target, _synth("new"), lock_timeout=0.3, on_wait=said.append)
        waited = time.monotonic() - started
    assert 0.3 <= waited < 2
    assert refused.value.status == 1
    assert str(refused.value).startswith(f"another synth (pid {os.getpid()}) has been writing")
    assert said == [f"waiting for another synth (pid {os.getpid()}) to finish writing {target.path}"]
    assert _tags(project / "cdktf.out") == {"app": "old", "data": "old"}
    assert _siblings(project) == []


def test_carry_working_files_moves_only_what_the_new_output_lacks(tmp_path: Path) -> None:
    previous, new = tmp_path / "cdktf.out", tmp_path / ".cdktf.out.new"
    (previous / "stacks" / "app" / ".terraform").mkdir(parents=True)
    (previous / "stacks" / "app" / ".terraform" / "marker").write_text("providers")
    (previous / "stacks" / "app" / ".terraform.lock.hcl").write_text("lock")
    (previous / "stacks" / "gone" / ".terraform").mkdir(parents=True)
    (new / "stacks" / "app").mkdir(parents=True)
    (new / "stacks" / "app" / "cdk.tf.json").write_text("{}")
    (new / "stacks" / "edge").mkdir()

    outdir.carry_working_files(previous, new)

    assert (new / "stacks" / "app" / ".terraform" / "marker").read_text() == "providers"
    assert (new / "stacks" / "app" / ".terraform.lock.hcl").read_text() == "lock"
    assert not (new / "stacks" / "edge" / ".terraform").exists(), "nothing invented for a new stack"
    assert not (new / "stacks" / "gone").exists(), "a removed stack without state is not brought back"


def test_a_probe_swept_by_a_concurrent_synth_is_not_a_write_failure(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another synth's sweep removes every `.cdktf.out.probe-*` it sees, this one's included,
    # between its creation and its removal here.
    create = tempfile.mkstemp

    def create_then_swept(*args: object, **kwargs: object) -> tuple[int, str]:
        handle, name = create(*args, **kwargs)  # type: ignore[call-overload]
        outdir.sweep(_target(project, None))
        return handle, name

    monkeypatch.setattr(tempfile, "mkstemp", create_then_swept)
    outdir.write(_target(project, None), _synth("new"))
    assert set(_tags(project / "cdktf.out").values()) == {"new"}
