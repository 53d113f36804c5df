"""One URL per resource: a catalog read is served only at its canonical URL.

The edge caches reads by path and query string, so `/products/01` and `/products/1`, or
`?limit=5&category=shoes` and `?category=shoes&limit=5`, would otherwise be separate copies of
one resource: twice the origin load, and copies that go stale independently of each other.

The canonical URL of a read (CONTRACT.md, "Canonical URLs"; the same table in contract.json,
key `canonical_query`):

- the path id in decimal digits without sign, leading zeros or separators (`/products/1`); a
  SKU as itself;
- only the route's own query parameters, each at most once, none empty, none at its default
  value, in the order of their names;
- integers as in the path; prices with exactly two decimals (`10.00`, as the API writes them);
  every value percent-encoded byte for byte except `A-Z a-z 0-9 - . _ ~`, upper-case hex (a
  space is `%20`, never `+`).

A spelling that means one valid value is redirected there (301, cacheable). What has no
canonical URL is refused (400): an unknown, repeated or empty parameter. A value that is
invalid in every spelling (`limit=0`) goes on to the route, which refuses it with its own
message, so no redirect ever points at an error the service could already see.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal
from urllib.parse import parse_qsl, quote

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog_api import cursor
from catalog_api.http import json_response
from catalog_api.models import (
    CATEGORY_PATTERN,
    CURSOR_MAX,
    ID_MAX,
    LIMIT_DEFAULT,
    LIMIT_MAX,
    NAME_PATTERN,
    PRICE_PATTERN,
    QUERY_MAX,
    QUERY_MIN,
    QUERY_TRIGRAM,
    SKU_PATTERN,
)

# The target of a redirect is a function of the URL alone, never of the data, so viewers and
# the edge may keep it; a day bounds how long a release that changed these rules sees old hops.
REDIRECT_STATUS = 301
REDIRECT_CACHE_CONTROL = "public, max-age=86400"
# `quote` always leaves RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~) as they are; no
# other character is left unencoded, so every value has exactly one spelling.
_SAFE = ""
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

Kind = Literal["integer", "decimal", "text"]


@dataclass(frozen=True)
class Value:
    """How one parameter's value is spelled canonically."""

    kind: Kind
    minimum: int | Decimal | None = None
    maximum: int | Decimal | None = None
    default: int | None = None
    pattern: str | None = None
    """A text value's pattern, the route's own: a value it refuses is never redirected."""
    max_length: int | None = None
    """A text value's longest length, the route's own."""
    min_length: int | None = None
    """A text value's shortest length, the route's own."""
    contains: str | None = None
    """A pattern a text value must contain somewhere, the route's own."""

    def canonical(self, raw: str) -> str | None:
        """The canonical spelling of ``raw``, or None when no valid value is spelled (the route refuses it)."""
        if self.kind == "text":
            # A redirect would only lead to the route's 400: answer that 400 at once instead.
            if self.max_length is not None and len(raw) > self.max_length:
                return None
            if self.min_length is not None and len(raw) < self.min_length:
                return None
            if self.contains is not None and re.search(self.contains, raw) is None:
                return None
            # Whole-string match: `$` alone would also accept a trailing newline the route refuses.
            if self.pattern is not None and re.fullmatch(self.pattern, raw) is None:
                return None
            return raw
        if self.kind == "integer":
            number = lax_integer(raw)
            if number is None or not self._in_range(number):
                return None
            return str(number)
        # The only decimals are prices: the spellings their route accepts, bounds included.
        if re.fullmatch(PRICE_PATTERN, raw) is None:
            return None
        return f"{Decimal(raw):.2f}"

    def _in_range(self, number: int) -> bool:
        return (self.minimum is None or number >= self.minimum) and (self.maximum is None or number <= self.maximum)

    def contract(self) -> dict[str, Any]:
        # Bounds and defaults in their canonical spelling: exact in any language (the largest id
        # is no JavaScript number), and a default is compared with a value as text.
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind == "decimal":
            out["places"] = 2
        for key, bound in (("min", self.minimum), ("max", self.maximum), ("default", self.default)):
            if bound is not None:
                out[key] = str(bound) if isinstance(bound, int) else f"{bound:.2f}"
        return out


_PRICE = Value("decimal", minimum=Decimal("0"), maximum=Decimal("99999999.99"))
VALUES: dict[str, Value] = {
    "category": Value("text", pattern=CATEGORY_PATTERN),
    "cursor": Value("text", pattern=cursor.SHAPE, max_length=CURSOR_MAX),
    "id": Value("integer", minimum=1, maximum=ID_MAX),
    "limit": Value("integer", minimum=1, maximum=LIMIT_MAX, default=LIMIT_DEFAULT),
    "max_price": _PRICE,
    "min_price": _PRICE,
    "q": Value("text", pattern=NAME_PATTERN, max_length=QUERY_MAX, min_length=QUERY_MIN, contains=QUERY_TRIGRAM),
    "sku": Value("text"),
}


@dataclass(frozen=True)
class Route:
    """A read route: its path template, the path parameter it carries and its query parameters in canonical order."""

    template: str
    path: re.Pattern[str]
    path_parameter: str | None
    query: tuple[str, ...]
    writable: bool

    def canonical_path(self, match: re.Match[str]) -> str | None:
        if self.path_parameter is None:
            return self.template
        segment = match.group(1)
        if self.path_parameter == "sku" and re.fullmatch(SKU_PATTERN, segment) is None:
            return None
        value = VALUES[self.path_parameter].canonical(segment)
        if value is None:
            return None
        return self.template.replace("{" + self.path_parameter + "}", quote(value, safe=_SAFE))


# Matched on the decoded path, in this order (`/products/sku/x` before `/products/{id}`).
ROUTES: tuple[Route, ...] = (
    Route(
        "/products",
        re.compile(r"/products"),
        None,
        ("category", "cursor", "limit", "max_price", "min_price", "q"),
        writable=True,
    ),
    Route("/products/sku/{sku}", re.compile(r"/products/sku/([^/]+)"), "sku", (), writable=False),
    Route("/products/{id}", re.compile(r"/products/([^/]+)"), "id", (), writable=True),
)

# What pydantic reads as an int from a string (surrounding whitespace, a sign, `_` between
# digits, a fraction of zeros): every such spelling the route would serve is redirected.
_LAX_INTEGER = re.compile(r"([+-]?)([0-9]+(?:_[0-9]+)*)(?:\.0+)?")
# Beyond the largest id; longer digit strings are out of range whatever they spell.
_MAX_DIGITS = 19


def lax_integer(text: str) -> int | None:
    """The integer that ``text`` spells in any form the API's validation accepts, else None."""
    # str.strip() also removes \x1c-\x1f, which the route's integer parsing refuses.
    if any(separator in text for separator in "\x1c\x1d\x1e\x1f"):
        return None
    match = _LAX_INTEGER.fullmatch(text.strip())
    if match is None:
        return None
    digits = match.group(2).replace("_", "").lstrip("0") or "0"
    if len(digits) > _MAX_DIGITS:
        return None
    number = int(digits)
    return -number if match.group(1) == "-" else number


def contract() -> dict[str, Any]:
    """The rules as contract.json states them for the edge (key `canonical_query`)."""
    return {
        "order": "names ascending in byte order, as each route's list is",
        "encoding": "each UTF-8 byte of a value outside A-Z a-z 0-9 - . _ ~ as %XX, upper-case hex; a space is %20, never +",
        "repeated": "refused",
        "empty": "refused",
        "unknown": "refused",
        "default": "omitted",
        "redirect": {"status": REDIRECT_STATUS, "cache_control": REDIRECT_CACHE_CONTROL},
        "kinds": {
            "integer": "decimal digits, no sign, no leading zeros, no separators",
            "decimal": "integer part as an integer, then '.' and exactly 'places' digits",
            "text": "the value itself",
        },
        "routes": {route.template: list(route.query) for route in ROUTES},
        "values": {name: value.contract() for name, value in sorted(VALUES.items())},
    }


def _refusal(message: str) -> Response:
    return json_response({"error": "bad_request", "message": message}, status_code=400)


def _read_verdict(route: Route, canonical_path: str | None, raw_path: bytes, query_string: bytes) -> Response | None:
    if not query_string:
        # Nothing to refuse or reorder: only the path can differ from its canonical spelling.
        if canonical_path is None or raw_path == canonical_path.encode("ascii"):
            return None
        return Response(
            status_code=REDIRECT_STATUS, headers={"Location": canonical_path, "Cache-Control": REDIRECT_CACHE_CONTROL}
        )
    # Decoded exactly as the framework decodes it, so the canonical URL names what the route would read.
    pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
    allowed = route.query
    # Counted, not named: a name is caller input, and no input is echoed.
    unknown = {name for name, _ in pairs if name not in allowed}
    if unknown:
        allowed_text = ", ".join(allowed) if allowed else "none"
        return _refusal(f"{len(unknown)} unknown query parameter(s); allowed: {allowed_text}")
    # Counted in one pass: a head may hold thousands of parameters.
    repeated = sorted(name for name, count in Counter(name for name, _ in pairs).items() if count > 1)
    if repeated:
        return _refusal(f"{', '.join(repeated)} given more than once; send each query parameter once")
    empty = sorted(name for name, value in pairs if value == "")
    if empty:
        return _refusal(f"{', '.join(empty)} has an empty value; leave an unused parameter out of the URL")
    if canonical_path is None:
        return None
    canonical: list[tuple[str, str]] = []
    for name, raw in pairs:
        spec = VALUES[name]
        value = spec.canonical(raw)
        if value is None:
            return None
        if spec.default is None or value != str(spec.default):
            canonical.append((name, value))
    prices = dict(canonical)
    if "min_price" in prices and "max_price" in prices and Decimal(prices["min_price"]) > Decimal(prices["max_price"]):
        # The route refuses it whatever the spelling: answer that 400, not a redirect to it.
        return None
    canonical.sort()
    query = "&".join(f"{name}={quote(value, safe=_SAFE)}" for name, value in canonical)
    target = canonical_path + ("?" + query if query else "")
    sent = raw_path + (b"?" + query_string if query_string else b"")
    if sent == target.encode("ascii"):
        return None
    # A relative Location: behind the edge the Host header is the load balancer's, not the viewer's.
    return Response(status_code=REDIRECT_STATUS, headers={"Location": target, "Cache-Control": REDIRECT_CACHE_CONTROL})


def verdict(method: str, path: str, raw_path: bytes, query_string: bytes) -> Response | None:
    """The answer for a URL that is not canonical, or None to let the route handle the request."""
    for route in ROUTES:
        match = route.path.fullmatch(path)
        if match is None:
            continue
        canonical_path = route.canonical_path(match)
        if method in WRITE_METHODS and route.writable:
            # A write is not cached and must not be replayed by a redirect (its body and token
            # would travel twice): a write to another spelling of a product's URL is refused.
            if canonical_path is not None and raw_path != canonical_path.encode("ascii"):
                return _refusal(f"use the product's canonical URL {canonical_path}")
            return None
        if method != "GET":
            return None
        return _read_verdict(route, canonical_path, raw_path, query_string)
    return None


class CanonicalUrlMiddleware:
    """Redirects or refuses every read URL that is not canonical before any route runs.

    Inside the write guard, so a stranger's write is refused for its token first. HEAD arrives
    here as GET (RequestContextMiddleware), and is answered the same way.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")
            answer = verdict(scope["method"], path, raw_path, scope.get("query_string", b""))
            if answer is not None:
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
