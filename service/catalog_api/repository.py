"""SQL for the products table. Every value travels as a bound parameter, never inside the SQL text."""

from __future__ import annotations

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
# Reads run per request: their SQL is composed (and quoted) once, here, not per call.
_BY_ID = sql.SQL("SELECT {} FROM products WHERE id = %s").format(_COLUMNS).as_string()
_BY_SKU = sql.SQL("SELECT {} FROM products WHERE sku = %s").format(_COLUMNS).as_string()
# A read's row: the columns of COLUMN_NAMES, in that order (tuples cost less than dicts per row).
Row = tuple[Any, ...]
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
    """A read's row as the API's JSON object: the same object `to_json` makes of a dict row."""
    product_id, sku, name, description, category, price, currency, stock, created_at, updated_at = row
    return {
        "id": product_id,
        "sku": sku,
        "name": name,
        "description": description,
        "category": category,
        "price": f"{price:.2f}",
        "currency": currency,
        "stock": stock,
        "created_at": created_at.isoformat(),
        "updated_at": updated_at.isoformat(),
    }


def _conditions(filters: ListFilters, after_id: int | None) -> tuple[tuple[str, ...], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if after_id is not None:
        where.append("id > %s")
        params.append(after_id)
    if filters.category is not None:
        where.append("category = %s")
        params.append(filters.category)
    if filters.min_price is not None:
        where.append("price >= %s")
        params.append(filters.min_price)
    if filters.max_price is not None:
        where.append("price <= %s")
        params.append(filters.max_price)
    if filters.q is not None:
        where.append("name ILIKE %s")
        params.append(_like_pattern(filters.q))
    return tuple(where), params


def _compose_list(where: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("SELECT {cols} FROM products {where} ORDER BY id LIMIT %s").format(
        cols=_COLUMNS,
        where=sql.SQL("WHERE ") + sql.SQL(" AND ").join(sql.SQL(w) for w in where) if where else sql.SQL(""),
    )


def list_query(filters: ListFilters, after_id: int | None, limit: int) -> tuple[sql.Composed, list[Any]]:
    """The listing's SQL and its bound parameters (also what the tests EXPLAIN)."""
    where, params = _conditions(filters, after_id)
    params.append(limit + 1)
    return _compose_list(where), params


def _list_text(filters: ListFilters, after_id: int | None, limit: int) -> tuple[str, list[Any]]:
    """list_query's SQL as text, composed once per combination of filters (there are 32)."""
    where, params = _conditions(filters, after_id)
    params.append(limit + 1)
    text = _list_sql.get(where)
    if text is None:
        text = _list_sql[where] = _compose_list(where).as_string()
    return text, params


async def list_products(
    conn: psycopg.AsyncConnection[Any], filters: ListFilters, after_id: int | None, limit: int
) -> list[Row]:
    """Up to `limit + 1` rows in id order after `after_id` (the extra row tells whether a next page exists)."""
    query, params = _list_text(filters, after_id, limit)
    async with conn.cursor() as cur:
        await cur.execute(query, params)
        return await cur.fetchall()


async def get_by_id(conn: psycopg.AsyncConnection[Any], product_id: int) -> Row | None:
    async with conn.cursor() as cur:
        await cur.execute(_BY_ID, (product_id,))
        return await cur.fetchone()


async def get_by_sku(conn: psycopg.AsyncConnection[Any], sku: str) -> Row | None:
    async with conn.cursor() as cur:
        await cur.execute(_BY_SKU, (sku,))
        return await cur.fetchone()


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
