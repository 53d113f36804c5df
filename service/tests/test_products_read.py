"""Catalog reads: listing with filters and keyset pages, lookups by id and SKU, cache headers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import product


def _create(client: TestClient, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    response = client.post("/products", json=product(**fields), headers=admin)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _seed(client: TestClient, admin: dict[str, str], count: int, **fields: Any) -> list[dict[str, Any]]:
    return [_create(client, admin, sku=f"SKU-{i:04d}", name=f"Item {i}", **fields) for i in range(count)]


def _all_pages(client: TestClient, query: str, start: str | None = None) -> tuple[list[int], int]:
    """Every page of `/products?{query}`, from the page after cursor `start` (the first page without)."""
    ids: list[int] = []
    pages = 0
    url = f"/products?{query}" + (f"&cursor={start}" if start else "")
    while True:
        response = client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        pages += 1
        ids.extend(item["id"] for item in body["items"])
        if body["next_cursor"] is None:
            return ids, pages
        url = f"/products?{query}&cursor={body['next_cursor']}"
        assert pages < 100


def test_empty_catalog_lists_no_items_and_no_cursor(client: TestClient) -> None:
    response = client.get("/products")
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None, "limit": 20}


def test_exact_page_boundary_has_no_empty_last_page(client: TestClient, admin: dict[str, str]) -> None:
    created = _seed(client, admin, 6)
    ids, pages = _all_pages(client, "limit=3")
    assert ids == [p["id"] for p in created]
    assert pages == 2


def test_last_page_is_partial_and_ends_the_listing(client: TestClient, admin: dict[str, str]) -> None:
    created = _seed(client, admin, 7)
    first = client.get("/products?limit=5").json()
    assert len(first["items"]) == 5
    last = client.get(f"/products?limit=5&cursor={first['next_cursor']}").json()
    assert [p["id"] for p in last["items"]] == [p["id"] for p in created[5:]]
    assert last["next_cursor"] is None


def test_pages_stay_consistent_when_rows_are_added_between_them(client: TestClient, admin: dict[str, str]) -> None:
    _seed(client, admin, 4)
    first = client.get("/products?limit=2").json()
    newcomer = _create(client, admin, sku="LATE-1")
    rest, _ = _all_pages(client, "limit=2", start=first["next_cursor"])
    seen = [p["id"] for p in first["items"]] + rest
    assert len(seen) == len(set(seen)) == 5
    assert newcomer["id"] in seen


def test_tampered_cursor_answers_400(client: TestClient, admin: dict[str, str]) -> None:
    _seed(client, admin, 3)
    token = client.get("/products?limit=1").json()["next_cursor"]
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    for bad in (tampered, "not-a-cursor", "A" * 27, "%00", "'; DROP TABLE products;--"):
        response = client.get("/products", params={"cursor": bad, "limit": 1})
        assert response.status_code == 400, bad
        assert response.json()["error"] in ("bad_cursor", "bad_request")
        assert response.headers["cache-control"] == "no-store"


def test_cursor_is_bound_to_its_filters(client: TestClient, admin: dict[str, str]) -> None:
    _seed(client, admin, 3, category="shoes")
    token = client.get("/products?limit=1&category=shoes").json()["next_cursor"]
    response = client.get(f"/products?limit=1&category=hats&cursor={token}")
    assert response.status_code == 400
    assert "other filters" in response.json()["message"]


def test_filter_by_category_and_price_range(client: TestClient, admin: dict[str, str]) -> None:
    _create(client, admin, sku="A", category="shoes", price="10.00")
    _create(client, admin, sku="B", category="shoes", price="50.00")
    _create(client, admin, sku="C", category="hats", price="30.00")
    shoes = client.get("/products?category=shoes").json()["items"]
    assert [p["sku"] for p in shoes] == ["A", "B"]
    mid = client.get("/products?min_price=10.01&max_price=50").json()["items"]
    assert [p["sku"] for p in mid] == ["B", "C"]
    cheap_shoes = client.get("/products?category=shoes&max_price=10").json()["items"]
    assert [p["sku"] for p in cheap_shoes] == ["A"]


def test_min_price_above_max_price_answers_400(client: TestClient) -> None:
    response = client.get("/products?min_price=5&max_price=1")
    assert response.status_code == 400
    assert response.json()["message"] == "min_price must not be greater than max_price"


def test_text_match_is_case_insensitive_and_treats_wildcards_literally(
    client: TestClient, admin: dict[str, str]
) -> None:
    _create(client, admin, sku="P1", name="100% Cotton Shirt")
    _create(client, admin, sku="P2", name="Cotton_Blend Shirt")
    _create(client, admin, sku="P3", name="Wool Scarf")
    _create(client, admin, sku="P4", name="Crème brûlée spoon")
    # As wildcards, "100% Cotton" would also match P5's "100 Cotton" and "Cotton_Blend" P6's "Cotton Blend".
    _create(client, admin, sku="P5", name="Pack of 100 Cotton Socks")
    _create(client, admin, sku="P6", name="Cotton Blend Scarf")
    assert [p["sku"] for p in client.get("/products", params={"q": "cotton"}).json()["items"]] == [
        "P1",
        "P2",
        "P5",
        "P6",
    ]
    assert [p["sku"] for p in client.get("/products", params={"q": "100% Cotton"}).json()["items"]] == ["P1"]
    assert [p["sku"] for p in client.get("/products", params={"q": "Cotton_Blend"}).json()["items"]] == ["P2"]
    assert [p["sku"] for p in client.get("/products", params={"q": "BRÛLÉE"}).json()["items"]] == ["P4"]
    assert client.get("/products", params={"q": "' OR 1=1 -- drop"}).json()["items"] == []


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=101",
        "limit=abc",
        "limit=99999999999999999999999",
        "min_price=-1",
        "min_price=1.234",
        "max_price=1e3",
        "max_price=NaN",
        "category=Not%20A%20Slug",
        "q=" + "x" * 101,
        "q=",
        "q=%00",
        "q=a%0Ab",
        "env=true",
        "debug=1",
    ],
)
def test_bad_list_parameters_answer_400(client: TestClient, query: str) -> None:
    response = client.get(f"/products?{query}")
    assert response.status_code == 400, response.text
    body = response.json()
    assert set(body) <= {"error", "message", "details"}
    assert "\n" not in body["message"]


@pytest.mark.parametrize("path", ["/products", "/products/1", "/products/sku/A-1"])
def test_unknown_parameter_names_are_counted_not_echoed(client: TestClient, path: str) -> None:
    response = client.get(f"{path}?%3Cscript%3Ealert(1)%3C%2Fscript%3E=2&debugmode=1")
    assert response.status_code == 400, response.text
    assert "script" not in response.text and "debugmode" not in response.text
    assert response.json()["message"].startswith("2 unknown query parameter(s); allowed: ")


def test_get_by_id_and_by_sku(client: TestClient, admin: dict[str, str]) -> None:
    created = _create(client, admin, sku="Shoe.42_x-1", description="Line one\nline two")
    by_id = client.get(f"/products/{created['id']}")
    by_sku = client.get("/products/sku/Shoe.42_x-1")
    assert by_id.status_code == by_sku.status_code == 200
    assert by_id.json() == by_sku.json() == created


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/products/999999", 404),
        ("/products/sku/NOPE", 404),
        ("/products/0", 400),
        ("/products/-1", 400),
        ("/products/abc", 400),
        ("/products/1.5", 400),
        ("/products/99999999999999999999999999", 400),
        ("/products/sku/-leading-dash", 400),
        ("/products/sku/" + "a" * 65, 400),
        ("/products/1?x=1", 400),
    ],
)
def test_lookup_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["error"]


def test_reads_are_cacheable_with_an_etag_and_conditional_get(client: TestClient, admin: dict[str, str]) -> None:
    created = _create(client, admin)
    for path in ("/products", f"/products/{created['id']}", "/products/sku/SKU-1"):
        first = client.get(path)
        assert first.headers["cache-control"] == "public, max-age=60, stale-while-revalidate=30, stale-if-error=300"
        etag = first.headers["etag"]
        assert etag.startswith('"') and etag.endswith('"')
        again = client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        weak = client.get(path, headers={"If-None-Match": f'"other", W/{etag}'})
        assert weak.status_code == 304
        assert client.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_etag_changes_when_the_product_changes(client: TestClient, admin: dict[str, str]) -> None:
    created = _create(client, admin)
    path = f"/products/{created['id']}"
    before = client.get(path).headers["etag"]
    assert client.patch(path, json={"stock": 7}, headers=admin).status_code == 200
    after = client.get(path, headers={"If-None-Match": before})
    assert after.status_code == 200
    assert after.headers["etag"] != before


def test_i15_cacheable_reads_carry_no_request_id(client: TestClient, admin: dict[str, str]) -> None:
    """The edge stores a read and serves it to every viewer: no caller's id may ride along."""
    created = _create(client, admin)
    for path in ("/products", f"/products/{created['id']}", "/products/sku/SKU-1"):
        response = client.get(path, headers={"X-Request-Id": "planted-by-viewer-1"})
        assert response.headers["cache-control"].startswith("public")
        assert "x-request-id" not in response.headers, path
        etag = response.headers["etag"]
        not_modified = client.get(path, headers={"X-Request-Id": "planted-by-viewer-1", "If-None-Match": etag})
        assert not_modified.status_code == 304
        assert "x-request-id" not in not_modified.headers, path


@pytest.mark.parametrize("path", ["/products", "/products/{id}", "/products/sku/SKU-1", "/health", "/ready"])
def test_i15_head_answers_like_get_without_a_body(client: TestClient, admin: dict[str, str], path: str) -> None:
    created = _create(client, admin)
    url = path.format(id=created["id"])
    get = client.get(url)
    head = client.head(url)
    assert head.status_code == get.status_code == 200
    assert head.content == b""

    def comparable(headers: Any) -> dict[str, str]:
        return {k: v for k, v in headers.items() if k not in ("date", "x-request-id")}

    assert comparable(head.headers) == comparable(get.headers)
    if "etag" in get.headers:
        assert client.head(url, headers={"If-None-Match": get.headers["etag"]}).status_code == 304


def test_i15_head_on_a_missing_product_answers_404_without_a_body(client: TestClient) -> None:
    response = client.head("/products/424242")
    assert response.status_code == 404
    assert response.content == b""
    assert response.headers["cache-control"] == "no-store"


class _RecordingCursor:
    """Stands in for psycopg's cursor (writes): keeps the SQL text and the parameters of each execute."""

    def __init__(self, executed: list[tuple[str, Any]]) -> None:
        self.executed = executed

    async def __aenter__(self) -> _RecordingCursor:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        return None

    async def execute(self, query: Any, params: Any = None) -> None:
        text = query.as_string(None) if hasattr(query, "as_string") else str(query)
        self.executed.append((text, params))

    async def fetchall(self) -> list[dict[str, Any]]:
        return []

    async def fetchone(self) -> None:
        return None


class _RecordingConnection:
    """Stands in for both drivers' connections: asyncpg's (reads) and psycopg's (writes)."""

    def __init__(self) -> None:
        self.executed: list[tuple[str, Any]] = []

    async def fetch(self, query: str, *params: Any) -> list[Any]:
        self.executed.append((query, params))
        return []

    async def fetchrow(self, query: str, *params: Any) -> None:
        self.executed.append((query, params))

    def cursor(self, **_kwargs: Any) -> _RecordingCursor:
        return _RecordingCursor(self.executed)

    async def execute(self, query: Any, params: Any = None) -> Any:
        await _RecordingCursor(self.executed).execute(query, params)
        return type("Done", (), {"rowcount": 0})()


def test_i15_every_filter_value_travels_as_a_bound_parameter() -> None:
    """No value a caller sends is ever part of the SQL text, whatever pattern it passed."""
    import asyncio

    from catalog_api import repository

    filters = repository.ListFilters(
        category="cat-marker-77", min_price=Decimal("12.34"), max_price=Decimal("56.78"), q="name-marker-99"
    )
    conn = _RecordingConnection()

    async def run() -> None:
        await repository.list_products(conn, filters, 4242, 17)
        await repository.get_by_id(conn, 5151)
        await repository.get_by_sku(conn, "SKU-MARKER-1")
        await repository.delete(conn, 6161)  # type: ignore[arg-type]

    asyncio.run(run())
    texts = " ".join(text for text, _ in conn.executed)
    for value in ("cat-marker-77", "12.34", "56.78", "name-marker-99", "4242", "18", "5151", "SKU-MARKER-1", "6161"):
        assert value not in texts, f"{value} is in the SQL text"
    params = [p for _, ps in conn.executed for p in (ps or ())]
    assert "cat-marker-77" in params and Decimal("12.34") in params and Decimal("56.78") in params
    assert "%name-marker-99%" in params and 4242 in params and 18 in params


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    created_at=st.datetimes(timezones=st.just(UTC), min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1)),
    price=st.decimals(min_value=0, max_value=Decimal("99999999.99"), places=2),
)
def test_i16_a_read_answers_the_timestamps_and_price_a_write_answers(created_at: datetime, price: Decimal) -> None:
    """Reads leave the timestamps to the JSON encoder and take the price as PostgreSQL's text;
    the bytes are those a write's answer (`to_json`, isoformat and two decimals) has."""
    from catalog_api import repository
    from catalog_api.http import json_bytes

    write_row = dict(
        zip(
            repository.COLUMN_NAMES,
            (7, "SKU-7", "Shirt", None, "shirts", price, "EUR", 3, created_at, created_at),
            strict=True,
        )
    )
    # numeric(10,2) as PostgreSQL writes it: always two decimals, as f"{price:.2f}".
    read_row = (7, "SKU-7", "Shirt", None, "shirts", f"{price:.2f}", "EUR", 3, created_at, created_at)
    assert json_bytes(repository.row_json(read_row)) == json_bytes(repository.to_json(write_row))


def test_i16_reads_answer_each_product_exactly_as_its_write_answered(client: TestClient, admin: dict[str, str]) -> None:
    """Reads (asyncpg) and writes (psycopg) are different drivers: one product, one JSON object."""
    written = [
        client.post("/products", json=product(sku=f"SKU-P{n}", price=price), headers=admin).json()
        for n, price in enumerate(("0", "5.5", "12.30", "99999999.99"))
    ]
    listed = client.get("/products").json()["items"]
    assert listed == written
    for body in written:
        assert client.get(f"/products/{body['id']}").json() == body
        assert client.get(f"/products/sku/{body['sku']}").json() == body
    assert [body["price"] for body in written] == ["0.00", "5.50", "12.30", "99999999.99"]
