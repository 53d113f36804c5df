"""Bounds on what one connection can make the real process hold: head size, head read time, keep-alive.

Against `python -m catalog_api serve` on loopback; every request here is bounded (a few MiB at
most), and the server's answer, not a client-side sleep, decides when each test moves on.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import socket
import threading
import time
from pathlib import Path

import uvicorn
from uvicorn.server import ServerState

from catalog_api.__main__ import GRACEFUL_SHUTDOWN_S, KEEP_ALIVE_S, uvicorn_config
from catalog_api.config import load_settings
from catalog_api.credentials import CredentialSource
from catalog_api.middleware import BODY_TIMEOUT_S
from catalog_api.protocol import HEAD_TIMEOUT_S, MAX_HEAD_BYTES, BoundedHttpToolsProtocol
from tests.helpers import ADMIN_TOKEN, ServiceProcess, read_until_closed, request

# The ALB's own limits for what it forwards: a 16 KB request line and 64 KB of request headers.
ALB_REQUEST_LINE = 16 * 1024
ALB_REQUEST_HEADERS = 64 * 1024
# The ALB's default idle timeout: the service must keep idle connections open longer.
ALB_IDLE_TIMEOUT_S = 60


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc status")


def _send_unfinished_head(port: int, size: int) -> socket.socket:
    """A GET whose one header grows to `size` bytes and never ends; stops early if the server hangs up."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
    piece = b"A" * 65536
    sent = 0
    try:
        while sent < size:
            sock.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sock


def test_i15_head_over_the_limit_answers_431_and_closes(live_service: ServiceProcess) -> None:
    sock = _send_unfinished_head(live_service.port, 2 * MAX_HEAD_BYTES)
    with sock:
        answer = read_until_closed(sock, 10)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert b"cache-control: no-store" in answer.lower()


def test_i15_a_head_as_large_as_the_alb_forwards_is_served(live_service: ServiceProcess) -> None:
    headers = {f"X-Fill-{i}": "v" * 8000 for i in range(ALB_REQUEST_HEADERS // 8100)}
    path = "/health?" + "p" * (ALB_REQUEST_LINE - 200)
    result = request(live_service.port, "GET", path, headers=headers)
    # Served (the unknown query is ignored by /health): neither 431 nor a dropped connection.
    assert result.status == 200, result.text


def test_i15_unfinished_huge_heads_do_not_grow_the_process(live_service: ServiceProcess) -> None:
    pid = live_service.process.pid
    before = _rss_kib(pid)
    # 16 connections each trying to send a 4 MiB header that never ends: 64 MiB if buffered.
    sockets = [_send_unfinished_head(live_service.port, 4 * 1024 * 1024) for _ in range(16)]
    try:
        # Measured once the server has judged every head (431 and closed), not while the bytes
        # may still sit in kernel buffers: a server that buffered them all would show it by now.
        answers = [read_until_closed(sock, 30) for sock in sockets]
        grown_mib = (_rss_kib(pid) - before) / 1024
    finally:
        for sock in sockets:
            sock.close()
    assert all(answer.startswith(b"HTTP/1.1 431 ") for answer in answers), [a[:40] for a in answers]
    assert grown_mib < 24, f"the process grew by {grown_mib:.0f} MiB holding unfinished request heads"
    assert request(live_service.port, "GET", "/health").status == 200


def test_i15_a_head_not_finished_in_time_answers_408_and_closes(live_service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", live_service.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        answer = read_until_closed(sock, HEAD_TIMEOUT_S + 20)
        waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
    # Not at once (the timer runs from the head's first byte), and not never.
    assert HEAD_TIMEOUT_S - 1 <= waited < HEAD_TIMEOUT_S + 20, waited
    assert HEAD_TIMEOUT_S <= 30, "a slow head may hold a connection for at most 30 s"


def test_i15_a_silent_connection_is_closed_after_the_head_timeout(live_service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", live_service.port), timeout=10) as sock:
        answer = read_until_closed(sock, HEAD_TIMEOUT_S + 20)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]


def test_i15_idle_keep_alive_outlasts_uvicorns_default(live_service: ServiceProcess) -> None:
    """uvicorn closes idle connections after 5 s by default; the ALB reuses them for up to 60 s."""
    conn = http.client.HTTPConnection("127.0.0.1", live_service.port, timeout=10)
    try:
        conn.request("GET", "/health")
        first = conn.getresponse()
        assert (first.status, first.read()) == (200, b'{"status":"ok"}')
        sock = conn.sock
        # Three times uvicorn's default keep-alive (5 s), so a late idle timer under load cannot
        # hide it; far shorter than the service's.
        time.sleep(15)
        conn.request("GET", "/health")
        second = conn.getresponse()
        assert (second.status, second.read()) == (200, b'{"status":"ok"}')
        assert conn.sock is sock, "the second request needed a new connection"
    finally:
        conn.close()


def test_i15_keep_alive_and_drain_are_pinned_in_the_server_config() -> None:
    config = uvicorn_config(load_settings({"DB_USER": "u", "DB_PASSWORD": "p"}), CredentialSource(None, None))
    # Above the ALB's idle timeout, so the ALB, not the service, closes idle connections (no 502).
    assert config.timeout_keep_alive == KEEP_ALIVE_S > ALB_IDLE_TIMEOUT_S
    assert config.timeout_graceful_shutdown == GRACEFUL_SHUTDOWN_S
    assert GRACEFUL_SHUTDOWN_S >= 20
    assert config.limit_concurrency is None, "uvicorn's own 503 for it would be cacheable"
    assert config.workers == 1 and config.access_log is False and config.server_header is False


def test_i15_head_on_the_real_server_has_gets_headers_and_no_body(live_service: ServiceProcess) -> None:
    for path in ("/health", "/products", "/products/424242"):
        get = request(live_service.port, "GET", path)
        head = request(live_service.port, "HEAD", path)
        assert head.status == get.status != 405, path
        assert head.body == b""
        assert head.headers.get("content-length") == get.headers.get("content-length"), path
        assert head.headers.get("cache-control") == get.headers.get("cache-control"), path


class _Transport(asyncio.Transport):
    """Records what the protocol writes and whether it closed the connection."""

    def __init__(self) -> None:
        super().__init__()
        self.written = b""
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.written += bytes(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return default

    def pause_reading(self) -> None:
        return None

    def resume_reading(self) -> None:
        return None


def test_i15_the_head_limit_counts_every_read_of_one_head() -> None:
    """Fed in 4 KiB reads (as a slow client's head arrives), the head is refused once the total
    passes the limit, not only when one read alone does."""

    async def app(scope: object, receive: object, send: object) -> None:
        raise AssertionError("the application must not see a refused request")

    config = uvicorn.Config(app=app, http=BoundedHttpToolsProtocol, log_config=None)
    config.load()
    loop = asyncio.new_event_loop()
    try:
        protocol = BoundedHttpToolsProtocol(config=config, server_state=ServerState(), app_state={}, _loop=loop)
        transport = _Transport()
        protocol.connection_made(transport)
        protocol.data_received(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
        fed = 0
        while not transport.closed and fed < 4 * MAX_HEAD_BYTES:
            protocol.data_received(b"A" * 4096)
            fed += 4096
        assert transport.closed, "a head four times the limit was still being read"
        assert transport.written.startswith(b"HTTP/1.1 431 ")
        assert fed <= MAX_HEAD_BYTES
        protocol.connection_lost(None)
    finally:
        loop.close()


def _write_head(port: int, extra: bytes, *, token: str | None = ADMIN_TOKEN) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    auth = f"Authorization: Bearer {token}\r\n".encode() if token else b""
    sock.sendall(b"POST /products HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + auth + extra + b"\r\n")
    return sock


def _assert_refused_and_closed(answer: bytes, status: bytes) -> None:
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:80]
    assert b"\r\ncache-control: no-store" in head
    assert b"\r\nconnection: close" in head


def test_i15_a_body_that_never_comes_answers_408_and_closes(live_service: ServiceProcess) -> None:
    with _write_head(live_service.port, b"Content-Length: 1000\r\n") as sock:
        answer = read_until_closed(sock, BODY_TIMEOUT_S + 20)
    _assert_refused_and_closed(answer, b"408")


def test_i15_a_trickled_body_answers_408_whatever_the_pace(live_service: ServiceProcess) -> None:
    """One deadline for the whole body: a chunk every half second does not keep the request open."""
    with _write_head(live_service.port, b"Transfer-Encoding: chunked\r\n") as sock:
        stop = threading.Event()

        def trickle() -> None:
            while not stop.is_set():
                try:
                    sock.sendall(b"1\r\n \r\n")
                except OSError:
                    return
                stop.wait(0.5)

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            answer = read_until_closed(sock, BODY_TIMEOUT_S + 20)
        finally:
            stop.set()
            sender.join(timeout=10)
    _assert_refused_and_closed(answer, b"408")


def test_i15_a_stranger_is_refused_before_the_body_is_read(live_service: ServiceProcess) -> None:
    # The body is announced but never sent: only an answer that did not wait for it can be a 401.
    for token in (None, "wrong-token-wrong-token"):
        with _write_head(live_service.port, b"Content-Length: 1000\r\n", token=token) as sock:
            answer = read_until_closed(sock, BODY_TIMEOUT_S + 20)
        _assert_refused_and_closed(answer, b"401")
        assert b"\r\nwww-authenticate: bearer" in answer.lower()
    # A malformed body from a stranger is not parsed either: 401, not 400.
    bad = request(live_service.port, "POST", "/products", headers={"Content-Type": "application/json"}, body=b"{bad")
    assert bad.status == 401, bad.text


def test_i15_an_oversized_body_answers_413_and_closes(live_service: ServiceProcess) -> None:
    with _write_head(live_service.port, b"Content-Length: 1000000\r\n") as sock:
        answer = read_until_closed(sock, BODY_TIMEOUT_S + 20)
    _assert_refused_and_closed(answer, b"413")


def test_i15_the_second_head_on_a_kept_alive_connection_is_bounded_too(live_service: ServiceProcess) -> None:
    with socket.create_connection(("127.0.0.1", live_service.port), timeout=10) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            chunk = sock.recv(65536)
            assert chunk, f"closed after the first answer: {first[:80]!r}"
            first += chunk
        assert first.startswith(b"HTTP/1.1 200 ")
        # One write, so the whole head may arrive in one read, the way the limit was once missed.
        big = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"A" * (MAX_HEAD_BYTES + 40_000) + b"\r\n\r\n"
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(big)
        answer = read_until_closed(sock, 30)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]


def test_i15_pipelined_small_requests_are_not_counted_as_one_head(live_service: ServiceProcess) -> None:
    """3000 small GETs in one write (three times the head limit together): every one is answered 200."""
    one = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 40 + b"\r\n\r\n"
    last = b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    payload = one * 2999 + last
    assert len(payload) > 3 * MAX_HEAD_BYTES
    with socket.create_connection(("127.0.0.1", live_service.port), timeout=10) as sock:
        # Sent from a thread: the answers must be read while the requests are still going out.
        sender = threading.Thread(target=sock.sendall, args=(payload,), daemon=True)
        sender.start()
        answers = read_until_closed(sock, 60)
        sender.join(timeout=10)
    assert answers.count(b"HTTP/1.1 200 ") == 3000, answers[:200]
    assert b"HTTP/1.1 431 " not in answers
