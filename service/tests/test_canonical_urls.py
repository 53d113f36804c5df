"""One URL per resource, and reads the edge may keep serving while the database fails over.

Against the real server process: every spelling of a read other than its canonical URL is
redirected there (301, cacheable) or refused (400), never served as a separate object the
edge would cache apart; reads carry `stale-if-error`, errors never do.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from catalog_api import canonical
from catalog_api.app import reads
from catalog_api.models import ID_MAX
from devtools.pgserver import free_port
from tests.conftest import make_client
from tests.helpers import ADMIN_TOKEN, ServiceProcess, request, start_service

CONTRACT: dict[str, Any] = json.loads((Path(__file__).resolve().parent.parent / "contract.json").read_text())
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"}
STALE_IF_ERROR = "stale-if-error=300"


def _create(service: ServiceProcess, **fields: Any) -> dict[str, Any]:
    body = {"sku": f"I16-{uuid.uuid4().hex[:12]}", "name": "Canonical shirt", "category": "shirts", "price": "12.50"}
    body.update(fields)
    response = request(service.port, "POST", "/products", headers=ADMIN, body=json.dumps(body).encode())
    assert response.status == 201, response.text
    created: dict[str, Any] = json.loads(response.body)
    return created


@pytest.fixture(scope="module")
def service(db_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    """The real entry point, for this module only.

    The session's shared process would be started here, first of all modules, and then live
    through the tests that kill every connection of the service, which later modules do not expect.
    """
    started = start_service(
        {**db_env, "ADMIN_TOKEN": ADMIN_TOKEN}, tmp_path_factory.mktemp("canonical") / "service.log"
    )
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture(scope="module")
def item(service: ServiceProcess) -> dict[str, Any]:
    return _create(service)


def _percent_encoded(text: str) -> str:
    return "".join(f"%{ord(c):02X}" for c in text)


# The probe's spellings: (non-canonical, canonical); {id} and {sku} are the created product's.
SPELLINGS = [
    ("/products/0{id}", "/products/{id}"),
    ("/products/00{id}", "/products/{id}"),
    ("/products/+{id}", "/products/{id}"),
    ("/products/{id_encoded}", "/products/{id}"),
    ("/products/{id}.0", "/products/{id}"),
    ("/products/sku/{sku_encoded}", "/products/sku/{sku}"),
    ("/products?limit=1_0", "/products?limit=10"),
    ("/products?limit=010", "/products?limit=10"),
    ("/products?limit=%2B10", "/products?limit=10"),
    ("/products?limit=+10", "/products?limit=10"),
    ("/products?limit=20", "/products"),
    ("/products?limit=5&category=shirts", "/products?category=shirts&limit=5"),
    ("/products?min_price=10&max_price=20.5", "/products?max_price=20.50&min_price=10.00"),
    ("/products?q=canonical+shirt", "/products?q=canonical%20shirt"),
    ("/products?q=canonical%20shirt!", "/products?q=canonical%20shirt%21"),
    ("/products?q=canonical%20shirt%2c", "/products?q=canonical%20shirt%2C"),
    ("/products?%6Cimit=5", "/products?limit=5"),
    ("/products?&limit=5&", "/products?limit=5"),
]


def _fill(template: str, item: dict[str, Any]) -> str:
    return template.format(
        id=item["id"],
        id_encoded=_percent_encoded(str(item["id"])),
        sku=item["sku"],
        sku_encoded=_percent_encoded(item["sku"][:1]) + item["sku"][1:],
    )


@pytest.mark.parametrize(("spelling", "canonical_url"), SPELLINGS)
def test_i16_a_read_is_served_at_its_canonical_url_and_redirected_there_from_any_other_spelling(
    service: ServiceProcess, item: dict[str, Any], spelling: str, canonical_url: str
) -> None:
    sent, target = _fill(spelling, item), _fill(canonical_url, item)
    served = request(service.port, "GET", target)
    assert served.status == 200, served.text
    for method in ("GET", "HEAD"):
        answer = request(service.port, method, sent)
        assert answer.status == 301, (method, sent, answer.status, answer.text)
        assert answer.headers["location"] == target
        assert answer.headers["cache-control"] == "public, max-age=86400"
        assert answer.body == b""
        assert "x-request-id" not in answer.headers


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("limit=1&limit=2", "limit given more than once; send each query parameter once"),
        ("limit=5&limit=5", "limit given more than once; send each query parameter once"),
        ("category=shirts&q=a&category=hats", "category given more than once; send each query parameter once"),
        ("limit=", "limit has an empty value; leave an unused parameter out of the URL"),
        ("q=&limit=5", "q has an empty value; leave an unused parameter out of the URL"),
        ("category", "category has an empty value; leave an unused parameter out of the URL"),
    ],
)
def test_i16_repeated_or_empty_parameters_are_refused_never_last_one_wins(
    service: ServiceProcess, query: str, message: str
) -> None:
    for method in ("GET", "HEAD"):
        answer = request(service.port, method, f"/products?{query}")
        assert answer.status == 400, (method, answer.text)
        assert answer.headers["cache-control"] == "no-store"
        if method == "GET":
            assert json.loads(answer.body) == {"error": "bad_request", "message": message}


@pytest.mark.parametrize(
    "query",
    [
        "q=i%C2%8F%1Ee&limit=66",  # a control character the route refuses, parameters out of order
        "category=Not+A+Slug",  # not a slug, with + for the spaces
        "cursor=" + "%41" * 65,  # longer than any cursor, percent-encoded
        "q=ab&limit=5",  # a search shorter than three characters, parameters out of order
        "cursor=%7E",  # no cursor the service issues: a redirect to ?cursor=~ would only meet bad_cursor
        "limit=5&category=apparel%0A",  # a trailing newline, which `$` alone would let through; out of order
        "q=shirt%0A&limit=5",
        "max_price=1&min_price=2",  # min above max, whatever the prices' spelling
        "limit=%1C5",  # a separator character str.strip() removes and the route's parsing refuses
    ],
)
def test_i16_a_value_the_route_refuses_is_refused_at_once_never_redirected(service: ServiceProcess, query: str) -> None:
    # A 301 there would send the caller (and the edge's cache) one hop further only to get the 400.
    for method in ("GET", "HEAD"):
        answer = request(service.port, method, f"/products?{query}")
        assert answer.status == 400, (method, answer.status, answer.headers.get("location"))
        assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("spelling", ["/products/0{id}", "/products/{id_encoded}", "/products/+{id}"])
def test_i16_a_write_to_another_spelling_of_a_product_url_is_refused_naming_the_canonical_one(
    service: ServiceProcess, method: str, spelling: str
) -> None:
    created = _create(service)
    body = {"PUT": {**{k: created[k] for k in ("sku", "name", "category")}, "price": "1.00"}, "PATCH": {"stock": 9}}
    payload = json.dumps(body[method]).encode() if method in body else None
    url = _fill(spelling, created)
    # The token is checked first: a stranger learns nothing about URLs.
    stranger = request(service.port, method, url, headers={**ADMIN, "Authorization": "Bearer wrong"}, body=payload)
    assert stranger.status == 401
    answer = request(service.port, method, url, headers=ADMIN, body=payload)
    assert answer.status == 400, answer.text
    assert json.loads(answer.body) == {
        "error": "bad_request",
        "message": f"use the product's canonical URL /products/{created['id']}",
    }
    unchanged = request(service.port, "GET", f"/products/{created['id']}")
    assert unchanged.status == 200
    assert json.loads(unchanged.body) == created


def test_i16_accepted_query_parameters_are_those_the_contract_lists_for_the_edge() -> None:
    """The edge canonicalises query strings from contract.json: the service must accept exactly that list."""
    assert canonical.contract() == CONTRACT["canonical_query"]
    routes = CONTRACT["canonical_query"]["routes"]
    served = {}
    # Every cacheable read is on this router; the writes and probes are never cached at the edge.
    for route in reads.routes:
        assert isinstance(route, APIRoute)
        template = route.path.replace("{product_id}", "{id}")
        served[template] = sorted(param.alias for param in route.dependant.query_params)
        assert [p.name.replace("product_id", "id") for p in route.dependant.path_params] == [
            name for name in CONTRACT["canonical_query"]["values"] if "{" + name + "}" in template
        ]
    assert served == routes
    for names in routes.values():
        assert names == sorted(names), "each route lists its parameters in canonical order"
        assert set(names) <= set(CONTRACT["canonical_query"]["values"])


_LAX_ALPHABET = st.text(alphabet="0123456789+-_. \t\u00a0e", max_size=12)


@settings(max_examples=2000, deadline=None, derandomize=True, database=None)
@given(_LAX_ALPHABET)
def test_i16_every_integer_spelling_the_api_reads_has_a_canonical_url(text: str) -> None:
    """No spelling of an id or a limit slips past the redirect and is served as a separate object."""
    try:
        value = TypeAdapter(int).validate_python(text)
    except ValidationError:
        return
    if 1 <= value <= ID_MAX:
        assert canonical.lax_integer(text) == value


_NAMES = st.sampled_from(["category", "cursor", "limit", "max_price", "min_price", "q"])
_RAW_VALUES = st.one_of(
    st.sampled_from(["5", "05", "+5", "1_0", "20", "10", "10.5", "0.00", "shirts", "a b", "%41", "+", "%2B"]),
    st.text(alphabet="abc +%20_.~!*'()é", min_size=1, max_size=6),
)


@settings(max_examples=1500, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.tuples(_NAMES, _RAW_VALUES), max_size=5, unique_by=lambda pair: pair[0]),
    st.one_of(st.none(), st.sampled_from(["007", "+7", "7.0", "%37", "7_0", "0_7", "%2B7"])),
)
def test_i16_a_redirect_is_never_followed_by_another(pairs: list[tuple[str, str]], item: str | None) -> None:
    """The target of every redirect is canonical: one hop, never a loop between spellings."""
    path = "/products"
    query = "&".join(f"{name}={value}" for name, value in pairs).encode("utf-8")
    if item is not None:
        path, query = f"/products/{item}", b""
    answer = canonical.verdict("GET", path, path.encode(), query)
    if answer is None or answer.status_code != 301:
        return
    target = answer.headers["location"]
    target_path, _, target_query = target.partition("?")
    assert canonical.verdict("GET", target_path, target_path.encode(), target_query.encode()) is None, target


def test_i16_reads_carry_stale_if_error_and_errors_never_do(
    service: ServiceProcess, item: dict[str, Any], db_env: dict[str, str]
) -> None:
    """The edge may serve a read for 300 s past an origin error; an error itself is never stored."""
    for path in ("/products", f"/products/{item['id']}", f"/products/sku/{item['sku']}"):
        read = request(service.port, "GET", path)
        assert read.status == 200
        directives = [d.strip() for d in read.headers["cache-control"].split(",")]
        assert STALE_IF_ERROR in directives, path
        not_modified = request(service.port, "GET", path, headers={"If-None-Match": read.headers["etag"]})
        assert not_modified.status == 304
        assert not_modified.headers["cache-control"] == read.headers["cache-control"]
    for path, status in (("/products/999999999", 404), ("/products?limit=0", 400), ("/products/abc", 400)):
        error = request(service.port, "GET", path)
        assert (error.status, error.headers["cache-control"]) == (status, "no-store"), path
    with make_client({**db_env, "DB_PORT": str(free_port())}, pool_timeout_s=0.5) as down:
        for path in ("/products", f"/products/{item['id']}", "/ready"):
            unavailable = down.get(path)
            assert (unavailable.status_code, unavailable.headers["cache-control"]) == (503, "no-store"), path
