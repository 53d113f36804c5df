"""The reads' pool (asyncpg, catalog_api/readpool.py) keeps every bound the writes' pool keeps.

Each test runs the pool against the session's throwaway PostgreSQL; the TLS tests are in
test_database_tls.py, the frozen server in test_database_freeze.py, the rotation in
test_credentials.py and the failover in test_database_resilience.py.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from catalog_api.db import POOL_MAX_SIZE, DatabaseUnavailableError
from catalog_api.readpool import ReadPool
from devtools import pgserver

T = TypeVar("T")


def _with_pool(db_env: dict[str, str], use: Callable[[ReadPool], Awaitable[T]], **kwargs: Any) -> T:
    settings = load_settings(db_env)

    async def run() -> T:
        pool = ReadPool(settings, build_credentials(settings), host=settings.reader_host, **kwargs)
        await pool.open()
        try:
            return await use(pool)
        finally:
            await pool.close()

    return asyncio.run(run())


def _show(name: str) -> Callable[[Any], Awaitable[str]]:
    async def work(conn: Any) -> str:
        return str(await conn.fetchval(f"SHOW {name}"))

    return work


def test_i16_read_sessions_carry_the_app_role_the_timeouts_and_utc(db_env: dict[str, str]) -> None:
    """As the writes' sessions: the NOLOGIN role from the first statement, every bound, one time zone."""
    names = ("role", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "TimeZone")

    async def use(pool: ReadPool) -> dict[str, str]:
        return {name: await pool.read(_show(name)) for name in names}

    assert _with_pool(db_env, use) == {
        "role": "catalog_app",
        "statement_timeout": "5s",
        "lock_timeout": "3s",
        "idle_in_transaction_session_timeout": "10s",
        "TimeZone": "UTC",
    }


def test_i16_the_read_pool_has_the_same_size_wait_and_queue_bounds_as_the_writes_pool(db_env: dict[str, str]) -> None:
    async def bounds(pool: ReadPool) -> tuple[int, int, int, float]:
        return pool.min_size, pool.max_size, pool.max_waiting, pool.timeout

    min_size, max_size, max_waiting, timeout = _with_pool(db_env, bounds)
    assert (min_size, max_size) == (2, 10)
    assert 0 < max_waiting <= 500
    assert 0 < timeout <= 10


def test_i16_a_read_waits_at_most_the_pool_timeout_for_a_connection(db_env: dict[str, str]) -> None:
    """Every connection busy: the next read gives up after the pool's wait, not the unit's bound."""

    async def use(pool: ReadPool) -> tuple[str, float]:
        release = asyncio.Event()
        all_held = asyncio.Event()
        held: list[int] = []

        async def hold(conn: Any) -> None:
            await conn.fetchval("SELECT 1")
            held.append(1)
            if len(held) == POOL_MAX_SIZE:
                all_held.set()
            await release.wait()

        holders = [asyncio.create_task(pool.read(hold)) for _ in range(POOL_MAX_SIZE)]
        # Every connection taken (however long connecting takes on a loaded machine), then the
        # short wait under test; the holders themselves waited with the default.
        await all_held.wait()
        pool.timeout = 0.5
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            await pool.read(_show("role"))
        except DatabaseUnavailableError as exc:
            return str(exc), loop.time() - started
        finally:
            release.set()
            await asyncio.gather(*holders)
        raise AssertionError("a read was served with every connection held")

    reason, waited = _with_pool(db_env, use)
    assert reason == "PoolTimeout"
    # The unit's own bound is 6 s: the wait ended at the pool's, with room for a loaded machine.
    assert 0.5 <= waited < 3.0


def test_i16_reads_beyond_the_wait_queue_answer_at_once(db_env: dict[str, str]) -> None:
    async def use(pool: ReadPool) -> list[str]:
        pool.max_waiting = 2
        release = asyncio.Event()

        async def hold(conn: Any) -> None:
            await release.wait()

        busy = [asyncio.create_task(pool.read(hold)) for _ in range(POOL_MAX_SIZE + 2)]
        await asyncio.sleep(0.5)
        try:
            await pool.read(_show("role"))
        except DatabaseUnavailableError as exc:
            return [str(exc)]
        finally:
            release.set()
            await asyncio.gather(*busy)
        return []

    assert _with_pool(db_env, use) == ["TooManyRequests"]


def test_i16_read_connections_are_recycled_after_their_lifetime(db_env: dict[str, str]) -> None:
    """So readers that autoscaling adds get new connections: the reader endpoint balances per connection."""

    async def backend_pids(pool: ReadPool) -> set[int]:
        async def pid(conn: Any) -> int:
            return int(await conn.fetchval("SELECT pg_backend_pid()"))

        return {await pool.read(pid) for _ in range(5)}

    assert len(_with_pool(db_env, backend_pids)) <= 2, "connections within their lifetime are reused"
    assert len(_with_pool(db_env, backend_pids, max_lifetime_s=0.0)) == 5


def test_i16_a_query_error_is_not_taken_for_an_unavailable_database(db_env: dict[str, str]) -> None:
    """A defect answers 500 (with its trace in the log), not 503 with Retry-After."""
    import asyncpg

    async def use(pool: ReadPool) -> str:
        async def wrong(conn: Any) -> None:
            await conn.fetchval("SELECT no_such_column FROM products")

        try:
            await pool.read(wrong)
        except asyncpg.PostgresError as exc:
            # The session is usable again: the next read on the pool is served.
            assert await pool.read(_show("role")) == "catalog_app"
            return type(exc).__name__
        return "no error"

    assert _with_pool(db_env, use) == "UndefinedColumnError"


def test_i16_read_connections_have_tcp_keepalives_and_a_user_timeout(db_env: dict[str, str]) -> None:
    """As libpq's keepalives_* and tcp_user_timeout on the writes' connections (catalog_api/db.py)."""

    async def use(pool: ReadPool) -> tuple[int, int, int, int, int]:
        async def options(conn: Any) -> tuple[int, int, int, int, int]:
            sock = conn._transport.get_extra_info("socket")
            if sock.family == socket.AF_UNIX:
                pytest.skip("the session database is reached over a Unix socket")
            return (
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT),
                sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT),
            )

        return await pool.read(options)

    keepalive, idle, interval, count, user_timeout = _with_pool(db_env, use)
    assert keepalive != 0
    assert (idle, interval, count, user_timeout) == (30, 10, 3, 10000)


def test_i16_a_read_whose_session_the_server_ends_mid_query_is_retried_on_a_new_one(
    db_env: dict[str, str], pg: pgserver.PostgresServer
) -> None:
    """A failover ends sessions in the middle of queries (asyncpg: ConnectionDoesNotExistError, 08003)."""

    def terminate(pid: int) -> None:
        with pg.admin() as conn:
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))

    async def use(pool: ReadPool) -> tuple[int, list[int]]:
        sessions: list[int] = []
        first_session = asyncio.Event()

        async def work(conn: Any) -> int:
            sessions.append(int(conn.get_server_pid()))
            if len(sessions) == 1:
                first_session.set()
                await conn.fetchval("SELECT pg_sleep(4)")
            return int(await conn.fetchval("SELECT 1"))

        read = asyncio.create_task(pool.read(work))
        await first_session.wait()
        await asyncio.to_thread(terminate, sessions[0])
        return await read, sessions

    answer, sessions = _with_pool(db_env, use)
    assert answer == 1
    assert len(sessions) == 2 and sessions[0] != sessions[1]


@pytest.mark.parametrize("pool_kind", ["reads (asyncpg)", "writes (psycopg)"])
def test_i16_each_pools_readiness_reads_the_catalog_as_the_app_role(
    db_env: dict[str, str], pg: pgserver.PostgresServer, pool_kind: str
) -> None:
    """/ready asks both pools; each must fail on its own when the app role cannot read `products`,
    since on one server the other pool's probe would hide a probe that reads nothing."""
    from catalog_api.db import Database

    settings = load_settings(db_env)

    async def ready() -> bool:
        pool: ReadPool | Database
        if pool_kind.startswith("reads"):
            pool = ReadPool(settings, build_credentials(settings), host=settings.reader_host)
        else:
            pool = Database(settings, build_credentials(settings))
        await pool.open()
        try:
            return await pool.ping(10.0)
        finally:
            await pool.close()

    assert asyncio.run(ready())
    with pg.admin() as conn:
        conn.execute("REVOKE SELECT ON products FROM catalog_app")
    try:
        assert not asyncio.run(ready())
    finally:
        with pg.admin() as conn:
            conn.execute("GRANT SELECT ON products TO catalog_app")
