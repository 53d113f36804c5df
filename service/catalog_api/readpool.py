"""The catalog reads' pool: asyncpg, with the same bounds and credentials as the writes' pool.

Reads are nearly all of the service's traffic, and psycopg's query path was about 45 % of a
read's CPU time (service/docs/capacity.md, "Where the CPU goes"): it registers and removes an
event-loop reader on every wait and runs its protocol in Python. asyncpg keeps one asyncio
protocol per connection and decodes rows in C. Writes and the migrations stay on psycopg
(catalog_api/db.py): they are rare, and their transactions and error mapping are already tested.

What the writes' pool guarantees, this one keeps, each with its own test:
- sessions act as the NOLOGIN app role from their first statement, with the statement, lock and
  idle-in-transaction timeouts (`db.session_options`), in UTC;
- `DB_SSLMODE`/`DB_SSLROOTCERT` mean what they mean to libpq (`ssl_context`);
- a rejected password re-reads the secret once (`CredentialSource`), rate-limited;
- at most POOL_MAX_SIZE connections, a bounded wait for one (POOL_TIMEOUT_S) and a bounded queue
  (POOL_MAX_WAITING); a unit of work bounded to UNIT_TIMEOUT_S even when the server freezes;
- a read on a dead connection is retried once on a fresh one, and every pooled connection is
  replaced (after a failover they are all dead at once);
- connections are recycled after MAX_LIFETIME_S, so readers that Aurora's autoscaling adds get
  their share of new connections (the reader endpoint balances per connection, by DNS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import ssl
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar, cast

import asyncpg

from catalog_api.config import Settings
from catalog_api.credentials import CredentialSource, DbCredentials, is_auth_failure
from catalog_api.db import (
    CONNECT_TIMEOUT_S,
    POOL_MAX_SIZE,
    POOL_MAX_WAITING,
    POOL_MIN_SIZE,
    POOL_TIMEOUT_S,
    TCP_USER_TIMEOUT_MS,
    UNIT_TIMEOUT_S,
    DatabaseUnavailableError,
    session_options,
)

log = logging.getLogger("catalog_api.db")

T = TypeVar("T")
# As the writes' pool: idle connections close after 5 minutes, every connection after 30.
MAX_IDLE_S = 300.0
MAX_LIFETIME_S = 1800.0
APPLICATION_NAME = "catalog-api"
# SQLSTATE classes that mean "the database cannot serve now" (503), not "this query is wrong"
# (500): connection (08), authorization (28), resources (53), object state such as a lock
# timeout (55), operator intervention such as a shutdown or a statement timeout (57), system (58).
_UNAVAILABLE_CLASSES = frozenset({"08", "28", "53", "55", "57", "58"})


def ssl_context(sslmode: str, rootcert: str | None) -> ssl.SSLContext | Literal[False, "allow", "prefer"]:
    """What asyncpg's `ssl` argument needs for libpq's `sslmode` with `sslrootcert`.

    As libpq does: `verify-full` checks the chain and the host name, `verify-ca` the chain only,
    `require` checks the chain when a CA file is given and otherwise only encrypts, `prefer` and
    `allow` fall back to plaintext, `disable` never encrypts.
    """
    if sslmode == "disable":
        return False
    if sslmode == "allow":
        return "allow"
    if sslmode == "prefer":
        return "prefer"
    context = ssl.create_default_context(cafile=rootcert) if rootcert else ssl.create_default_context()
    if sslmode == "verify-full":
        return context
    context.check_hostname = False
    if sslmode == "require" and rootcert is None:
        context.verify_mode = ssl.CERT_NONE
    return context


# Outside PostgreSQL's errors, a connection that cannot be used again: a cut socket, or one the
# server ended while it sat idle in the pool, whose "terminating connection" message asyncpg has
# read but whose close it has not yet seen (it then refuses the next query as another operation
# in progress: InternalClientError).
_DEAD = (OSError, asyncpg.exceptions.InternalClientError)


def is_unavailable(exc: BaseException) -> bool:
    """An error that means the database cannot serve now (answered 503), not a defect (500)."""
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = str(getattr(exc, "sqlstate", "") or "")
        return sqlstate[:2] in _UNAVAILABLE_CLASSES
    return isinstance(exc, _DEAD)


def _is_dead_connection(exc: BaseException) -> bool:
    # Or a connection exception (class 08: asyncpg raises ConnectionDoesNotExistError, 08003, for
    # a session the server ended mid-query), or the server ending it (57P01 admin shutdown etc.).
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = str(getattr(exc, "sqlstate", "") or "")
        return sqlstate.startswith(("08", "57P"))
    return isinstance(exc, _DEAD)


def _reason(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


class ReadConnection(asyncpg.Connection):
    """An asyncpg connection that knows when it was opened (for MAX_LIFETIME_S)."""

    opened_at: float = 0.0


async def _keep_session(_conn: Any) -> None:
    """The pool's reset on release: nothing to undo.

    asyncpg's default reset is a round trip per release (advisory locks, cursors, LISTEN and
    `RESET ALL`); a read here is one autocommitted SELECT that changes no session state, and a
    connection whose unit did not end cleanly is terminated instead of released (`_unit`).
    """
    return None


class ReadPool:
    """Owns the reads' pool; every catalog read goes through `read()`."""

    def __init__(
        self,
        settings: Settings,
        credentials: CredentialSource,
        *,
        host: str,
        pool_timeout_s: float = POOL_TIMEOUT_S,
        max_lifetime_s: float = MAX_LIFETIME_S,
    ) -> None:
        self._settings = settings
        self._credentials = credentials
        self._host = host
        self._ssl = ssl_context(settings.db_sslmode, settings.db_sslrootcert)
        self.timeout = pool_timeout_s
        """Longest wait for a connection, in seconds; then 503."""
        self.max_size = POOL_MAX_SIZE
        """Most connections open at once."""
        self.min_size = POOL_MIN_SIZE
        """Connections opened at start, in the background, so the service starts with the database down."""
        self.max_waiting = POOL_MAX_WAITING
        """Most units waiting for a connection; beyond that a read answers 503 at once."""
        self.max_lifetime_s = max_lifetime_s
        self._in_flight = 0
        self._warm_up: asyncio.Task[None] | None = None
        # No floor kept by asyncpg (its floor is opened before `open()` returns, so a database
        # that is down would stop the start); `open()` opens min_size in the background instead.
        self._pool: asyncpg.Pool = asyncpg.create_pool(
            init_size=0,
            min_size=0,
            max_size=self.max_size,
            max_inactive_connection_lifetime=MAX_IDLE_S,
            # The stubs' connect protocol names asyncpg.connect's every keyword; this one takes what the pool passes.
            connect=cast(Any, self._connect),
            reset=_keep_session,
            connection_class=ReadConnection,
        )

    async def _connect(self, *_dsn: Any, connection_class: type[ReadConnection], **_pool_kwargs: Any) -> ReadConnection:
        creds = await self._credentials.ensure()
        if creds is None:
            raise DatabaseUnavailableError(
                "no database credentials: DB_USER/DB_PASSWORD unset and the secret unreadable"
            )
        try:
            conn = await self._open(creds, connection_class)
        except asyncpg.PostgresError as exc:
            if not is_auth_failure(exc):
                raise
            log.warning(
                "database rejected the credentials",
                extra={"fields": {"event": "db_auth_failed", "db_user": creds.user}},
            )
            fresh = await self._credentials.refresh(creds)
            if fresh is None:
                raise
            conn = await self._open(fresh, connection_class)
        conn.opened_at = asyncio.get_running_loop().time()
        return conn

    async def _open(self, creds: DbCredentials, connection_class: type[ReadConnection]) -> ReadConnection:
        conn: ReadConnection = await asyncpg.connect(
            host=self._host,
            port=self._settings.db_port,
            database=self._settings.db_name,
            user=creds.user,
            password=creds.password,
            ssl=self._ssl,
            timeout=CONNECT_TIMEOUT_S,
            connection_class=connection_class,
            server_settings={"application_name": APPLICATION_NAME, "options": session_options()},
        )
        try:
            _keep_alive(conn)
            # numeric(10,2) read as PostgreSQL's text, which is the API's price string ("12.50"):
            # no Decimal per row, and no formatting back to two decimals.
            await conn.set_type_codec("numeric", schema="pg_catalog", encoder=str, decoder=str, format="text")
        except BaseException:
            conn.terminate()
            raise
        return conn

    async def open(self) -> None:
        """Start the pool; its first connections open in the background, as the writes' pool does."""
        await self._pool
        self._warm_up = asyncio.get_running_loop().create_task(self._open_first())

    async def _open_first(self) -> None:
        async def open_one() -> None:
            conn = await self._pool.acquire()
            await self._pool.release(conn)

        # Concurrently, so each holds its own connection; not counted as reads waiting. A failure
        # is what the first read meets again, and answers.
        await asyncio.gather(*(open_one() for _ in range(self.min_size)), return_exceptions=True)

    async def close(self) -> None:
        if self._warm_up is not None:
            self._warm_up.cancel()
        try:
            await asyncio.wait_for(self._pool.close(), timeout=5.0)
        except TimeoutError:
            self._pool.terminate()

    async def read(self, work: Callable[[Any], Awaitable[T]]) -> T:
        """Run an idempotent read; once retried on a fresh connection if the first one was dead."""
        for attempt in (1, 2):
            try:
                return await self._bounded(UNIT_TIMEOUT_S, work)
            except DatabaseUnavailableError:
                raise
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                if attempt == 2 or not _is_dead_connection(exc):
                    raise DatabaseUnavailableError(_reason(exc)) from exc
                # After a failover every pooled connection is dead: replace them all, so one
                # request pays for the detection instead of one failed request per connection.
                await self._pool.expire_connections()
        raise AssertionError("unreachable")  # pragma: no cover

    async def ping(self, timeout_s: float) -> bool:
        """Readiness: a connection within `timeout_s` and the products table readable by the app role."""

        async def probe(conn: Any) -> None:
            await conn.fetchval("SELECT 1 FROM products LIMIT 1")

        try:
            await self._bounded(timeout_s, probe)
        except (DatabaseUnavailableError, asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            return False
        return True

    async def _bounded(self, timeout_s: float, work: Callable[[Any], Awaitable[T]]) -> T:
        """`_unit(work)`, or DatabaseUnavailableError after `timeout_s`, even from a frozen server.

        A plain timeout suffices here, unlike psycopg's `within` (db.py): a cancelled asyncpg query
        returns at once (its cancel request goes out in the background), and `_unit` then
        terminates the connection, which also ends that request. No task per read, and one
        timer: it first bounds the wait for a connection (the pool's timeout), then, moved to
        the unit's deadline, the work.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        bound = asyncio.timeout_at(min(deadline, loop.time() + self.timeout))
        try:
            async with bound:
                return await self._unit(work, bound, deadline)
        except TimeoutError as exc:
            if bound.when() != deadline:
                raise DatabaseUnavailableError("PoolTimeout") from exc
            raise DatabaseUnavailableError(f"no answer from the database within {timeout_s:g} s") from exc

    async def _unit(self, work: Callable[[Any], Awaitable[T]], bound: asyncio.Timeout, deadline: float) -> T:
        self._in_flight += 1
        try:
            if self._in_flight > self.max_size + self.max_waiting:
                raise DatabaseUnavailableError("TooManyRequests")
            # The pool's proxy: ReadConnection's attributes reach through it.
            conn: Any = await self._pool.acquire()
            bound.reschedule(deadline)
            opened_at: float = conn.opened_at
            clean = False
            try:
                result = await work(conn)
                clean = True
                return result
            except asyncpg.PostgresError as exc:
                # The server answered with an error and the session is ready again, unless it
                # was the server ending the session.
                clean = not _is_dead_connection(exc)
                raise
            finally:
                # Cancelled (the unit's bound fired), or failed in the client: the connection's
                # state is unknown, so it is closed at once instead of being reset over a
                # network path that may not answer; the pool opens a new one when needed.
                if not clean or asyncio.get_running_loop().time() - opened_at > self.max_lifetime_s:
                    # A connection that asyncpg saw close has already left the proxy.
                    with contextlib.suppress(asyncpg.InterfaceError):
                        conn.terminate()
                await self._pool.release(conn)
        finally:
            self._in_flight -= 1


def _keep_alive(conn: ReadConnection) -> None:
    """TCP keepalives and TCP_USER_TIMEOUT, as libpq sets them for the writes' pool (db.py)."""
    transport = getattr(conn, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, TCP_USER_TIMEOUT_MS)
