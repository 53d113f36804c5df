"""One pure-ASGI layer around the app: request id, access log line, security headers, HEAD, catch-all 500.

The request id (the caller's X-Request-Id when it is safe, else a new one) is in every access
line, but it is answered in X-Request-Id only on `Cache-Control: no-store` answers (writes,
errors, probes): a cacheable read is stored at the edge and served to every viewer, so an id
in it would describe one caller's request to all the others and let a caller plant a header
value in answers that others receive.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from random import getrandbits as _random_bits

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from catalog_api.http import NO_STORE, json_bytes

access_log = logging.getLogger("catalog_api.access")
error_log = logging.getLogger("catalog_api.error")

# An incoming X-Request-Id is kept only if it cannot inject anything into logs or headers.
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
HEALTH_PATH = "/health"
_LOGGED_PATH_MAX = 200
# The ALB forwards a body as it arrives; a body not complete this long after the application
# first asks for it is a client holding the connection open: 408, connection closed.
BODY_TIMEOUT_S = 10.0
_SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    (b"referrer-policy", b"no-referrer"),
)
_GENERIC_500 = json_bytes({"error": "internal_error", "message": "internal error; the request id is in the logs"})
_TOO_LARGE = json_bytes({"error": "too_large", "message": "request body too large"})
_NO_STORE = NO_STORE.encode("ascii")


class BodyTooLargeError(HTTPException):
    """A streamed body grew past the limit; an HTTPException so the framework passes it through unchanged."""

    def __init__(self) -> None:
        super().__init__(status_code=413)


class BodyTimeoutError(HTTPException):
    """The body did not arrive within BODY_TIMEOUT_S; answered 408."""

    def __init__(self) -> None:
        super().__init__(status_code=408)


def _has_body(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() not in (b"", b"0")):
            return True
    return False


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


def request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            try:
                candidate = value.decode("ascii")
            except UnicodeDecodeError:
                break
            # fullmatch: `$` in re.match would let a trailing newline through.
            if _SAFE_REQUEST_ID.fullmatch(candidate):
                return str(candidate)
            break
    # 128 random bits in hex, as uuid4().hex spells them: an id for finding a request's log lines,
    # not a secret (it is answered to its caller), so the seeded generator serves, without
    # uuid4's system call for 16 bytes of the kernel's randomness on every request.
    return f"{_random_bits(128):032x}"


class RequestContextMiddleware:
    """Outermost layer of the service's own code; nothing it does depends on the request body."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started_at = time.perf_counter()
        request_id = request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        method = scope["method"]
        if method == "HEAD":
            # HEAD is GET without the body (RFC 9110 9.3.2): the same route, status and headers.
            scope = {**scope, "method": "GET"}
        # /health answers the same bytes to every request, so not even the request id is echoed there.
        echo_id = scope["path"] != HEALTH_PATH
        status = 500
        response_started = False
        received = 0
        body_pending = _has_body(scope)
        body_deadline: float | None = None

        async def receive_bounded() -> Message:
            nonlocal received, body_pending, body_deadline
            if not body_pending:
                # The body is complete (or there is none): what is left to wait for is a disconnect.
                return await receive()
            loop = asyncio.get_running_loop()
            if body_deadline is None:
                body_deadline = loop.time() + BODY_TIMEOUT_S
            try:
                # One deadline for the whole body: a chunk now and then does not extend it.
                async with asyncio.timeout_at(body_deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeoutError from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise BodyTooLargeError
                body_pending = bool(message.get("more_body", False))
            else:
                body_pending = False
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                # The raw list, as MutableHeaders would keep it, read without its per-call decoding;
                # ASGI header names are lower-case.
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                message["headers"] = headers
                names = [name for name, _ in headers]
                headers.extend(_SECURITY_HEADERS)
                if echo_id and b"cache-control" in names and headers[names.index(b"cache-control")][1] == _NO_STORE:
                    headers.append((b"x-request-id", request_id.encode("ascii")))
                if body_pending and b"connection" not in names:
                    # Answered before the whole body arrived (401, 403, 408, 413): what is left of
                    # it is never read, so the connection closes instead of waiting for it.
                    headers.append((b"connection", b"close"))
            elif message["type"] == "http.response.body" and method == "HEAD":
                message = {**message, "body": b""}
            await send(message)

        try:
            declared = _declared_length(scope)
            if declared is not None and declared > self.max_body_bytes:
                # Refused before a byte of the body is read.
                await _send_json(send_with_headers, 413, _TOO_LARGE)
            else:
                await self.app(scope, receive_bounded, send_with_headers)
        except Exception:  # noqa: BLE001 - the catch-all: log the detail, answer a generic 500
            status = 500
            error_log.exception(
                "unhandled error",
                extra={"fields": {"request_id": request_id, "method": method, "path": _path(scope)}},
            )
            if not response_started:
                # Straight to `send`: the wrapper may be what failed.
                await _send_json(
                    send, 500, _GENERIC_500, [*_SECURITY_HEADERS, (b"x-request-id", request_id.encode("ascii"))]
                )
        finally:
            if access_log.isEnabledFor(logging.INFO):
                # A record made directly: Logger.info would walk the stack for a source file and
                # line (findCaller) that the access line never shows, on every request.
                fields = {
                    "request_id": request_id,
                    "method": method,
                    "path": _path(scope),
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started_at) * 1000, 2),
                }
                access_log.handle(
                    access_log.makeRecord(
                        access_log.name, logging.INFO, __file__, 0, "request", (), None, extra={"fields": fields}
                    )
                )


def _path(scope: Scope) -> str:
    # The path only: query strings carry user input (searches) that logs need not keep.
    path: str = scope.get("path", "")
    return path[:_LOGGED_PATH_MAX]


async def _send_json(
    send: Send, status: int, body: bytes, extra_headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode("ascii")),
        (b"cache-control", NO_STORE.encode("ascii")),
        *(extra_headers or []),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
