"""Request and response schemas. Writes are strict: unknown fields, wrong types and oversize values are rejected."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

# Prices travel as decimal strings ("19.99"): a JSON number would pass through binary floating
# point in many clients. Up to 99 999 999.99, matching the column's numeric(10,2).
PRICE_PATTERN = r"^(0|[1-9][0-9]{0,7})(\.[0-9]{1,2})?$"
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
CATEGORY_PATTERN = r"^[a-z0-9][a-z0-9-]{0,49}$"
CURRENCY_PATTERN = r"^[A-Z]{3}$"
STOCK_MAX = 2_147_483_647
ID_MAX = 9_223_372_036_854_775_807
NAME_MAX = 200
DESCRIPTION_MAX = 2000
# A search needs at least one trigram for the name index to narrow it (shorter ones would scan it whole).
QUERY_MIN = 3
QUERY_MAX = 100
# A search's pattern yields a trigram only from 3 letters or digits in a row: `ILIKE '%a b%'` or
# `'%---%'` gives pg_trgm nothing to look up, and the index would be read whole.
QUERY_TRIGRAM = r"[^\W_]{3}"
# The longest next_cursor a list call may be given.
CURSOR_MAX = 64
LIMIT_DEFAULT = 20
LIMIT_MAX = 100

# The schema states the text rules as patterns too, so clients (and the fuzz tests) see them.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
DESCRIPTION_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_NEWLINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _encodable(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        # A lone surrogate (JSON "\ud800") is valid JSON text but no valid UTF-8 character.
        raise ValueError("must be valid Unicode text (no lone surrogates)") from exc


def single_line_text(value: str) -> str:
    _encodable(value)
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def multi_line_text(value: str) -> str:
    _encodable(value)
    if _CONTROL_EXCEPT_NEWLINES.search(value):
        raise ValueError("must not contain control characters other than tab and newline")
    return value


Sku = Annotated[
    str,
    Field(
        pattern=SKU_PATTERN,
        examples=["TSHIRT-RED-M"],
        description="1-64 of A-Z a-z 0-9 . _ -, starting with a letter or digit",
    ),
]
Name = Annotated[
    str,
    Field(min_length=1, max_length=NAME_MAX, pattern=NAME_PATTERN, examples=["Red T-shirt, size M"]),
    AfterValidator(single_line_text),
]
Description = Annotated[
    str, Field(max_length=DESCRIPTION_MAX, pattern=DESCRIPTION_PATTERN), AfterValidator(multi_line_text)
]
Category = Annotated[
    str, Field(pattern=CATEGORY_PATTERN, examples=["apparel"], description="lowercase slug, 1-50 characters")
]
Price = Annotated[
    str,
    Field(
        pattern=PRICE_PATTERN, examples=["19.99"], description="decimal string, 0 to 99999999.99, at most 2 decimals"
    ),
]
Currency = Annotated[str, Field(pattern=CURRENCY_PATTERN, examples=["EUR"], description="ISO 4217 code")]


def _integral_number(value: Any) -> Any:
    # JSON has one number type: 3.0 is the integer 3 (JSON Schema agrees); 3.5 and "3" stay wrong.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Stock = Annotated[int, Field(ge=0, le=STOCK_MAX), BeforeValidator(_integral_number)]

_STRICT = ConfigDict(extra="forbid", strict=True)


class ProductCreate(BaseModel):
    """A new product, or the full replacement of one (PUT)."""

    model_config = _STRICT
    sku: Sku
    name: Name
    description: Description = ""
    category: Category
    price: Price
    currency: Currency = "EUR"
    stock: Stock = 0


class ProductPatch(BaseModel):
    """Some fields of a product; at least one. `null` is not a value for any field."""

    # None marks "not sent"; the schema leaves null out, and an explicit null is rejected below.
    model_config = ConfigDict(extra="forbid", strict=True, json_schema_extra={"minProperties": 1})
    sku: Sku | SkipJsonSchema[None] = None
    name: Name | SkipJsonSchema[None] = None
    description: Description | SkipJsonSchema[None] = None
    category: Category | SkipJsonSchema[None] = None
    price: Price | SkipJsonSchema[None] = None
    currency: Currency | SkipJsonSchema[None] = None
    stock: Stock | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _not_empty_nor_null(self) -> ProductPatch:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        nulls = sorted(name for name in self.model_fields_set if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"null is not a value for {', '.join(nulls)}; leave the field out to keep it")
        return self

    def changes(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.model_fields_set}


class Product(BaseModel):
    """A product as the API returns it."""

    id: int
    sku: str
    name: str
    description: str
    category: str
    price: Price
    currency: str
    stock: int
    created_at: str = Field(description="RFC 3339 timestamp")
    updated_at: str = Field(description="RFC 3339 timestamp")


class ProductPage(BaseModel):
    """One page of a listing; pass `next_cursor` back as `cursor` for the next page (null on the last)."""

    items: list[Product]
    next_cursor: str | None
    limit: int


class ErrorDetail(BaseModel):
    location: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a stable code, one readable line, and for bad input the fields at fault."""

    error: str
    message: str
    details: list[ErrorDetail] | None = None


class Status(BaseModel):
    status: str
