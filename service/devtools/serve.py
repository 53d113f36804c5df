"""`make serve`: the service on localhost:3000 against a throwaway PostgreSQL with sample products.

Ctrl-C (SIGINT) or SIGTERM stops it in order: the service drains and exits, then the database
is stopped and its files removed.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from types import FrameType

from catalog_api import migrate
from catalog_api.app import build_credentials
from catalog_api.config import load_settings
from devtools import pgserver, seed

PORT = int(os.environ.get("SERVE_PORT", "3000"))


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def main() -> int:
    if not _port_is_free(PORT):
        print(f"serve: port {PORT} is already in use; stop what listens there or set SERVE_PORT", file=sys.stderr)
        return 1
    stop_requested = False

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        nonlocal stop_requested
        stop_requested = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    try:
        db = pgserver.start()
    except pgserver.PostgresUnavailableError as exc:
        print(f"serve: {exc}", file=sys.stderr)
        return 1
    service: subprocess.Popen[bytes] | None = None
    try:
        env = {**db.env(), "PORT": str(PORT), "LOG_LEVEL": "info", "ADMIN_TOKEN": secrets.token_urlsafe(24)}
        settings = load_settings(env)
        migrate.upgrade(settings, build_credentials(settings))
        seed.seed_samples(db.conninfo())
        print(
            f"serve: PostgreSQL {db.bindir.parent.name} on 127.0.0.1:{db.port} (throwaway), {len(seed.SAMPLES)} sample products"
        )
        print(f"serve: service on http://localhost:{PORT}  (try: curl localhost:{PORT}/products)")
        print(f"serve: admin token for writes: {env['ADMIN_TOKEN']}")
        print("serve: Ctrl-C stops the service, then the database", flush=True)
        service = subprocess.Popen(
            [sys.executable, "-m", "catalog_api", "serve"],
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env},
            # Its own session: the terminal's Ctrl-C reaches only this script, which stops things in order.
            start_new_session=True,
        )
        while not stop_requested and service.poll() is None:
            time.sleep(0.2)
        if service.poll() is not None and not stop_requested:
            print(f"serve: the service exited with {service.returncode}", file=sys.stderr)
            return 1
        return 0
    finally:
        if service is not None and service.poll() is None:
            service.send_signal(signal.SIGTERM)
            try:
                service.wait(timeout=40)
            except subprocess.TimeoutExpired:
                service.kill()
                service.wait()
        db.stop()
        print("serve: stopped; the throwaway database is removed", flush=True)


if __name__ == "__main__":
    sys.exit(main())
