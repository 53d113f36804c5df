"""The ASGI application: routes, error answers and the OpenAPI document."""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

from catalog_api import __version__, cursor, repository
from catalog_api.canonical import REDIRECT_CACHE_CONTROL, WRITE_METHODS, CanonicalUrlMiddleware
from catalog_api.config import Settings
from catalog_api.credentials import CredentialSource, DbCredentials, SecretsManagerReader
from catalog_api.db import POOL_MAX_SIZE, POOL_TIMEOUT_S, Database, DatabaseUnavailableError
from catalog_api.http import cached_json, conditional_json, json_response
from catalog_api.middleware import HEALTH_PATH, RequestContextMiddleware
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
    ErrorBody,
    Product,
    ProductCreate,
    ProductPage,
    ProductPatch,
    Status,
    single_line_text,
)
from catalog_api.readpool import ReadPool

log = logging.getLogger("catalog_api")

READY_PATH = "/ready"
# A product is well under 4 KiB of JSON; a larger body is refused (413) before it is parsed.
MAX_BODY_BYTES = 16 * 1024
READY_TIMEOUT_S = 2.0
# Searches may hold at most half of the read pool at once, so lookups by id or SKU always find a
# connection however many searches arrive; a search beyond that answers 503 at once, not queued.
SEARCH_SLOTS = POOL_MAX_SIZE // 2
# A refused search is cheap to retry: slots free up as fast as searches finish (well under 5 s).
SEARCH_RETRY_AFTER_S = 1

ProductId = Annotated[int, Path(ge=1, le=ID_MAX, description="product id")]


class ApiError(Exception):
    """An error answer with a stable code and one readable line."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def _error(
    status: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {"error": code, "message": message}
    if details:
        body["details"] = details
    return json_response(body, status_code=status, headers=headers)


def build_credentials(settings: Settings) -> CredentialSource:
    initial = None
    if settings.db_user is not None and settings.db_password is not None:
        initial = DbCredentials(user=settings.db_user, password=settings.db_password)
    reader = SecretsManagerReader(settings.db_secret_arn, settings.secret_region) if settings.db_secret_arn else None
    return CredentialSource(initial, reader)


def _db(request: Request) -> Database:
    """The writer's pool: writes (and nothing else) go there."""
    database: Database = request.app.state.db
    return database


def _reader(request: Request) -> ReadPool:
    """The reads' pool: on DB_READER_HOST, or on the writer when no reader host is configured."""
    reader: ReadPool = request.app.state.reader
    return reader


def _write_refusal(settings: Settings, authorization: str) -> ApiError | None:
    """Why a write with this Authorization header is refused, or None when it may proceed."""
    if not settings.writes_enabled or settings.admin_token is None:
        return ApiError(403, "writes_disabled", "writes are disabled: this service has no usable ADMIN_TOKEN")
    scheme, _, token = authorization.partition(" ")
    # Compared as bytes in constant time, so timing reveals nothing about the token.
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        token.strip().encode("utf-8", "surrogatepass"), settings.admin_token.encode("utf-8")
    ):
        return ApiError(
            401,
            "unauthorized",
            "writes need the header 'Authorization: Bearer <admin token>'",
            {"WWW-Authenticate": "Bearer"},
        )
    return None


# Dependencies are coroutines: FastAPI would run plain functions in a worker thread, per request.
async def require_admin(request: Request) -> None:
    """Writes need `Authorization: Bearer <ADMIN_TOKEN>`; without a configured token they are off (403)."""
    refusal = _write_refusal(request.app.state.settings, request.headers.get("authorization", ""))
    if refusal is not None:
        raise refusal


class WriteGuardMiddleware:
    """Refuses a write route without the token before its body is read.

    FastAPI reads and parses a body before it runs a route's dependencies, so `require_admin`
    alone would read a stranger's body (for as long as the stranger takes to send it) and answer
    a malformed one 400 before 401. `require_admin` stays on the routes as the second check.
    """

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in WRITE_METHODS and _is_write_route(scope):
            authorization = Headers(scope=scope).get("authorization", "")
            refusal = _write_refusal(self.settings, authorization)
            if refusal is not None:
                await _error(refusal.status, refusal.code, refusal.message, headers=refusal.headers)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


def _is_write_route(scope: Scope) -> bool:
    return any(isinstance(route, APIRoute) and route.matches(scope)[0] == Match.FULL for route in writes.routes)


def _validated_query(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        text = single_line_text(value)
    except ValueError as exc:
        raise ApiError(400, "bad_request", f"q {exc}") from exc
    if re.search(QUERY_TRIGRAM, text) is None:
        raise ApiError(
            400, "bad_request", "q needs 3 letters or digits in a row: without them the search cannot use its index"
        )
    return text


def _decimal(value: str | None) -> Decimal | None:
    return Decimal(value) if value is not None else None


reads = APIRouter(tags=["catalog"])
writes = APIRouter(tags=["admin"], dependencies=[Depends(require_admin)])
probes = APIRouter(tags=["probes"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "bad query or path parameter"},
    503: {"model": ErrorBody, "description": "database unavailable, or too many searches at once; retry later"},
}
# Reads are served at their canonical URL only (catalog_api/canonical.py); other spellings of a
# valid request are redirected there.
_READ_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    301: {
        "description": "not the canonical URL of this read: Location holds it",
        "headers": {
            "Location": {"schema": {"type": "string"}, "description": "the canonical URL, path-absolute"},
            "Cache-Control": {"schema": {"type": "string", "const": REDIRECT_CACHE_CONTROL}},
        },
    },
}
_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    401: {"model": ErrorBody, "description": "missing or wrong bearer token"},
    403: {"model": ErrorBody, "description": "writes are disabled (no ADMIN_TOKEN configured)"},
    413: {"model": ErrorBody, "description": f"body larger than {MAX_BODY_BYTES} bytes"},
    422: {"model": ErrorBody, "description": "body is not a valid product"},
}


@probes.get(HEALTH_PATH, response_model=Status, summary="Liveness for the load balancer; never touches the database")
async def health() -> Response:
    return json_response({"status": "ok"})


@probes.get(
    READY_PATH,
    response_model=Status,
    summary="Readiness: the writer and the reader answer and the app role can read the catalog on both",
    responses={503: {"model": Status, "description": "writer or reader not reachable"}},
)
async def ready(request: Request) -> Response:
    # Both, checked at once: reads need the reader and writes the writer, so the service is not
    # ready when either is unreachable.
    if all(await asyncio.gather(_db(request).ping(READY_TIMEOUT_S), _reader(request).ping(READY_TIMEOUT_S))):
        return json_response({"status": "ready"})
    return json_response({"status": "unavailable"}, status_code=503)


@reads.get(
    "/products",
    response_model=ProductPage,
    responses=_READ_ERRORS,
    summary="List products, filtered, by keyset pages in id order",
    description=(
        "Canonical URL: only these parameters, each at most once, none empty, `limit` omitted at its default,"
        " in alphabetical order; integers without sign, leading zeros or separators; prices with two decimals;"
        " values percent-encoded except `A-Z a-z 0-9 - . _ ~` (a space is `%20`). Other spellings of a valid"
        " request answer 301 to the canonical URL; unknown, repeated or empty parameters answer 400."
    ),
)
async def list_products(
    request: Request,
    category: Annotated[str | None, Query(pattern=CATEGORY_PATTERN)] = None,
    min_price: Annotated[
        str | None, Query(pattern=PRICE_PATTERN, description="inclusive lower bound, decimal string")
    ] = None,
    max_price: Annotated[
        str | None, Query(pattern=PRICE_PATTERN, description="inclusive upper bound, decimal string")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=QUERY_MIN,
            max_length=QUERY_MAX,
            pattern=NAME_PATTERN,
            description=(
                f"case-insensitive text in the name, {QUERY_MIN} to {QUERY_MAX} characters,"
                " with 3 letters or digits in a row"
            ),
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = LIMIT_DEFAULT,
    cursor_token: Annotated[
        str | None, Query(alias="cursor", max_length=CURSOR_MAX, description="next_cursor of the previous page")
    ] = None,
) -> Response:
    return await _list_page(
        _reader(request),
        request.app.state.search_slots,
        request.headers.get("if-none-match"),
        category,
        min_price,
        max_price,
        q,
        limit,
        cursor_token,
    )


async def _list_page(
    reader: ReadPool,
    search_slots: asyncio.Semaphore,
    if_none_match: str | None,
    category: str | None,
    min_price: str | None,
    max_price: str | None,
    q: str | None,
    limit: int,
    cursor_token: str | None,
) -> Response:
    """A list call's answer from its validated parameters (the route's and the hot path's)."""
    filters = repository.ListFilters(
        category=category, min_price=_decimal(min_price), max_price=_decimal(max_price), q=_validated_query(q)
    )
    if filters.min_price is not None and filters.max_price is not None and filters.min_price > filters.max_price:
        raise ApiError(400, "bad_request", "min_price must not be greater than max_price")
    digest = cursor.filter_digest(
        category,
        str(filters.min_price) if filters.min_price is not None else None,
        str(filters.max_price) if filters.max_price is not None else None,
        filters.q,
    )
    after_id = None
    if cursor_token is not None:
        try:
            after_id = cursor.decode(cursor_token, digest)
        except cursor.InvalidCursorError as exc:
            raise ApiError(400, "bad_cursor", f"{exc}; start again without cursor") from exc

    async def work(conn: Any) -> list[repository.Row]:
        return await repository.list_products(conn, filters, after_id, limit)

    if filters.q is None:
        rows = await reader.read(work)
    else:
        slots = search_slots
        if slots.locked():
            raise ApiError(
                503,
                "search_busy",
                "too many searches at once; retry shortly",
                {"Retry-After": str(SEARCH_RETRY_AFTER_S)},
            )
        async with slots:
            rows = await reader.read(work)
    page = rows[:limit]
    next_cursor = cursor.encode(page[-1][0], digest) if len(rows) > limit else None
    return conditional_json(
        if_none_match, {"items": [repository.row_json(r) for r in page], "next_cursor": next_cursor, "limit": limit}
    )


@reads.get(
    "/products/sku/{sku}",
    response_model=Product,
    responses={**_READ_ERRORS, 404: {"model": ErrorBody, "description": "no such product"}},
    summary="One product by SKU",
)
async def get_product_by_sku(request: Request, sku: Annotated[str, Path(pattern=SKU_PATTERN)]) -> Response:
    async def work(conn: Any) -> repository.Row | None:
        return await repository.get_by_sku(conn, sku)

    row = await _reader(request).read(work)
    if row is None:
        raise ApiError(404, "not_found", "no product has this SKU")
    return cached_json(request, repository.row_json(row))


@reads.get(
    "/products/{product_id}",
    response_model=Product,
    responses={**_READ_ERRORS, 404: {"model": ErrorBody, "description": "no such product"}},
    summary="One product by id",
    description="Canonical URL: the id in decimal digits without sign, leading zeros or separators, and no query string.",
)
async def get_product(request: Request, product_id: ProductId) -> Response:
    return await _product(_reader(request), request.headers.get("if-none-match"), product_id)


async def _product(reader: ReadPool, if_none_match: str | None, product_id: int) -> Response:
    """A get-by-id call's answer from its validated id (the route's and the hot path's)."""

    async def work(conn: Any) -> repository.Row | None:
        return await repository.get_by_id(conn, product_id)

    row = await reader.read(work)
    if row is None:
        raise ApiError(404, "not_found", "no product has this id")
    return conditional_json(if_none_match, repository.row_json(row))


@writes.post(
    "/products",
    status_code=201,
    response_model=Product,
    responses={**_WRITE_ERRORS, 409: {"model": ErrorBody, "description": "SKU already used"}},
    summary="Create a product",
)
async def create_product(request: Request, body: ProductCreate) -> Response:
    async def work(conn: Any) -> dict[str, Any]:
        return await repository.create(conn, body.model_dump())

    try:
        row = await _db(request).write(work)
    except repository.DuplicateSkuError as exc:
        raise ApiError(409, "conflict", "another product already has this SKU") from exc
    return json_response(repository.to_json(row), status_code=201, headers={"Location": f"/products/{row['id']}"})


async def _update(request: Request, product_id: int, fields: dict[str, Any]) -> Response:
    async def work(conn: Any) -> dict[str, Any] | None:
        return await repository.update(conn, product_id, fields)

    try:
        row = await _db(request).write(work)
    except repository.DuplicateSkuError as exc:
        raise ApiError(409, "conflict", "another product already has this SKU") from exc
    if row is None:
        raise ApiError(404, "not_found", "no product has this id")
    return json_response(repository.to_json(row))


_UPDATE_ERRORS = {
    **_WRITE_ERRORS,
    404: {"model": ErrorBody, "description": "no such product"},
    409: {"model": ErrorBody, "description": "SKU already used"},
}


@writes.put(
    "/products/{product_id}",
    response_model=Product,
    responses=_UPDATE_ERRORS,
    summary="Replace a product (every field)",
)
async def replace_product(request: Request, product_id: ProductId, body: ProductCreate) -> Response:
    return await _update(request, product_id, body.model_dump())


@writes.patch(
    "/products/{product_id}",
    response_model=Product,
    responses=_UPDATE_ERRORS,
    summary="Change some fields of a product",
)
async def patch_product(request: Request, product_id: ProductId, body: ProductPatch) -> Response:
    return await _update(request, product_id, body.changes())


@writes.delete(
    "/products/{product_id}",
    status_code=204,
    responses={**_WRITE_ERRORS, 404: {"model": ErrorBody, "description": "no such product"}},
    summary="Delete a product",
)
async def delete_product(request: Request, product_id: ProductId) -> Response:
    async def work(conn: Any) -> bool:
        return await repository.delete(conn, product_id)

    if not await _db(request).write(work):
        raise ApiError(404, "not_found", "no product has this id")
    return Response(status_code=204, headers={"Cache-Control": "no-store"})


# The hot reads' parameters in the one spelling each has (CanonicalUrlMiddleware, outside this
# layer, has redirected or refused any other), checked as the routes check them; `$` would
# allow a trailing newline under re, so the patterns are matched whole.
_PRODUCT_PATH = re.compile(r"/products/([1-9][0-9]{0,18})")
_LIMIT = re.compile(r"[1-9][0-9]{0,2}")
_CATEGORY = re.compile(CATEGORY_PATTERN)
_PRICE = re.compile(PRICE_PATTERN)
_HOT_LIST_CHECKS: dict[str, Callable[[str], bool]] = {
    "category": lambda value: _CATEGORY.fullmatch(value) is not None,
    "min_price": lambda value: _PRICE.fullmatch(value) is not None,
    "max_price": lambda value: _PRICE.fullmatch(value) is not None,
    "limit": lambda value: _LIMIT.fullmatch(value) is not None and int(value) <= LIMIT_MAX,
    "cursor": lambda value: len(value) <= CURSOR_MAX,
}


class HotReadMiddleware:
    """Serves the list call (without search) and the get-by-id call without FastAPI's routing,
    dependency injection and parameter validation: about a third of their CPU time.

    It answers only a request whose every parameter it has checked as the route would, through
    the routes' own code (`_list_page`, `_product`) and error handlers; anything else (a search,
    a value the route would refuse, any other path or method) goes on to FastAPI unchanged, so
    every error answer is FastAPI's. The routes stay for the OpenAPI document and those requests.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            answer = _hot_read(scope)
            if answer is not None:
                try:
                    response = await answer
                except ApiError as exc:
                    response = await _on_api_error(Request(scope), exc)
                except DatabaseUnavailableError as exc:
                    response = await _on_db_unavailable(Request(scope), exc)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _hot_read(scope: Scope) -> Coroutine[Any, Any, Response] | None:
    path: str = scope["path"]
    state = scope["app"].state
    if path == "/products":
        params: dict[str, str] = {}
        query: bytes = scope.get("query_string", b"")
        if query:
            # Decoded as Starlette decodes it for the route.
            for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
                check = _HOT_LIST_CHECKS.get(name)
                if check is None or name in params or not check(value):
                    return None
                params[name] = value
        limit = params.get("limit")
        return _list_page(
            state.reader,
            state.search_slots,
            _if_none_match(scope),
            params.get("category"),
            params.get("min_price"),
            params.get("max_price"),
            None,
            int(limit) if limit is not None else LIMIT_DEFAULT,
            params.get("cursor"),
        )
    match = _PRODUCT_PATH.fullmatch(path)
    if match is None or scope.get("query_string"):
        return None
    product_id = int(match.group(1))
    if product_id > ID_MAX:
        return None
    return _product(state.reader, _if_none_match(scope), product_id)


def _if_none_match(scope: Scope) -> str | None:
    # The first one, as Starlette's Headers.get reads it.
    for name, value in scope["headers"]:
        if name == b"if-none-match":
            return str(value.decode("latin-1"))
    return None


def _location(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc)


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    # Messages and locations only: the offending input is never echoed back.
    details = [
        {"location": _location(tuple(e.get("loc", ()))), "message": str(e.get("msg", "invalid"))[:300]}
        for e in errors[:20]
    ]
    in_body = any(tuple(e.get("loc", ()))[:1] == ("body",) for e in errors)
    if any(e.get("type") == "json_invalid" for e in errors):
        return _error(400, "bad_json", "the body is not valid JSON")
    if in_body:
        first = details[0] if details else {"location": "body", "message": "invalid"}
        return _error(422, "invalid_body", f"{first['location']}: {first['message']}", details=details)
    first = details[0] if details else {"location": "query", "message": "invalid"}
    return _error(400, "bad_request", f"{first['location']}: {first['message']}", details=details)


async def _on_api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return _error(exc.status, exc.code, exc.message, headers=exc.headers)


async def _on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    codes = {
        404: ("not_found", "no such path"),
        405: ("method_not_allowed", "method not allowed on this path"),
        408: ("request_timeout", "the request body did not arrive in time"),
        413: ("too_large", "request body too large"),
    }
    code, message = codes.get(exc.status_code, ("http_error", "request failed"))
    headers = {}
    if exc.status_code == 405:
        # Starlette names only the first route of the path; reads and writes are separate routes.
        headers["Allow"] = ", ".join(_allowed_methods(request))
    return _error(exc.status_code, code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for router in (probes, reads, writes):
        for route in router.routes:
            if isinstance(route, APIRoute) and route.matches(request.scope)[0] != Match.NONE:
                methods.update(route.methods or ())
    if "GET" in methods:
        # The middleware answers HEAD on every GET route.
        methods.add("HEAD")
    return sorted(methods)


async def _on_db_unavailable(request: Request, exc: Exception) -> Response:
    log.warning(
        "database unavailable",
        extra={"fields": {"event": "db_unavailable", "reason": str(exc)[:300], "request_id": request.state.request_id}},
    )
    return _error(
        503, "database_unavailable", "the catalog database is unavailable; retry shortly", headers={"Retry-After": "5"}
    )


def create_app(
    settings: Settings, credentials: CredentialSource | None = None, *, pool_timeout_s: float = POOL_TIMEOUT_S
) -> FastAPI:
    """The service for `settings`; `credentials` defaults to the injected ones plus the secret re-read."""
    creds = credentials or build_credentials(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = Database(settings, creds, pool_timeout_s=pool_timeout_s)
        # Reads go to DB_READER_HOST (or the writer without it) on a pool of their own.
        reader = ReadPool(settings, creds, host=settings.reader_host, pool_timeout_s=pool_timeout_s)
        app.state.db = database
        app.state.reader = reader
        app.state.search_slots = asyncio.Semaphore(SEARCH_SLOTS)
        await database.open()
        await reader.open()
        if not settings.writes_enabled:
            reason = "no ADMIN_TOKEN" if settings.admin_token is None else "ADMIN_TOKEN shorter than 16 characters"
            log.warning("writes are disabled", extra={"fields": {"event": "writes_disabled", "reason": reason}})
        log.info(
            "service started", extra={"fields": {"event": "started", "version": __version__, "port": settings.port}}
        )
        try:
            yield
        finally:
            await reader.close()
            await database.close()
            log.info("service stopped", extra={"fields": {"event": "stopped"}})

    app = FastAPI(
        title="Product Catalog API",
        version=__version__,
        summary="Reference service of the catalog platform",
        lifespan=lifespan,
        openapi_url="/openapi.json",
        # No Swagger UI or ReDoc: they load scripts from a third-party CDN into this origin and
        # show nothing that /openapi.json does not; point any OpenAPI viewer at the schema instead.
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        debug=False,
        # The service exports no traces, metrics or OpenTelemetry logs (its logs are JSON lines on
        # stdout); left on, FastAPI asks OpenTelemetry for providers on every request to find that out.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.include_router(probes)
    app.include_router(reads)
    app.include_router(writes)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(DatabaseUnavailableError, _on_db_unavailable)
    # Added first, so they run inside the request context (request id, headers, access log), and
    # the canonical-URL check after the write guard (a stranger's write is refused for its token);
    # the hot reads innermost, so they are served at their canonical URL only.
    app.add_middleware(HotReadMiddleware)
    app.add_middleware(CanonicalUrlMiddleware)
    app.add_middleware(WriteGuardMiddleware, settings=settings)
    app.add_middleware(RequestContextMiddleware, max_body_bytes=MAX_BODY_BYTES)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
            schema.setdefault("components", {})["securitySchemes"] = {
                "adminToken": {"type": "http", "scheme": "bearer"}
            }
            for path_item in schema.get("paths", {}).values():
                for method, operation in path_item.items():
                    if method in ("post", "put", "patch", "delete"):
                        operation["security"] = [{"adminToken": []}]
                    elif "requestBody" not in operation:
                        # Bad parameters answer 400 (declared), never FastAPI's default 422.
                        operation.get("responses", {}).pop("422", None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
