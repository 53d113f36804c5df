"""Entry point: `python -m catalog_api [serve | migrate | downgrade REVISION]`.

`serve` (the image's default) applies the migrations, then runs uvicorn with one worker: one
1-vCPU Fargate task is one event loop, and the platform scales by adding tasks.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

import alembic.util
import psycopg
import sqlalchemy as sa
import uvicorn

from catalog_api import logs, migrate
from catalog_api.app import build_credentials, create_app
from catalog_api.config import ConfigError, Settings, load_settings
from catalog_api.credentials import CredentialSource, resolve_admin_token
from catalog_api.protocol import BoundedHttpToolsProtocol

log = logging.getLogger("catalog_api")

# SIGTERM starts the drain: stop accepting, finish in-flight requests for up to this long, close
# the pool. Well inside Fargate's stopTimeout of 120 s (the Spot notice), with room for the rest.
GRACEFUL_SHUTDOWN_S = 30
# Longer than the ALB's idle timeout (60 s by default), so the ALB, not the service, closes idle
# keep-alive connections and never sends a request on a socket the service is closing (502).
KEEP_ALIVE_S = 65


def uvicorn_config(settings: Settings, credentials: CredentialSource, *, host: str = "0.0.0.0") -> uvicorn.Config:  # noqa: S104 - the contract: listen on all interfaces of the task
    return uvicorn.Config(
        create_app(settings, credentials),
        host=host,
        port=settings.port,
        workers=1,
        access_log=False,
        log_config=None,
        server_header=False,
        # Nothing reads the client address (the access line does not log it), and the ALB is not
        # in uvicorn's trusted proxies (127.0.0.1 by default), so the layer that parses
        # X-Forwarded-* on every request could never apply it: off.
        proxy_headers=False,
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        lifespan="on",
        # httptools with a bound on each request head's size and read time (catalog_api/protocol.py).
        http=BoundedHttpToolsProtocol,
        # No limit_concurrency: uvicorn's own 503 for it carries no Cache-Control, so the edge would
        # cache it; each connection's memory is bounded by the head limit instead.
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog_api", description="Product Catalog API")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="apply migrations, then serve on 0.0.0.0:$PORT (default)")
    sub.add_parser("migrate", help="apply migrations up to head, then exit")
    down = sub.add_parser("downgrade", help="revert migrations down to REVISION (e.g. base)")
    down.add_argument("revision")
    args = parser.parse_args(argv)
    command = args.command or "serve"

    try:
        settings = load_settings(os.environ)
    except ConfigError as exc:
        print(f"catalog-api: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    settings = resolve_admin_token(settings)
    credentials = build_credentials(settings)

    # Any failure here ends the process before it listens: the task never passes a health check,
    # so the release stops with the previous version still serving, and the upgrade's one
    # transaction has rolled back (migrations/env.py).
    try:
        if command == "downgrade":
            migrate.downgrade(settings, credentials, args.revision)
            return 0
        migrate.upgrade_with_retry(settings, credentials)
    except migrate.MigrationLockTimeoutError as exc:
        log.error("migrations failed", extra={"fields": {"event": "migrate_lock_timeout", "reason": str(exc)}})
        return 1
    except (psycopg.Error, sa.exc.SQLAlchemyError, alembic.util.CommandError) as exc:
        log.error(
            "migrations failed", extra={"fields": {"event": "migrate_failed", "reason": str(exc).splitlines()[0][:300]}}
        )
        return 1
    except Exception as exc:
        # A defect in a migration script: keep its traceback, as one JSON line.
        log.error(
            "migrations failed",
            exc_info=True,
            extra={"fields": {"event": "migrate_failed", "reason": str(exc).splitlines()[0][:300] if str(exc) else ""}},
        )
        return 1
    if command == "migrate":
        return 0

    # The same credentials the migrations used: a secret re-read at start is not repeated.
    server = uvicorn.Server(uvicorn_config(settings, credentials))
    # uvicorn re-raises the stop signal after its graceful shutdown; with these handlers in place
    # that re-raise is a no-op, so a drained stop exits 0 instead of "killed by SIGTERM" (143).
    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, _ignore_signal)
    server.run()
    # uvicorn leaves started=False when the lifespan or the bind failed (e.g. port in use).
    return 0 if server.started else 1


def _ignore_signal(_signum: int, _frame: FrameType | None) -> None:
    return


if __name__ == "__main__":
    sys.exit(main())
