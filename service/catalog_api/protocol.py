"""uvicorn's HTTP/1.1 protocol (httptools) with the two bounds uvicorn 0.54 lacks: request-head size and read time.

uvicorn buffers a request head for as long as it grows and waits for its end for as long as the
client likes: 16 connections each sending an unfinished 32 MiB header grew the process from 97 MB
to 675 MB. Its only related settings do not help: `h11_max_incomplete_event_size` applies to the
slower pure-Python h11 parser only, `timeout_keep_alive` runs only between requests (any byte
cancels it), and `limit_concurrency` answers its own 503 without `Cache-Control: no-store`.
So the protocol class counts the bytes of each request head (not of each read) and times it:

- more than MAX_HEAD_BYTES before the head ends: `431`, connection closed;
- no complete head HEAD_TIMEOUT_S after its first byte (or after the connection opened): `408`,
  connection closed.

Both answers are written straight to the socket (the application never sees the request), are
`no-store`, and name no detail of the request.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# The ALB forwards at most a 16 KB request line and 64 KB of request headers ("Quotas for your
# Application Load Balancers", HTTP headers, docs.aws.amazon.com, read 2026-11-29): anything it
# can pass on fits, and a head beyond that is not from the ALB.
MAX_HEAD_BYTES = 80 * 1024
# The ALB sends a request's head at once; a client that takes longer is holding a connection open.
HEAD_TIMEOUT_S = 10.0


def _answer(status: bytes) -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\n"
        b"content-type: text/plain; charset=utf-8\r\n"
        b"cache-control: no-store\r\n"
        b"connection: close\r\n"
        b"content-length: 0\r\n\r\n"
    )


_TOO_LARGE = _answer(b"431 Request Header Fields Too Large")
_TIMEOUT = _answer(b"408 Request Timeout")


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """HttpToolsProtocol that refuses a request head over MAX_HEAD_BYTES or slower than HEAD_TIMEOUT_S.

    A head's size is counted from the parser's callbacks (request target, each complete header),
    so it is the size of that head alone: neither the bytes of pipelined requests that share a
    read nor those of the previous request on a kept-alive connection count. A header still
    unfinished at the end of a read reaches no callback yet; every later read that completes
    nothing of the head counts whole, so one endless header is refused as it grows.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._pending_bytes = 0
        self._head_progressed = False
        self._too_large = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._too_large:
            return
        self._head_progressed = False
        super().data_received(data)
        if self._in_head and not self._too_large:
            # Bytes of an unfinished header that no callback has counted yet.
            self._pending_bytes = 0 if self._head_progressed else self._pending_bytes + len(data)
            self._count(0)
        if self._too_large:
            self._refuse(_TOO_LARGE)

    def _count(self, size: int) -> None:
        self._head_progressed = True
        self._head_bytes += size
        if self._head_bytes + self._pending_bytes > MAX_HEAD_BYTES:
            self._too_large = True

    def on_message_begin(self) -> None:
        if self._too_large:
            return
        super().on_message_begin()
        if not self._in_head:
            # The next request on a kept-alive connection: its head counts from zero, on its own timer.
            self._start_head()
        self._count(0)

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        if not self._too_large:
            super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        # ": " and CRLF as sent, so the count matches the bytes on the wire.
        self._count(len(name) + len(value) + 4)
        if not self._too_large:
            super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._too_large:
            return
        self._in_head = False
        self._stop_head_timer()
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._too_large:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._too_large:
            super().on_message_complete()

    def _start_head(self) -> None:
        self._in_head = True
        self._head_bytes = 0
        self._pending_bytes = 0
        self._stop_head_timer()
        self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._in_head:
            self._refuse(_TIMEOUT)

    def _refuse(self, answer: bytes) -> None:
        self._stop_head_timer()
        self._in_head = False
        if self.transport.is_closing():
            return
        # A response of an earlier request still being written: close without a second status line.
        if self.cycle is None or self.cycle.response_complete:
            self.transport.write(answer)
        self.transport.close()
