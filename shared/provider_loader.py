"""Load only the AWS provider submodules the app uses.

The published ``cdktf_cdktf_provider_aws/__init__.py`` imports all of its ~2,200
submodules eagerly, which is most of a synth's wall time, while this app uses a few
dozen. ``enable()`` registers the package with its own preamble (jsii assembly,
``check_type``) but without those submodule imports; each ``from
cdktf_cdktf_provider_aws.vpc import Vpc`` then loads just that submodule. The
generated submodules import only ``.._jsii`` from their parent, so the objects they
create, and therefore the synthesized JSON, are the same as with the eager import
(``tests/test_provider_loader.py`` compares the bytes).

Set ``CATALOG_EAGER_PROVIDER_IMPORT=1`` to turn it off. If the package's layout is
not the one expected, the normal import is used instead of failing.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from pathlib import Path

PACKAGE = "cdktf_cdktf_provider_aws"
DISABLE_SWITCH = "CATALOG_EAGER_PROVIDER_IMPORT"

# One eager submodule import per line at the end of the generated __init__.py.
_SUBMODULE_IMPORT = re.compile(r"^from \. import [A-Za-z0-9_]+\s*$", re.MULTILINE)


def enable(*, eager: bool = False, package: str = PACKAGE) -> str:
    """Import ``package`` lazily unless ``eager``; return the mode used.

    Returns ``"lazy"``, ``"eager"`` (asked for) or ``"fallback"`` (layout not
    recognised, normal import done). Idempotent: a package already imported is left
    as it is and reported by how it was loaded.
    """
    existing = sys.modules.get(package)
    if existing is not None:
        return "lazy" if getattr(existing, "__catalog_lazy__", False) else "eager"
    if eager:
        importlib.import_module(package)
        return "eager"
    try:
        _install_lazy_package(package)
    except Exception:  # noqa: BLE001 - any surprise in the layout means: use the normal import
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]
        importlib.import_module(package)
        return "fallback"
    return "lazy"


def _install_lazy_package(package: str) -> None:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None or not spec.submodule_search_locations:
        raise ImportError(f"{package} is not installed as a package")
    init = Path(spec.origin)
    source = init.read_text(encoding="utf-8")
    preamble, count = _SUBMODULE_IMPORT.subn("", source)
    if count < 100 or "from ._jsii import *" not in preamble or not (init.parent / "_jsii").is_dir():
        raise ImportError(f"{package} layout not recognised ({count} submodule imports)")

    module = types.ModuleType(package, None)
    module.__file__ = str(init)
    module.__path__ = list(spec.submodule_search_locations)
    module.__spec__ = spec
    module.__package__ = package
    sys.modules[package] = module
    exec(compile(preamble, str(init), "exec"), module.__dict__)  # noqa: S102 - the package's own preamble
    # Loading the jsii assembly resolves the package through importlib, which can
    # leave a bare module object in sys.modules; ours (with the preamble) goes back.
    sys.modules[package] = module

    def __getattr__(name: str) -> types.ModuleType:  # noqa: N807 - PEP 562: `cdktf_cdktf_provider_aws.vpc` still works
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            raise AttributeError(name) from error

    module.__getattr__ = __getattr__  # type: ignore[method-assign]
    module.__catalog_lazy__ = True  # type: ignore[attr-defined]
