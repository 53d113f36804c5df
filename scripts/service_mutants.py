"""The mutants of `make mutation-service`: single-point mistakes in the API service (service/).

The same rules as scripts/mutants.py: each mutant is one exact text edit of one file, its
snippet must occur exactly once (or the run stops), and it is a mistake a reviewer could wave
through. Paths are relative to service/. ``tests`` is the part of the service's suite run
against the mutant (the whole suite takes minutes per run on two cores): the files that test
what the mutant breaks, named in the report.
"""

from __future__ import annotations

from dataclasses import dataclass

from scripts.mutants import Mutant


@dataclass(frozen=True, kw_only=True)
class ServiceMutant(Mutant):
    """One realistic single-point change to the service, with the test files run against it."""

    tests: tuple[str, ...]
    """Test files (relative to service/) run against the mutant, in this order, with -x."""


APP = "catalog_api/app.py"
DB = "catalog_api/db.py"
MIDDLEWARE = "catalog_api/middleware.py"
HTTP = "catalog_api/http.py"
REPOSITORY = "catalog_api/repository.py"
READPOOL = "catalog_api/readpool.py"
CONFIG = "catalog_api/config.py"
MAIN = "catalog_api/__main__.py"
PROTOCOL = "catalog_api/protocol.py"
CREDENTIALS = "catalog_api/credentials.py"
CURSOR = "catalog_api/cursor.py"
MIGRATE = "catalog_api/migrate.py"
CANONICAL = "catalog_api/canonical.py"

READS = "tests/test_products_read.py"
WRITES = "tests/test_products_write.py"
HEALTH = "tests/test_health.py"
LOGGING = "tests/test_logging.py"
LIMITS = "tests/test_http_limits.py"
SHUTDOWN = "tests/test_shutdown.py"
RESILIENCE = "tests/test_database_resilience.py"
CREDS_TESTS = "tests/test_credentials.py"
CONFIG_TESTS = "tests/test_config.py"
CONTRACT_TESTS = "tests/test_contract.py"
CURSOR_TESTS = "tests/test_cursor.py"
FREEZE = "tests/test_database_freeze.py"
MIGRATIONS_TESTS = "tests/test_migrations.py"
DATABASE_TLS = "tests/test_database_tls.py"
CANONICAL_TESTS = "tests/test_canonical_urls.py"
REPLICA_TESTS = "tests/test_read_replica.py"
SEARCH_TESTS = "tests/test_search.py"
READ_POOL = "tests/test_read_pool.py"

SERVICE_MUTANTS: tuple[ServiceMutant, ...] = (
    # --- SQL: every value a bound parameter ------------------------------------------------
    ServiceMutant(
        id="sql-list-values-formatted",
        file=REPOSITORY,
        original="rows: list[Row] = await conn.fetch(query, *params)",
        replacement=(
            "for n, value in reversed(list(enumerate(params, start=1))):\n"
            '        query = query.replace(f"${n}", f"\'{value}\'")\n'
            "    rows: list[Row] = await conn.fetch(query)"
        ),
        what="the listing's filter values (category, prices, q, cursor) formatted into the SQL text: injection through q",
        tests=(READS,),
    ),
    ServiceMutant(
        id="sql-sku-formatted",
        file=REPOSITORY,
        original="row: Row | None = await conn.fetchrow(_BY_SKU, sku)",
        replacement='row: Row | None = await conn.fetchrow(_BY_SKU.replace("$1", f"\'{sku}\'"))',
        what="SKU lookup formatted into the SQL text",
        tests=(READS,),
    ),
    ServiceMutant(
        id="like-wildcards-unescaped",
        file=REPOSITORY,
        original='escaped = text.replace("\\\\", "\\\\\\\\").replace("%", "\\\\%").replace("_", "\\\\_")',
        replacement="escaped = text",
        what="% and _ in q act as wildcards: a search for '%' lists everything",
        tests=(READS,),
    ),
    # --- the write guard ---------------------------------------------------------------------
    ServiceMutant(
        id="token-compared-with-eq",
        file=APP,
        original='if scheme.lower() != "bearer" or not hmac.compare_digest(\n        token.strip().encode("utf-8", "surrogatepass"), settings.admin_token.encode("utf-8")\n    ):',
        replacement='if scheme.lower() != "bearer" or token.strip() != settings.admin_token:',
        what="bearer token compared with == (time depends on the matching prefix)",
        tests=(WRITES,),
    ),
    ServiceMutant(
        id="token-short-accepted",
        file=APP,
        original="if not settings.writes_enabled or settings.admin_token is None:",
        replacement="if settings.admin_token is None:",
        what="a configured token shorter than 16 characters authorises writes",
        tests=(WRITES,),
    ),
    ServiceMutant(
        id="token-min-length-lowered",
        file=CONFIG,
        original="return self.admin_token is not None and len(self.admin_token) >= ADMIN_TOKEN_MIN_LENGTH",
        replacement="return self.admin_token is not None and len(self.admin_token) >= 8",
        what="writes enabled with an 8-character token",
        tests=(CONFIG_TESTS, WRITES),
    ),
    # --- writes and errors are never cacheable ------------------------------------------
    ServiceMutant(
        id="update-answered-cacheable",
        file=APP,
        original="    return json_response(repository.to_json(row))\n\n\n_UPDATE_ERRORS",
        replacement="    return cached_json(request, repository.to_json(row))\n\n\n_UPDATE_ERRORS",
        what="PUT/PATCH answered with the read helper: the edge may cache a write's answer",
        tests=(WRITES,),
    ),
    ServiceMutant(
        id="create-answered-cacheable",
        file=APP,
        original='headers={"Location": f"/products/{row[\'id\']}"})',
        replacement='headers={"Location": f"/products/{row[\'id\']}", "Cache-Control": "public, max-age=60"})',
        what="POST answer marked cacheable",
        tests=(WRITES,),
    ),
    ServiceMutant(
        id="delete-without-no-store",
        file=APP,
        original='return Response(status_code=204, headers={"Cache-Control": "no-store"})',
        replacement="return Response(status_code=204)",
        what="DELETE's 204 without Cache-Control: heuristically cacheable",
        tests=(WRITES,),
    ),
    ServiceMutant(
        id="no-store-weakened",
        file=HTTP,
        original='all_headers = {"Cache-Control": NO_STORE}',
        replacement='all_headers = {"Cache-Control": "no-cache"}',
        what="errors and writes say no-cache (stored, revalidated) instead of no-store",
        tests=(HEALTH, WRITES),
    ),
    ServiceMutant(
        id="503-names-the-driver-error",
        file=APP,
        original='503, "database_unavailable", "the catalog database is unavailable; retry shortly", headers={"Retry-After": "5"}',
        replacement='503, "database_unavailable", f"the catalog database is unavailable: {exc}", headers={"Retry-After": "5"}',
        what="the 503 body carries libpq's error text (host, port, user)",
        tests=(HEALTH,),
    ),
    ServiceMutant(
        id="503-cacheable",
        file=APP,
        original='"the catalog database is unavailable; retry shortly", headers={"Retry-After": "5"}',
        replacement='"the catalog database is unavailable; retry shortly", headers={"Retry-After": "5", "Cache-Control": "max-age=10"}',
        what="the outage's 503 cacheable for 10 s at the edge",
        tests=(HEALTH,),
    ),
    ServiceMutant(
        id="503-without-retry-after",
        file=APP,
        original='"the catalog database is unavailable; retry shortly", headers={"Retry-After": "5"}',
        replacement='"the catalog database is unavailable; retry shortly"',
        what="the 503 tells clients nothing about when to retry",
        tests=(HEALTH,),
    ),
    # --- readiness ----------------------------------------------------------------------------
    ServiceMutant(
        id="ready-does-not-read-the-catalog",
        file=DB,
        original='await conn.execute("SELECT 1 FROM products LIMIT 1")',
        replacement='await conn.execute("SELECT 1")',
        what="/ready answers ready while the app role cannot read the catalog on the writer",
        tests=(HEALTH, READ_POOL),
    ),
    ServiceMutant(
        id="ready-does-not-read-the-catalog-on-the-reader",
        file=READPOOL,
        original='await conn.fetchval("SELECT 1 FROM products LIMIT 1")',
        replacement='await conn.fetchval("SELECT 1")',
        what="/ready answers ready while the app role cannot read the catalog on the reader",
        tests=(HEALTH, READ_POOL),
    ),
    # --- shutdown, keep-alive, request heads -----------------------------------------------
    ServiceMutant(
        id="drain-timeout-one-second",
        file=MAIN,
        original="timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,",
        replacement="timeout_graceful_shutdown=1,",
        what="SIGTERM cancels requests still running after 1 s",
        tests=(SHUTDOWN,),
    ),
    ServiceMutant(
        id="drain-constant-lowered",
        file=MAIN,
        original="GRACEFUL_SHUTDOWN_S = 30",
        replacement="GRACEFUL_SHUTDOWN_S = 2",
        what="the drain shortened to 2 s: slow requests are cut at every deploy and Spot notice",
        tests=(SHUTDOWN,),
    ),
    ServiceMutant(
        id="keep-alive-uvicorn-default",
        file=MAIN,
        original="KEEP_ALIVE_S = 65",
        replacement="KEEP_ALIVE_S = 5",
        what="idle keep-alive below the ALB's 60 s: the ALB reuses closed connections (502)",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="keep-alive-not-passed",
        file=MAIN,
        original="        timeout_keep_alive=KEEP_ALIVE_S,\n",
        replacement="",
        what="keep-alive left at uvicorn's 5 s",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="bounded-protocol-not-used",
        file=MAIN,
        original="        http=BoundedHttpToolsProtocol,\n",
        replacement="",
        what="uvicorn's stock protocol: unbounded request heads, no head read timeout",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="head-limit-in-mib",
        file=PROTOCOL,
        original="MAX_HEAD_BYTES = 80 * 1024",
        replacement="MAX_HEAD_BYTES = 80 * 1024 * 1024",
        what="the request-head limit written in MiB: 16 slow clients hold over a GiB",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="head-limit-below-the-alb",
        file=PROTOCOL,
        original="MAX_HEAD_BYTES = 80 * 1024",
        replacement="MAX_HEAD_BYTES = 8 * 1024",
        what="request heads the ALB forwards legitimately (up to 16 KB line + 64 KB headers) refused",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="head-bytes-per-chunk",
        file=PROTOCOL,
        original="self._pending_bytes = 0 if self._head_progressed else self._pending_bytes + len(data)",
        replacement="self._pending_bytes = 0 if self._head_progressed else len(data)",
        what="the head size counted per read instead of in total: never trips",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="head-timer-not-armed",
        file=PROTOCOL,
        original="self._head_timer = self.loop.call_later(HEAD_TIMEOUT_S, self._head_timed_out)",
        replacement="self._head_timer = None",
        what="no head read timeout: a silent or slow client holds a connection forever",
        tests=(LIMITS,),
    ),
    # --- request id and HEAD ----------------------------------------------------------------
    ServiceMutant(
        id="request-id-on-cached-reads",
        file=MIDDLEWARE,
        original='if echo_id and b"cache-control" in names and headers[names.index(b"cache-control")][1] == _NO_STORE:',
        replacement="if echo_id:",
        what="the caller's X-Request-Id echoed into reads the edge caches for every viewer",
        tests=(READS, LOGGING),
    ),
    ServiceMutant(
        id="request-id-unfiltered",
        file=MIDDLEWARE,
        original='_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")',
        replacement='_SAFE_REQUEST_ID = re.compile(r".{8,64}")',
        what="any X-Request-Id accepted: log and header injection",
        tests=(LOGGING,),
    ),
    ServiceMutant(
        id="head-not-routed-as-get",
        file=MIDDLEWARE,
        original='scope = {**scope, "method": "GET"}',
        replacement="pass",
        what="HEAD on GET routes answers 405 again",
        tests=(READS, LIMITS),
    ),
    ServiceMutant(
        id="allow-without-head",
        file=APP,
        original='        methods.add("HEAD")',
        replacement="        pass",
        what="Allow header omits HEAD although it is served",
        tests=(HEALTH,),
    ),
    # --- database sessions and pool ------------------------------------------------------
    ServiceMutant(
        id="statement-timeout-dropped",
        file=DB,
        original='f"-c role={role} -c statement_timeout={STATEMENT_TIMEOUT_MS}"',
        replacement='f"-c role={role}"',
        what="no statement timeout: one slow query holds a pooled connection indefinitely",
        tests=(RESILIENCE,),
    ),
    ServiceMutant(
        id="statement-timeout-zero",
        file=DB,
        original="STATEMENT_TIMEOUT_MS = 5000",
        replacement="STATEMENT_TIMEOUT_MS = 0",
        what="statement_timeout=0 means none",
        tests=(RESILIENCE,),
    ),
    ServiceMutant(
        id="lock-timeout-dropped",
        file=DB,
        original='" -c idle_in_transaction_session_timeout=10000 -c lock_timeout=3000 -c TimeZone=UTC"',
        replacement='" -c idle_in_transaction_session_timeout=10000 -c TimeZone=UTC"',
        what="no lock timeout: a migration's lock queues every request behind it",
        tests=(RESILIENCE, READ_POOL),
    ),
    ServiceMutant(
        id="role-not-set-at-start",
        file=DB,
        original='f"-c role={role} -c statement_timeout={STATEMENT_TIMEOUT_MS}"',
        replacement='f"-c statement_timeout={STATEMENT_TIMEOUT_MS}"',
        what="sessions act as the master user instead of the least-privilege app role",
        tests=(RESILIENCE,),
    ),
    ServiceMutant(
        id="pool-wait-queue-unbounded",
        file=DB,
        original="            max_waiting=POOL_MAX_WAITING,\n",
        replacement="",
        what="unbounded wait queue: under overload requests pile up instead of answering 503",
        tests=(RESILIENCE,),
    ),
    ServiceMutant(
        id="pool-timeout-default",
        file=DB,
        original="            timeout=pool_timeout_s,\n",
        replacement="",
        what="requests wait psycopg's default 30 s for a connection, past the ALB's patience",
        tests=(RESILIENCE,),
    ),
    ServiceMutant(
        id="read-not-retried-after-failover",
        file=READPOOL,
        original="if attempt == 2 or not _is_dead_connection(exc):",
        replacement="if attempt == 1 or not _is_dead_connection(exc):",
        what="a read on a connection killed by a failover answers 503 instead of retrying once",
        tests=(RESILIENCE, READ_POOL),
    ),
    ServiceMutant(
        id="writer-readiness-not-retried-after-failover",
        file=DB,
        original="if attempt == 2 or not _is_dead_connection(exc):",
        replacement="if attempt == 1 or not _is_dead_connection(exc):",
        what="after a rotation or failover /ready answers 503 once per dead writer connection, though writes would work",
        tests=(CREDS_TESTS,),
    ),
    ServiceMutant(
        id="read-unit-unbounded",
        file=READPOOL,
        original="            bound.reschedule(deadline)\n",
        replacement="            bound.reschedule(None)\n",
        what="a read on a database that stopped answering waits forever (statement_timeout is the server's)",
        tests=(FREEZE,),
    ),
    ServiceMutant(
        id="ready-probe-checkout-only",
        file=DB,
        original="                await within(timeout_s, probe)\n",
        replacement="                await probe()\n",
        what="/ready bounds only the pool checkout: a frozen database hangs the probe",
        tests=(FREEZE,),
    ),
    ServiceMutant(
        id="body-read-unbounded",
        file=MIDDLEWARE,
        original="async with asyncio.timeout_at(body_deadline):",
        replacement="async with asyncio.timeout_at(None):",
        what="a body that never comes holds the connection open forever",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="body-deadline-per-read",
        file=MIDDLEWARE,
        original="            if body_deadline is None:\n                body_deadline = loop.time() + BODY_TIMEOUT_S\n",
        replacement="            body_deadline = loop.time() + BODY_TIMEOUT_S\n",
        what="the body deadline restarts with every chunk: a trickled body is never refused",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="write-guard-off",
        file=APP,
        original="    app.add_middleware(WriteGuardMiddleware, settings=settings)\n",
        replacement="",
        what="a stranger's body is read (and a malformed one answered 400) before the token is checked",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="early-answer-keeps-connection",
        file=MIDDLEWARE,
        original='if body_pending and b"connection" not in names:',
        replacement='if False and b"connection" not in names:',
        what="an answer sent before the body arrived leaves the connection open waiting for it",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="head-count-skips-headers",
        file=PROTOCOL,
        original="self._count(len(name) + len(value) + 4)",
        replacement="self._count(0)",
        what="complete headers not counted: a large head that arrives whole is served",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="head-count-not-reset",
        file=PROTOCOL,
        original="        self._head_bytes = 0\n        self._pending_bytes = 0\n        self._stop_head_timer()\n",
        replacement="        self._pending_bytes = 0\n        self._stop_head_timer()\n",
        what="head bytes add up across the requests of one connection: pipelined small requests get 431",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="unfinished-header-uncounted",
        file=PROTOCOL,
        original="self._pending_bytes = 0 if self._head_progressed else self._pending_bytes + len(data)",
        replacement="self._pending_bytes = 0",
        what="an endless header reaches no callback and is never refused: the process buffers it",
        tests=(LIMITS,),
    ),
    ServiceMutant(
        id="migration-lock-wait-unbounded",
        file=MIGRATE,
        original="        _wait_for_lock(connection, lock_wait_s)\n",
        replacement='        connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})\n',
        what="a session holding the migration lock keeps every starting task waiting past its start budget",
        tests=(MIGRATIONS_TESTS,),
    ),
    # --- credentials ---------------------------------------------------------------------------
    ServiceMutant(
        id="secret-reread-unlimited",
        file=CREDENTIALS,
        original="MIN_REFRESH_INTERVAL_S = 10.0",
        replacement="MIN_REFRESH_INTERVAL_S = 0.0",
        what="a wrong password turns every connection attempt into a Secrets Manager call",
        tests=(CREDS_TESTS,),
    ),
    ServiceMutant(
        id="auth-failure-sqlstate-only",
        file=CREDENTIALS,
        original='    if exc.sqlstate == "28P01":\n        return True\n    return "password authentication failed" in str(exc)',
        replacement='    return exc.sqlstate == "28P01"',
        what="libpq's login failure (no SQLSTATE) not recognised: a rotation is never survived",
        tests=(CREDS_TESTS,),
    ),
    # --- configuration and cursors --------------------------------------------------------
    ServiceMutant(
        id="sslmode-default-disable",
        file=CONFIG,
        original='sslmode = (environ.get("DB_SSLMODE", "").strip() or "require").lower()',
        replacement='sslmode = (environ.get("DB_SSLMODE", "").strip() or "disable").lower()',
        what="without DB_SSLMODE the service never tries TLS",
        tests=(CONFIG_TESTS,),
    ),
    ServiceMutant(
        id="sslmode-default-prefer",
        file=CONFIG,
        original='sslmode = (environ.get("DB_SSLMODE", "").strip() or "require").lower()',
        replacement='sslmode = (environ.get("DB_SSLMODE", "").strip() or "prefer").lower()',
        what="without DB_SSLMODE a server that offers no TLS gets the password in plaintext",
        tests=(CONFIG_TESTS,),
    ),
    ServiceMutant(
        id="sslrootcert-not-passed-to-the-pool",
        file=DB,
        original='            "sslrootcert": self._settings.db_sslrootcert,\n',
        replacement="",
        what="the pool ignores DB_SSLROOTCERT: verify-full looks for ~/.postgresql/root.crt and never connects",
        tests=(DATABASE_TLS,),
    ),
    ServiceMutant(
        id="sslrootcert-not-passed-to-migrations",
        file=MIGRATE,
        original="            sslrootcert=settings.db_sslrootcert,\n",
        replacement="",
        what="the migrations ignore DB_SSLROOTCERT: every task start fails under verify-full",
        tests=(DATABASE_TLS,),
    ),
    ServiceMutant(
        id="verifying-sslmode-without-a-bundle",
        file=CONFIG,
        original="        if sslmode in VERIFYING_SSL_MODES:\n            raise ConfigError(",
        replacement="        if sslmode in ():\n            raise ConfigError(",
        what="verify-full without a CA bundle starts, then fails every connection with a message about root.crt",
        tests=(CONFIG_TESTS,),
    ),
    ServiceMutant(
        id="request-id-match-dollar",
        file=MIDDLEWARE,
        original="if _SAFE_REQUEST_ID.fullmatch(candidate):",
        replacement='if re.match(r"^[A-Za-z0-9._-]{8,64}$", candidate):',
        what="`$` accepts a trailing newline: a request id that splits a log line or header",
        tests=(LOGGING,),
    ),
    ServiceMutant(
        id="canonical-text-unvalidated",
        file=CANONICAL,
        original="            if self.pattern is not None and re.fullmatch(self.pattern, raw) is None:\n                return None\n",
        replacement="",
        what="a text value the route refuses is redirected first: one more hop, and a 301 the edge caches for a day",
        tests=(CANONICAL_TESTS,),
    ),
    ServiceMutant(
        id="unknown-params-named",
        file=CANONICAL,
        original='return _refusal(f"{len(unknown)} unknown query parameter(s); allowed: {allowed_text}")',
        replacement="return _refusal(f\"unknown query parameter(s) {', '.join(sorted(unknown))[:200]}; allowed: {allowed_text}\")",
        what="unknown parameter names echoed in the 400: caller input reflected into the answer",
        tests=(READS,),
    ),
    ServiceMutant(
        id="lookup-reads-the-writer",
        file=APP,
        original="    return _product(state.reader, _if_none_match(scope), product_id)",
        replacement="    return _product(state.db, _if_none_match(scope), product_id)",
        what="lookups by id go to the writer: the readers Aurora adds for a sale take none of that load",
        tests=(REPLICA_TESTS,),
    ),
    ServiceMutant(
        id="ready-checks-the-writer-only",
        file=APP,
        original="if all(await asyncio.gather(_db(request).ping(READY_TIMEOUT_S), _reader(request).ping(READY_TIMEOUT_S))):",
        replacement="if await _db(request).ping(READY_TIMEOUT_S):",
        what="/ready answers 200 while every read fails against an unreachable reader",
        tests=(REPLICA_TESTS,),
    ),
    ServiceMutant(
        id="searches-queue-for-the-pool",
        file=APP,
        original="""        if slots.locked():
            raise ApiError(""",
        replacement="""        if False:
            raise ApiError(""",
        what="searches beyond their slots wait instead of answering 503 at once",
        tests=(SEARCH_TESTS,),
    ),
    ServiceMutant(
        id="search-without-a-trigram-accepted",
        file=APP,
        original="    if re.search(QUERY_TRIGRAM, text) is None:\n",
        replacement="    if False:\n",
        what="a search of punctuation or short words reads the whole trigram index on every call",
        tests=(SEARCH_TESTS,),
    ),
    ServiceMutant(
        id="searches-take-the-whole-pool",
        file=APP,
        original="SEARCH_SLOTS = POOL_MAX_SIZE // 2",
        replacement="SEARCH_SLOTS = POOL_MAX_SIZE * 20",
        what="the search cap above the pool size: searches starve lookups by id of connections",
        tests=(SEARCH_TESTS,),
    ),
    ServiceMutant(
        id="lock-waiters-in-a-transaction",
        file=MIGRATE,
        original='connection.execution_options(isolation_level="AUTOCOMMIT")',
        replacement="connection.execution_options(isolation_level=default_level)",
        what="tasks waiting for the migration lock hold a transaction open: a concurrent index build times out behind them",
        tests=(MIGRATIONS_TESTS,),
    ),
    ServiceMutant(
        id="cursor-check-skipped",
        file=CURSOR,
        original="if len(raw) != _RAW_LEN or raw[16:] != _check(raw[:16]):",
        replacement="if len(raw) != _RAW_LEN:",
        what="edited cursors accepted",
        tests=(CURSOR_TESTS, READS),
    ),
    # --- one canonical URL per read; reads the edge may serve through an origin error -------
    ServiceMutant(
        id="repeated-parameter-last-wins",
        file=CANONICAL,
        original="Counter(name for name, _ in pairs)",
        replacement="Counter(dict(pairs))",
        what="repeated query parameters collapsed by a dict: `limit=1&limit=2` served, the last one silently wins",
        tests=(CANONICAL_TESTS,),
    ),
    ServiceMutant(
        id="canonical-query-unsorted",
        file=CANONICAL,
        original="    canonical.sort()\n",
        replacement="",
        what="parameters kept in the caller's order: `?limit=5&category=x` and `?category=x&limit=5` cached apart",
        tests=(CANONICAL_TESTS,),
    ),
    ServiceMutant(
        id="canonical-path-compared-decoded",
        file=CANONICAL,
        original='raw_path: bytes = scope.get("raw_path") or path.encode("utf-8")',
        replacement='raw_path: bytes = path.encode("utf-8")',
        what="the decoded path judged: `/products/%31` served as a separate object beside `/products/1`",
        tests=(CANONICAL_TESTS,),
    ),
    ServiceMutant(
        id="stale-if-error-shortened",
        file=HTTP,
        original="STALE_IF_ERROR_S = 300",
        replacement="STALE_IF_ERROR_S = 30",
        what="stale-if-error as long as a typical failover alone: the edge shows 503s before the service has recovered",
        tests=(CANONICAL_TESTS, READS),
    ),
    ServiceMutant(
        id="read-pool-session-options-dropped",
        file=READPOOL,
        original='server_settings={"application_name": APPLICATION_NAME, "options": session_options()},',
        replacement='server_settings={"application_name": APPLICATION_NAME},',
        what="read sessions act as the login role, without statement, lock or idle timeouts",
        tests=(READ_POOL,),
    ),
    ServiceMutant(
        id="read-pool-prices-as-decimals",
        file=READPOOL,
        original='await conn.set_type_codec("numeric", schema="pg_catalog", encoder=str, decoder=str, format="text")',
        replacement="pass",
        what="prices read as Decimal, which the encoder refuses: every read with a product answers 500",
        tests=(READS,),
    ),
    ServiceMutant(
        id="read-pool-keepalives-dropped",
        file=READPOOL,
        original="            _keep_alive(conn)\n",
        replacement="            pass\n",
        what="a silently dropped read connection (NAT, failover) is noticed only by the next query's bound",
        tests=(READ_POOL,),
    ),
    ServiceMutant(
        id="read-pool-secret-not-reread",
        file=READPOOL,
        original="fresh = await self._credentials.refresh(creds)",
        replacement="fresh = None",
        what="after a rotation every read answers 503 until the task is replaced",
        tests=(CREDS_TESTS,),
    ),
    ServiceMutant(
        id="read-pool-require-skips-the-ca-file",
        file=READPOOL,
        original='if sslmode == "require" and rootcert is None:',
        replacement='if sslmode == "require":',
        what="sslmode=require with a CA file accepts any certificate, where libpq checks the chain",
        tests=(DATABASE_TLS,),
    ),
    ServiceMutant(
        id="read-pool-verify-full-skips-the-host",
        file=READPOOL,
        original='    if sslmode == "verify-full":\n        return context\n',
        replacement='    if sslmode == "verify-full":\n        context.check_hostname = False\n        return context\n',
        what="verify-full takes a certificate for another host name: a man in the middle with any RDS certificate",
        tests=(DATABASE_TLS,),
    ),
    ServiceMutant(
        id="read-pool-every-error-unavailable",
        file=READPOOL,
        original="return sqlstate[:2] in _UNAVAILABLE_CLASSES",
        replacement="return True",
        what="a defect in a query answers 503 with Retry-After, retried by clients, instead of 500",
        tests=(READ_POOL,),
    ),
    ServiceMutant(
        id="read-pool-ended-session-not-retried",
        file=READPOOL,
        original='return sqlstate.startswith(("08", "57P"))',
        replacement='return sqlstate.startswith(("57P",))',
        what="a read whose session a failover ended mid-query answers 503 instead of being retried",
        tests=(READ_POOL,),
    ),
    ServiceMutant(
        id="read-pool-cancelled-connection-released",
        file=READPOOL,
        original="if not clean or asyncio.get_running_loop().time() - opened_at > self.max_lifetime_s:",
        replacement="if asyncio.get_running_loop().time() - opened_at > self.max_lifetime_s:",
        what="a timed-out read's connection goes back to the pool mid-query: against a frozen server, release waits forever",
        tests=(FREEZE,),
    ),
    ServiceMutant(
        id="read-pool-lifetime-ignored",
        file=READPOOL,
        original="- opened_at > self.max_lifetime_s:",
        replacement='- opened_at > float("inf"):',
        what="read connections live forever: readers the autoscaler adds get no connections from running tasks",
        tests=(READ_POOL,),
    ),
    ServiceMutant(
        id="read-pool-queue-unbounded",
        file=READPOOL,
        original="if self._in_flight > self.max_size + self.max_waiting:",
        replacement="if False:",
        what="reads pile up behind ten connections without bound instead of answering 503 at once",
        tests=(READ_POOL,),
    ),
    ServiceMutant(
        id="read-pool-wait-unbounded",
        file=READPOOL,
        original="bound = asyncio.timeout_at(min(deadline, loop.time() + self.timeout))",
        replacement="bound = asyncio.timeout_at(deadline)",
        what="a read waits for a connection as long as the whole unit's bound, not the pool's",
        tests=(READ_POOL,),
    ),
)
