"""The connection pool: least-privilege sessions, credential re-read, bounded waits."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Self, TypeVar

import psycopg
from psycopg_pool import AsyncConnectionPool, PoolTimeout, TooManyRequests

from catalog_api.config import Settings
from catalog_api.credentials import CredentialSource, DbCredentials, is_auth_failure

log = logging.getLogger("catalog_api.db")

# The NOLOGIN role the migrations create; runtime sessions act as it (see README, least privilege).
APP_ROLE = "catalog_app"
POOL_MIN_SIZE = 2
# One 1-vCPU task runs one event loop; ten connections keep it busy, and ten tasks stay far
# below Aurora's max_connections on the smallest allowed instance class.
POOL_MAX_SIZE = 10
# A request waits at most this long for a connection, then answers 503 with Retry-After.
POOL_TIMEOUT_S = 5.0
# Requests queued for a connection beyond this answer 503 at once instead of piling up.
POOL_MAX_WAITING = 200
CONNECT_TIMEOUT_S = 5
STATEMENT_TIMEOUT_MS = 5000
# statement_timeout is enforced by the server: a server that stops answering (frozen, or a
# network path that silently drops packets) never enforces it. Each unit of work is also
# bounded here, one second past it, and its connection discarded when the bound fires.
UNIT_TIMEOUT_S = STATEMENT_TIMEOUT_MS / 1000 + 1.0
# libpq's TCP_USER_TIMEOUT: unacknowledged data on a connection fails it after this long.
TCP_USER_TIMEOUT_MS = 10000
T = TypeVar("T")
# Units of work given up on: kept referenced until their cancellation has run to the end.
_abandoned: set[asyncio.Task[Any]] = set()


class DatabaseUnavailableError(RuntimeError):
    """No usable connection within the bounded wait (database down, failing over, or credentials rejected)."""


def session_options(role: str = APP_ROLE) -> str:
    """Startup options: act as the restricted role from the first statement; bound every statement.

    With `role` set at startup, even `RESET ROLE` returns to the restricted role. UTC, whatever
    the cluster's parameter group says: reads (asyncpg) and writes (psycopg) then write the same
    instant the same way (`+00:00`).
    """
    return (
        f"-c role={role} -c statement_timeout={STATEMENT_TIMEOUT_MS}"
        " -c idle_in_transaction_session_timeout=10000 -c lock_timeout=3000 -c TimeZone=UTC"
    )


def _connection_class(credentials: CredentialSource) -> type[psycopg.AsyncConnection[Any]]:
    class CatalogConnection(psycopg.AsyncConnection[Any]):
        """Retries a rejected login once with the secret's current version."""

        @classmethod
        async def connect(cls, conninfo: str = "", **kwargs: Any) -> Self:
            try:
                return await super().connect(conninfo, **kwargs)
            except psycopg.OperationalError as exc:
                if not is_auth_failure(exc):
                    raise
                failed = DbCredentials(user=str(kwargs.get("user")), password=str(kwargs.get("password")))
                log.warning(
                    "database rejected the credentials",
                    extra={"fields": {"event": "db_auth_failed", "db_user": failed.user}},
                )
                fresh = await credentials.refresh(failed)
                if fresh is None:
                    raise
                kwargs.update(user=fresh.user, password=fresh.password)
                return await super().connect(conninfo, **kwargs)

    return CatalogConnection


class Database:
    """Owns the writes' pool; every write goes through `write()` (reads: catalog_api/readpool.py)."""

    def __init__(
        self,
        settings: Settings,
        credentials: CredentialSource,
        *,
        role: str = APP_ROLE,
        pool_timeout_s: float = POOL_TIMEOUT_S,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._role = role
        self.pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
            kwargs=self._connect_kwargs,
            connection_class=_connection_class(credentials),
            min_size=POOL_MIN_SIZE,
            max_size=POOL_MAX_SIZE,
            timeout=pool_timeout_s,
            max_waiting=POOL_MAX_WAITING,
            max_idle=300,
            # Recycled connections pick up the current credentials and a failed-over writer.
            max_lifetime=1800,
            reconnect_timeout=60,
            open=False,
            name="catalog",
        )

    async def _connect_kwargs(self) -> dict[str, Any]:
        creds = await self._credentials.ensure()
        if creds is None:
            raise psycopg.OperationalError(
                "no database credentials: DB_USER/DB_PASSWORD unset and the secret unreadable"
            )
        return {
            "host": self._settings.db_host,
            "port": self._settings.db_port,
            "dbname": self._settings.db_name,
            "user": creds.user,
            "password": creds.password,
            "sslmode": self._settings.db_sslmode,
            # psycopg leaves a None out of the conninfo: no CA file when the mode does not verify.
            "sslrootcert": self._settings.db_sslrootcert,
            "application_name": "catalog-api",
            # Reads are single statements; writes open their transaction explicitly.
            "autocommit": True,
            "connect_timeout": CONNECT_TIMEOUT_S,
            "options": session_options(self._role),
            # Notice a silently dropped connection (failover, NAT) within about a minute.
            "keepalives": 1,
            "keepalives_idle": 30,
            "keepalives_interval": 10,
            "keepalives_count": 3,
            "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        }

    async def open(self) -> None:
        """Start connecting in the background: the service (and /health) comes up even if the DB is down."""
        await self.pool.open(wait=False)

    async def close(self) -> None:
        await self.pool.close(timeout=5.0)

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[psycopg.AsyncConnection[Any]]:
        try:
            async with self.pool.connection() as conn:
                yield conn
        except (PoolTimeout, TooManyRequests) as exc:
            raise DatabaseUnavailableError(type(exc).__name__) from exc

    async def write(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        """Run a write in one transaction; never retried (it may have been applied)."""
        try:
            return await within(UNIT_TIMEOUT_S, lambda: self._unit(work))
        except psycopg.OperationalError as exc:
            if _is_dead_connection(exc):
                # The others in the pool are likely dead too (failover): replace them for the next requests.
                await self.pool.check()
            raise DatabaseUnavailableError(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc

    async def ping(self, timeout_s: float) -> bool:
        """Readiness: a connection within `timeout_s` and the products table readable by the app role.

        A dead pooled connection (failover, rotation) is replaced and the probe tried once more:
        the pool learns of it only by using it, and writes are too rare to do that first.
        """

        async def probe() -> None:
            async with self.pool.connection(timeout=timeout_s) as conn:
                await conn.execute("SELECT 1 FROM products LIMIT 1")

        for attempt in (1, 2):
            try:
                # The whole probe, not only the checkout: a frozen server accepts the query and never answers.
                await within(timeout_s, probe)
            except psycopg.OperationalError as exc:
                if attempt == 2 or not _is_dead_connection(exc):
                    return False
                await self.pool.check()
            except (PoolTimeout, TooManyRequests, psycopg.Error, DatabaseUnavailableError):
                return False
            else:
                return True
        return False

    async def _unit(self, work: Callable[[psycopg.AsyncConnection[Any]], Awaitable[T]]) -> T:
        async with self._connection() as conn, conn.transaction():
            return await work(conn)


async def within(timeout_s: float, unit: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """`unit()`'s result, or DatabaseUnavailableError after `timeout_s` with its connection discarded.

    Not `asyncio.timeout` around the work: a cancelled psycopg query first asks the server to
    cancel it and waits up to 10 s more for that, which a frozen server never grants. The unit
    runs as its own task; when the bound fires it is cancelled twice (psycopg then closes the
    connection instead of waiting, and the pool discards it) and the caller answers at once.
    """
    loop = asyncio.get_running_loop()
    task = loop.create_task(unit())
    # What asyncio.wait({task}, timeout=...) does, without its sets and per-call generality:
    # one future woken by the task's end or by the timer, whichever comes first.
    woken = loop.create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    task.add_done_callback(wake)
    timer = loop.call_later(timeout_s, wake)
    try:
        await woken
    except asyncio.CancelledError:
        task.cancel()
        raise
    finally:
        timer.cancel()
        task.remove_done_callback(wake)
    if task.done():
        return task.result()
    task.cancel()
    # One loop turn lets the task reach psycopg's cancel request; the second cancel interrupts it.
    await asyncio.sleep(0)
    task.cancel()
    _abandoned.add(task)
    task.add_done_callback(_forget)
    raise DatabaseUnavailableError(f"no answer from the database within {timeout_s:g} s")


def _forget(task: asyncio.Task[Any]) -> None:
    _abandoned.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.debug("abandoned unit of work ended with an error", extra={"fields": {"event": "db_unit_abandoned"}})


def _is_dead_connection(exc: psycopg.OperationalError) -> bool:
    # AdminShutdown (57P01) etc. arrive with a SQLSTATE; a cut socket arrives without one.
    return exc.sqlstate is None or exc.sqlstate.startswith("57P")
