"""A throwaway PostgreSQL server on loopback for the tests, `make serve` and `make bench`.

It runs Debian's server binaries (package `postgresql`) from a temporary directory. initdb
refuses to run as root, so as root every server command runs as the `postgres` OS user.
The cluster imitates Aurora's master user: a login role that is NOT a superuser but has
CREATEROLE and owns the application database, so the migrations are proven to work with
the privileges the platform's master user really has.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

MASTER_USER = "catalog_master"
DATABASE = "catalog"
_SERVER_USER = "postgres"
# Durability is irrelevant for a throwaway cluster; fsync=off keeps the tests fast. A replica
# needs max_connections at least the primary's, so both take these.
_THROWAWAY_OPTIONS = (
    " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    " -c password_encryption=scram-sha-256"
)


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL server binaries are missing or the server did not start."""


def find_bindir() -> Path:
    """Directory with initdb/pg_ctl: $PG_BINDIR, else the newest /usr/lib/postgresql/<major>/bin."""
    explicit = os.environ.get("PG_BINDIR")
    if explicit:
        return Path(explicit)
    candidates = sorted(
        (p for p in Path("/usr/lib/postgresql").glob("*/bin") if (p / "initdb").exists()),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    if candidates:
        return candidates[-1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found: install Debian's package with "
        "`apt-get install -y postgresql` (or set PG_BINDIR to the directory holding initdb)"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running throwaway cluster; `stop()` removes it."""

    root: Path
    """Temporary directory holding the data directory, socket and log (default: a fresh mkdtemp)."""
    port: int
    """TCP port on 127.0.0.1 (default: a free port)."""
    bindir: Path
    """Directory of the server binaries (default: the newest installed major)."""
    superuser_password: str
    """Password of the bootstrap superuser `postgres` (default: random)."""
    master_password: str
    """Password of the Aurora-like master role (default: random)."""
    host: str = "127.0.0.1"
    """Loopback address it listens on (default 127.0.0.1; a replica takes another, on the same port)."""
    _run_as: str | None = field(default=None, repr=False)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        return self.root / "server.log"

    def _cmd(self, args: list[str], *, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            check=check,
            capture_output=True,
            text=True,
            timeout=timeout,
            user=self._run_as,
            group=self._run_as,
            cwd=self.root,
            # Its own session: a Ctrl-C in the terminal must not stop the database before the
            # service has drained; the owner stops it with stop() afterwards.
            start_new_session=True,
        )

    def conninfo(self, *, user: str = MASTER_USER, password: str | None = None, dbname: str = DATABASE) -> str:
        """libpq connection string for this server."""
        if password is None:
            password = self.master_password if user == MASTER_USER else self.superuser_password
        return psycopg.conninfo.make_conninfo(
            host=self.host, port=self.port, user=user, password=password, dbname=dbname, sslmode="disable"
        )

    def admin(self, dbname: str = DATABASE) -> psycopg.Connection[tuple[object, ...]]:
        """Autocommit connection as the bootstrap superuser (for what only a test harness does)."""
        return psycopg.connect(self.conninfo(user=_SERVER_USER, dbname=dbname), autocommit=True)

    def env(self) -> dict[str, str]:
        """The contract's database variables for a service process talking to this server."""
        return {
            "DB_HOST": self.host,
            "DB_PORT": str(self.port),
            "DB_NAME": DATABASE,
            "DB_USER": MASTER_USER,
            "DB_PASSWORD": self.master_password,
            "DB_SSLMODE": "disable",
        }

    def stop(self) -> None:
        """Fast shutdown (disconnects clients), then remove every file of the cluster."""
        if self.datadir.exists():
            self._cmd([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "-w", "stop"], check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def start(*, port: int | None = None, log_statements: bool = False) -> PostgresServer:
    """initdb + start a cluster on 127.0.0.1, create the master role and the `catalog` database."""
    bindir = find_bindir()
    run_as = _SERVER_USER if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="catalog-pg-"))
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(
        root=root,
        port=port or free_port(),
        bindir=bindir,
        superuser_password=secrets.token_urlsafe(18),
        master_password=secrets.token_urlsafe(18),
        _run_as=run_as,
    )
    try:
        pwfile = root / "pwfile"
        pwfile.write_text(server.superuser_password + "\n")
        if run_as:
            os.chown(pwfile, pwd.getpwnam(run_as).pw_uid, -1)
        server._cmd(
            [
                str(bindir / "initdb"),
                "-D",
                str(server.datadir),
                "-U",
                _SERVER_USER,
                "--pwfile",
                str(pwfile),
                "--auth-local=scram-sha-256",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            timeout=120,
        )
        pwfile.unlink()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={server.port} -c unix_socket_directories={root}"
            + _THROWAWAY_OPTIONS
        )
        if log_statements:
            options += " -c log_statement=all"
        server._cmd(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(server.datadir),
                "-l",
                str(server.logfile),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            timeout=90,
        )
        with server.admin(dbname="postgres") as conn:
            # Aurora's master user: CREATEROLE and CREATEDB, member of rds_superuser, never SUPERUSER.
            conn.execute(
                psycopg.sql.SQL("CREATE ROLE {} LOGIN CREATEROLE CREATEDB PASSWORD {}").format(
                    psycopg.sql.Identifier(MASTER_USER), psycopg.sql.Literal(server.master_password)
                )
            )
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    psycopg.sql.Identifier(DATABASE), psycopg.sql.Identifier(MASTER_USER)
                )
            )
    except (subprocess.SubprocessError, OSError, psycopg.Error) as exc:
        detail = ""
        if isinstance(exc, subprocess.CalledProcessError):
            detail = (exc.stderr or exc.stdout or "").strip()
        if not detail and server.logfile.exists():
            detail = server.logfile.read_text()
        last_line = detail.strip().splitlines()[-1] if detail.strip() else ""
        server.stop()
        raise PostgresUnavailableError(f"throwaway PostgreSQL did not start: {exc} {last_line}".strip()) from exc
    return server


def start_replica(primary: PostgresServer, *, host: str = "127.0.0.2") -> PostgresServer:
    """A hot standby of `primary`, streaming its WAL, on `host` and the primary's port.

    Like an Aurora reader: the same databases and roles, read-only, a little behind the writer;
    on its own address and the same port, as the reader endpoint is beside the cluster endpoint.
    """
    root = Path(tempfile.mkdtemp(prefix="catalog-pg-replica-"))
    if primary._run_as:
        entry = pwd.getpwnam(primary._run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    replica = PostgresServer(
        root=root,
        port=primary.port,
        bindir=primary.bindir,
        superuser_password=primary.superuser_password,
        master_password=primary.master_password,
        host=host,
        _run_as=primary._run_as,
    )
    # The password in a passfile, not in the command line that an error message would repeat.
    passfile = root / "pgpass"
    passfile.write_text(f"{primary.host}:{primary.port}:*:{_SERVER_USER}:{primary.superuser_password}\n")
    passfile.chmod(0o600)
    if primary._run_as:
        os.chown(passfile, pwd.getpwnam(primary._run_as).pw_uid, -1)
    source = psycopg.conninfo.make_conninfo(
        host=primary.host, port=primary.port, user=_SERVER_USER, passfile=str(passfile)
    )
    try:
        # -R writes the standby signal and primary_conninfo: the copy starts as a streaming standby.
        # A fast checkpoint: the default spread one makes the copy wait a minute or more.
        replica._cmd(
            [
                str(primary.bindir / "pg_basebackup"),
                "-d",
                source,
                "-D",
                str(replica.datadir),
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",
            ],
            timeout=120,
        )
        options = (
            f"-c listen_addresses={host} -c port={primary.port} -c unix_socket_directories={root} -c hot_standby=on"
            + _THROWAWAY_OPTIONS
        )
        replica._cmd(
            [
                str(primary.bindir / "pg_ctl"),
                *("-D", str(replica.datadir), "-l", str(replica.logfile), "-o", options),
                *("-w", "-t", "60", "start"),
            ],
            timeout=90,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) and exc.stderr else ""
        if replica.logfile.exists():
            detail = " ".join((detail, *replica.logfile.read_text().strip().splitlines()[-1:]))
        replica.stop()
        raise PostgresUnavailableError(
            f"replica of the throwaway PostgreSQL did not start: {exc} {detail}".strip()
        ) from exc
    return replica


@contextlib.contextmanager
def running(*, port: int | None = None) -> Iterator[PostgresServer]:
    """Context manager form of `start()`; the cluster is stopped and removed on exit."""
    server = start(port=port)
    try:
        yield server
    finally:
        server.stop()
