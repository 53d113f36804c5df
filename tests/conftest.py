"""One synthesis of the whole app per test session, shared by every test."""

from __future__ import annotations

import os
import tempfile

import pytest

import main
from shared import provider_loader

# A bare `pytest` (outside make) runs jsii on the project's Node 22 too, with no end-of-life banner.
main.use_project_node(os.environ)
# Everything the session and its subprocesses write to the temporary directory (jsii's
# runtime copy and kernel folders, the cdktf.outdir.* folders of Testing.app()) goes into
# one folder removed when the session ends. pytest's own tmp_path folders stay where pytest
# keeps them (its last three runs), so a failed test's files can still be read.
TEMP_ROOT = tempfile.gettempdir()
"""The machine's temporary directory, for a folder other users must reach (the session's is private)."""
os.environ.setdefault("PYTEST_DEBUG_TEMPROOT", TEMP_ROOT)
main.use_private_temp_dir(os.environ, prefix="catalog-api-tests-")
# Before any test module imports a provider class: otherwise the package's eager
# __init__ would load all ~2,200 submodules (~20 s) before the first test.
provider_loader.enable(eager=os.environ.get(provider_loader.DISABLE_SWITCH) == "1")

from tests.synth import Json, Synthesis, synthesize, synthesize_bootstrap  # noqa: E402 - after the loader on purpose

# Every non-default option at once, so one extra synthesis covers them all: the
# committed test environment tests/environments/variant.toml, selected as a user would.
VARIANT = {"ENV": "variant", "CATALOG_ENVIRONMENTS_DIR": "tests/environments"}


@pytest.fixture(scope="session")
def synth() -> Synthesis:
    """The app as ``make synth`` builds it with no variables set (all defaults)."""
    return synthesize({})


@pytest.fixture(scope="session")
def variant_synth() -> Synthesis:
    """The app from tests/environments/variant.toml: S3 state with lockfile, longest suffix, one NAT, no WAF, protection on."""
    return synthesize(VARIANT)


# The API at its own name in a Route 53 zone: tests/environments/domain.toml (S-07).
DOMAIN = {"ENV": "domain", "CATALOG_ENVIRONMENTS_DIR": "tests/environments"}


@pytest.fixture(scope="session")
def domain_synth() -> Synthesis:
    """The app from tests/environments/domain.toml: api.shop.example in the zone shop.example."""
    return synthesize(DOMAIN)


@pytest.fixture(scope="session")
def unzoned_domain_synth() -> Synthesis:
    """A host name without a Route 53 zone (the records are created at another DNS provider), WAF off."""
    from shared.config import Config, DomainConfig
    from tests.synth import synthesize_config

    return synthesize_config(Config(domain=DomainConfig(name="api.catalog.example.org"), waf_enabled=False))


@pytest.fixture(scope="session")
def bootstrap_stack() -> Json:
    """The bootstrap stack of an environment that declares remote state: it must stay on local state."""
    return synthesize_bootstrap(VARIANT)


# The platform's own API image, by digest, in the account's private ECR repository.
API_IMAGE = "123456789012.dkr.ecr.eu-north-1.amazonaws.com/catalog-api-images-prod@sha256:" + "ab" * 32


@pytest.fixture(scope="session")
def production_synth() -> Synthesis:
    """A production-shaped environment: the API image, protection and final snapshot on, all tasks on Spot."""
    from shared.config import Config
    from tests.synth import synthesize_config

    return synthesize_config(
        Config(
            environment_suffix="prod",
            container_image=API_IMAGE,
            deletion_protection=True,
            final_snapshot=True,
            on_demand_base=0,
        )
    )


@pytest.fixture(scope="session")
def placeholder_synth() -> Synthesis:
    """An environment that chose the placeholder explicitly (image = "placeholder")."""
    from shared.config import Config
    from tests.synth import synthesize_config

    return synthesize_config(Config(placeholder=True))
