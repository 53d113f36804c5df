"""`make profile` reads py-spy's collapsed stacks: each sample counts once, for its innermost frame."""

from __future__ import annotations

from devtools.profile import report, shares

_RAW = """\
main (catalog_api/__main__.py:108);run (asyncio/runners.py:118) 40
main (catalog_api/__main__.py:108);_unit (catalog_api/readpool.py:250);_do_execute (asyncpg/connection.py:1890) 35
main (catalog_api/__main__.py:108);_unit (catalog_api/readpool.py:251) 5
main (catalog_api/__main__.py:108);format (catalog_api/logs.py:20);iterencode (json/encoder.py:258) 20

"""


def test_each_sample_counts_once_for_its_innermost_function_and_package() -> None:
    total, by_function, by_package = shares(_RAW.splitlines())
    assert total == 100
    assert by_function == {
        "run (asyncio/runners.py)": 40,
        "_do_execute (asyncpg/connection.py)": 35,
        "_unit (catalog_api/readpool.py)": 5,
        "iterencode (json/encoder.py)": 20,
    }
    assert by_package == {"asyncio": 40, "asyncpg": 35, "catalog_api": 5, "json": 20}


def test_the_report_gives_shares_of_all_samples() -> None:
    total, by_function, by_package = shares(_RAW.splitlines())
    text = report("get", total, by_function, by_package, top=2)
    assert "| asyncio | 40.0% |" in text and "| catalog_api | 5.0% |" in text
    assert "| _do_execute (asyncpg/connection.py) | 35.0% |" in text
    # --top bounds the functions listed.
    assert "iterencode" not in text
