"""Response helpers: JSON bodies, cache headers, ETags and conditional GET."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

# Edge and browsers may reuse a read for 60 s and serve it stale for 30 s more while refetching;
# a write is visible at the edge within 90 s at worst (README, "Caching"). While the origin
# answers 5xx (an Aurora failover: typically within 30 s, and the pool's 5 s wait on top), the
# edge keeps serving its copy for up to 300 s more instead of the error (CONTRACT.md, "stale-if-error").
STALE_IF_ERROR_S = 300
READ_CACHE_CONTROL = f"public, max-age=60, stale-while-revalidate=30, stale-if-error={STALE_IF_ERROR_S}"
NO_STORE = "no-store"
JSON_TYPE = "application/json"


def _isoformat(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_bytes(payload: Any) -> bytes:
    """Compact JSON, non-ASCII kept; an aware datetime as `isoformat()` writes it (RFC 3339)."""
    try:
        # The same bytes as the json module's compact, non-ASCII-preserving form, several times faster.
        return orjson.dumps(payload)
    except TypeError:
        # What orjson refuses and json takes (a lone surrogate, an int beyond 64 bits) keeps its old answer.
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), default=_isoformat).encode("utf-8")


def json_response(payload: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An uncacheable JSON answer (writes, errors, health)."""
    all_headers = {"Cache-Control": NO_STORE}
    all_headers.update(headers or {})
    return Response(json_bytes(payload), status_code=status_code, media_type=JSON_TYPE, headers=all_headers)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    if if_none_match.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored for If-None-Match.
    candidates = (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    return etag in candidates


def cached_json(request: Request, payload: Any) -> Response:
    """A cacheable read with a strong ETag; 304 without a body when the client already has it."""
    return conditional_json(request.headers.get("if-none-match"), payload)


def conditional_json(if_none_match: str | None, payload: Any) -> Response:
    """cached_json for the request's If-None-Match header value (None when it sent none)."""
    body = json_bytes(payload)
    etag = _etag(body)
    headers = {"Cache-Control": READ_CACHE_CONTROL, "ETag": etag}
    if if_none_match and _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=JSON_TYPE, headers=headers)
