"""Both mutant lists match the code they mutate, so `make mutation` and `make mutation-service`
cannot rot between runs: a change that moves a mutated line fails here, in `make test`."""

from __future__ import annotations

from scripts.mutants import MUTANTS
from scripts.mutation import check_mutants
from scripts.service_mutants import SERVICE_MUTANTS
from scripts.service_mutation import _rooted


def test_every_platform_mutant_names_code_that_exists_once() -> None:
    assert check_mutants(MUTANTS) == []


def test_every_service_mutant_names_code_that_exists_once() -> None:
    assert check_mutants([_rooted(mutant) for mutant in SERVICE_MUTANTS]) == []
