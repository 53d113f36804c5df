"""SQL for the products table. Every value travels as a bound parameter, never inside the SQL text.

Reads run on asyncpg connections (catalog_api/readpool.py, `$n` parameters); writes on psycopg
connections (catalog_api/db.py, `%(name)s` parameters).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

COLUMN_NAMES = (
    "id",
    "sku",
    "name",
    "description",
    "category",
    "price",
    "currency",
    "stock",
    "created_at",
    "updated_at",
)
_COLUMNS = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMN_NAMES)
# Reads run per request: their SQL is written once, here, not per call.
_READ_COLUMNS = ", ".join(f'"{c}"' for c in COLUMN_NAMES)
# Only constant identifiers are put into the text; values are `$n` parameters.
_BY_ID = f"SELECT {_READ_COLUMNS} FROM products WHERE id = $1"  # noqa: S608
_BY_SKU = f"SELECT {_READ_COLUMNS} FROM products WHERE sku = $1"  # noqa: S608
# A read's row: the columns of COLUMN_NAMES, in that order, the price as its text ("12.50",
# readpool's numeric codec). An asyncpg Record unpacks and indexes as a tuple does.
Row = Sequence[Any]
_list_sql: dict[tuple[str, ...], str] = {}
WRITABLE = ("sku", "name", "description", "category", "price", "currency", "stock")


class DuplicateSkuError(ValueError):
    """Another product already has this SKU."""


@dataclass(frozen=True)
class ListFilters:
    """What a listing is narrowed to; None means no restriction."""

    category: str | None = None
    """Exact category slug (default: all)."""
    min_price: Decimal | None = None
    """Lowest price, inclusive (default: none)."""
    max_price: Decimal | None = None
    """Highest price, inclusive (default: none)."""
    q: str | None = None
    """Case-insensitive substring of the name, served by the trigram index (default: none)."""


def _like_pattern(text: str) -> str:
    # The user's text is a literal: its %, _ and \ must not act as wildcards.
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def to_json(row: dict[str, Any]) -> dict[str, Any]:
    """A row as the API's JSON object (price as a decimal string, times in RFC 3339)."""
    out = dict(row)
    price: Decimal = row["price"]
    out["price"] = f"{price:.2f}"
    for key in ("created_at", "updated_at"):
        value: datetime = row[key]
        out[key] = value.isoformat()
    return out


def row_json(row: Row) -> dict[str, Any]:
    """A read's row as the API's JSON object: what `to_json` makes of a write's row, once encoded.

    The timestamps stay datetimes: the encoder (http.json_bytes, orjson) writes an aware one in
    C exactly as `datetime.isoformat()` does, which was most of this function's time per row.
    """
    product_id, sku, name, description, category, price, currency, stock, created_at, updated_at = row
    return {
        "id": product_id,
        "sku": sku,
        "name": name,
        "description": description,
        "category": category,
        "price": price,
        "currency": currency,
        "stock": stock,
        "created_at": created_at,
        "updated_at": updated_at,
    }


# Each filter's condition; its value is the next bound parameter.
_CONDITIONS = {
    "after_id": "id > ",
    "category": "category = ",
    "min_price": "price >= ",
    "max_price": "price <= ",
    "q": "name ILIKE ",
}


def _conditions(filters: ListFilters, after_id: int | None) -> tuple[tuple[str, ...], list[Any]]:
    """The names of the conditions that apply, in a fixed order, and their values."""
    values = {
        "after_id": after_id,
        "category": filters.category,
        "min_price": filters.min_price,
        "max_price": filters.max_price,
        "q": _like_pattern(filters.q) if filters.q is not None else None,
    }
    names = tuple(name for name, value in values.items() if value is not None)
    return names, [values[name] for name in names]


def _compose_list(names: tuple[str, ...]) -> str:
    where = " AND ".join(f"{_CONDITIONS[name]}${n}" for n, name in enumerate(names, start=1))
    limit = f"${len(names) + 1}"
    clause = f"WHERE {where} " if where else ""
    return f"SELECT {_READ_COLUMNS} FROM products {clause}ORDER BY id LIMIT {limit}"  # noqa: S608 - constants and $n only


def list_query(filters: ListFilters, after_id: int | None, limit: int) -> tuple[str, list[Any]]:
    """The listing's SQL (`$n` parameters) and its bound parameters; the SQL is written once per
    combination of filters (there are 32)."""
    names, params = _conditions(filters, after_id)
    params.append(limit + 1)
    text = _list_sql.get(names)
    if text is None:
        text = _list_sql[names] = _compose_list(names)
    return text, params


async def list_products(conn: Any, filters: ListFilters, after_id: int | None, limit: int) -> list[Row]:
    """Up to `limit + 1` rows in id order after `after_id` (the extra row tells whether a next page exists)."""
    query, params = list_query(filters, after_id, limit)
    rows: list[Row] = await conn.fetch(query, *params)
    return rows


async def get_by_id(conn: Any, product_id: int) -> Row | None:
    row: Row | None = await conn.fetchrow(_BY_ID, product_id)
    return row


async def get_by_sku(conn: Any, sku: str) -> Row | None:
    row: Row | None = await conn.fetchrow(_BY_SKU, sku)
    return row


def _db_values(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: (Decimal(v) if k == "price" else v) for k, v in fields.items() if k in WRITABLE}


async def create(conn: psycopg.AsyncConnection[Any], fields: dict[str, Any]) -> dict[str, Any]:
    values = _db_values(fields)
    query = sql.SQL("INSERT INTO products ({names}) VALUES ({placeholders}) RETURNING {cols}").format(
        names=sql.SQL(", ").join(sql.Identifier(k) for k in values),
        placeholders=sql.SQL(", ").join(sql.Placeholder(k) for k in values),
        cols=_COLUMNS,
    )
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, values)
            row = await cur.fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise DuplicateSkuError(fields.get("sku", "")) from exc
    assert row is not None
    return row


async def update(conn: psycopg.AsyncConnection[Any], product_id: int, fields: dict[str, Any]) -> dict[str, Any] | None:
    """Set the given columns (PUT sends all, PATCH some); None if there is no such product."""
    values = _db_values(fields)
    assignments: list[sql.Composable] = [
        sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in values
    ]
    assignments.append(sql.SQL("updated_at = now()"))
    query = sql.SQL("UPDATE products SET {assignments} WHERE id = {id} RETURNING {cols}").format(
        assignments=sql.SQL(", ").join(assignments),
        id=sql.Placeholder("__id"),
        cols=_COLUMNS,
    )
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(query, {**values, "__id": product_id})
            return await cur.fetchone()
    except psycopg.errors.UniqueViolation as exc:
        raise DuplicateSkuError(fields.get("sku", "")) from exc


async def delete(conn: psycopg.AsyncConnection[Any], product_id: int) -> bool:
    cur = await conn.execute("DELETE FROM products WHERE id = %s", (product_id,))
    return cur.rowcount == 1
