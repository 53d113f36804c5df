"""The lazy provider import: loads only what is used, honours its switch, falls back safely."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import main
from shared import provider_loader

PREAMBLE = '''"""A generated provider package."""
from ._jsii import *

def check_type(argname, value, expected_type):
    return value
'''


def _fake_package(root: Path, name: str, *, init: str, submodules: int = 120) -> None:
    package = root / name
    (package / "_jsii").mkdir(parents=True)
    (package / "_jsii" / "__init__.py").write_text("ASSEMBLY = 'loaded'\n")
    for index in range(submodules):
        (package / f"sub_{index}").mkdir()
        (package / f"sub_{index}" / "__init__.py").write_text(f"from .._jsii import *\nVALUE = {index}\n")
    imports = "".join(f"from . import sub_{index}\n" for index in range(submodules))
    (package / "__init__.py").write_text(init + imports)


def _loaded(name: str) -> set[str]:
    return {m for m in sys.modules if m.startswith(name + ".sub_")}


def test_lazy_import_loads_only_used_submodules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(tmp_path, "fakeprov_lazy", init=PREAMBLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert provider_loader.enable(package="fakeprov_lazy") == "lazy"
    from fakeprov_lazy.sub_7 import VALUE  # type: ignore[import-not-found]

    assert VALUE == 7
    assert _loaded("fakeprov_lazy") == {"fakeprov_lazy.sub_7"}
    package = sys.modules["fakeprov_lazy"]
    assert package.check_type("x", 1, int) == 1, "the package preamble still runs"
    assert package.sub_9.VALUE == 9, "attribute access loads a submodule on demand"
    assert package.ASSEMBLY == "loaded"
    assert provider_loader.enable(package="fakeprov_lazy") == "lazy", "idempotent"


def test_unrecognised_layout_falls_back_to_the_normal_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(tmp_path, "fakeprov_other", init='"""A package without the expected preamble."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert provider_loader.enable(package="fakeprov_other") == "fallback"
    assert len(_loaded("fakeprov_other")) == 120, "normal (eager) import happened"


def test_eager_request_imports_normally(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_package(tmp_path, "fakeprov_eager", init=PREAMBLE)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert provider_loader.enable(eager=True, package="fakeprov_eager") == "eager"
    assert len(_loaded("fakeprov_eager")) == 120


def test_real_provider_loads_a_few_dozen_of_its_submodules() -> None:
    if provider_loader.enable() == "eager":
        pytest.skip(f"{provider_loader.DISABLE_SWITCH}=1: the eager import was asked for")
    loaded = _loaded_real()
    assert 20 <= len(loaded) <= 100, len(loaded)


def _loaded_real() -> set[str]:
    prefix = provider_loader.PACKAGE + "."
    return {m.split(".")[1] for m in sys.modules if m.startswith(prefix) and not m.startswith(prefix + "_")}


def test_main_honours_the_eager_switch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    real_enable = provider_loader.enable

    def recording_enable(*, eager: bool = False, package: str = provider_loader.PACKAGE) -> str:
        calls.append(eager)
        return real_enable(eager=eager, package=package)

    monkeypatch.setattr(provider_loader, "enable", recording_enable)
    # The stacks are not needed to see which import main() asks for; an empty app synthesizes at once.
    monkeypatch.setattr(main, "build", lambda app, config: None)
    assert main.main({provider_loader.DISABLE_SWITCH: "1", "CDKTF_OUTDIR": str(tmp_path / "out")}) == 0
    assert main.main({"CDKTF_OUTDIR": str(tmp_path / "out")}) == 0
    assert calls == [True, False]
