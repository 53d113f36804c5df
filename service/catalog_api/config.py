"""Settings, read once at start from the platform contract's variables (see CONTRACT.md).

Nothing else in the service reads the environment, and no setting is ever served back:
the password and the admin token are kept out of `repr()` so that no log line or error
message can carry them.
"""

from __future__ import annotations

import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# The modes in which libpq checks the server's certificate against sslrootcert.
VERIFYING_SSL_MODES = ("verify-ca", "verify-full")
LOG_LEVELS = ("debug", "info", "warning", "error")
# A shorter token is guessable enough that writes stay disabled rather than weakly protected.
ADMIN_TOKEN_MIN_LENGTH = 16
_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@!-]+$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_HOST = re.compile(r"^[A-Za-z0-9.-]{1,253}$|^\[?[0-9A-Fa-f:]+\]?$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


class ConfigError(ValueError):
    """A contract variable is missing or malformed; the message names it and what is allowed."""


@dataclass(frozen=True)
class Settings:
    """The service's whole configuration."""

    port: int = 3000
    """PORT: TCP port on 0.0.0.0 (default 3000)."""
    db_host: str = "localhost"
    """DB_HOST: PostgreSQL host name, the writer: writes and migrations (default localhost)."""
    db_reader_host: str | None = None
    """DB_READER_HOST: host catalog reads go to, e.g. Aurora's reader endpoint (default: none, reads use DB_HOST)."""
    db_port: int = 5432
    """DB_PORT: PostgreSQL port (default 5432)."""
    db_name: str = "catalog"
    """DB_NAME: database name (default catalog)."""
    db_user: str | None = None
    """DB_USER: login role, injected by ECS from the secret's `username` (default: none, read from DB_SECRET_ARN)."""
    db_password: str | None = field(default=None, repr=False)
    """DB_PASSWORD: its password, injected by ECS from the secret's `password` (default: none)."""
    db_secret_arn: str | None = None
    """DB_SECRET_ARN: secret re-read on an authentication failure (default: none, no re-read)."""
    db_sslmode: str = "require"
    """DB_SSLMODE: libpq sslmode (default require, never a silent plaintext fallback; the platform sets verify-full)."""
    db_sslrootcert: str | None = None
    """DB_SSLROOTCERT: PEM file of the CAs that sign the database's certificate (default: none; the image sets its RDS bundle)."""
    aws_region: str | None = None
    """AWS_REGION: region of the Secrets Manager call (default: the region inside DB_SECRET_ARN)."""
    log_level: str = "info"
    """LOG_LEVEL: debug, info, warning or error (default info)."""
    admin_token: str | None = field(default=None, repr=False)
    """ADMIN_TOKEN: bearer token for writes (default: none, writes answer 403)."""
    admin_token_secret_arn: str | None = None
    """ADMIN_TOKEN_SECRET_ARN: secret holding that token, read at start with the task role (default: none)."""

    @property
    def reader_host(self) -> str:
        """Where reads go: DB_READER_HOST, or the writer when it is unset (local runs)."""
        return self.db_reader_host or self.db_host

    @property
    def writes_enabled(self) -> bool:
        return self.admin_token is not None and len(self.admin_token) >= ADMIN_TOKEN_MIN_LENGTH

    @property
    def secret_region(self) -> str | None:
        if self.aws_region:
            return self.aws_region
        for arn in (self.db_secret_arn, self.admin_token_secret_arn):
            match = _SECRET_ARN.match(arn or "")
            if match:
                return match.group(1)
        return None


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"{name} must be an integer from 1 to 65535, got {raw[:20]!r}")
    return int(raw)


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "")
    return value if value.strip() else None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Validate the contract's variables; raise ConfigError naming the first bad one."""
    db_host = environ.get("DB_HOST", "").strip() or "localhost"
    if not _HOST.match(db_host):
        raise ConfigError("DB_HOST must be a host name or IP address")
    db_reader_host = _optional(environ, "DB_READER_HOST")
    if db_reader_host is not None and not _HOST.match(db_reader_host.strip()):
        raise ConfigError("DB_READER_HOST must be a host name or IP address")
    db_name = environ.get("DB_NAME", "").strip() or "catalog"
    if not _IDENT.match(db_name):
        raise ConfigError("DB_NAME must be 1-63 characters: letters, digits, _ $ -, starting with a letter or _")
    db_user = _optional(environ, "DB_USER")
    if db_user is not None and not _IDENT.match(db_user):
        raise ConfigError("DB_USER must be 1-63 characters: letters, digits, _ $ -, starting with a letter or _")
    db_password = _optional(environ, "DB_PASSWORD")
    secret_arn = _optional(environ, "DB_SECRET_ARN")
    if secret_arn is not None and not _SECRET_ARN.match(secret_arn):
        raise ConfigError(
            "DB_SECRET_ARN must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
        )
    if (db_user is None or db_password is None) and secret_arn is None:
        raise ConfigError("DB_USER and DB_PASSWORD must be set, or DB_SECRET_ARN to read them from Secrets Manager")
    # A dropped variable must not fall back to plaintext: `prefer` would, silently.
    sslmode = (environ.get("DB_SSLMODE", "").strip() or "require").lower()
    if sslmode not in SSL_MODES:
        raise ConfigError(f"DB_SSLMODE must be one of {', '.join(SSL_MODES)}")
    rootcert = _rootcert(environ, sslmode)
    region = _optional(environ, "AWS_REGION")
    if region is not None and not _REGION.match(region.strip()):
        raise ConfigError("AWS_REGION must be an AWS region name such as eu-north-1")
    log_level = (environ.get("LOG_LEVEL", "").strip() or "info").lower()
    if log_level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
    token_arn = _optional(environ, "ADMIN_TOKEN_SECRET_ARN")
    if token_arn is not None and not _SECRET_ARN.match(token_arn):
        raise ConfigError(
            "ADMIN_TOKEN_SECRET_ARN must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)"
        )
    return Settings(
        port=_port(environ, "PORT", 3000),
        db_host=db_host,
        db_reader_host=db_reader_host.strip() if db_reader_host else None,
        db_port=_port(environ, "DB_PORT", 5432),
        db_name=db_name,
        db_user=db_user,
        db_password=db_password,
        db_secret_arn=secret_arn,
        db_sslmode=sslmode,
        db_sslrootcert=rootcert,
        aws_region=region.strip() if region else None,
        log_level=log_level,
        admin_token=_optional(environ, "ADMIN_TOKEN"),
        admin_token_secret_arn=token_arn,
    )


def _rootcert(environ: Mapping[str, str], sslmode: str) -> str | None:
    """DB_SSLROOTCERT, checked now: libpq would otherwise fail only at the first connection, with
    a message about ~/.postgresql/root.crt, a file this service never uses."""
    path = _optional(environ, "DB_SSLROOTCERT")
    if path is None:
        if sslmode in VERIFYING_SSL_MODES:
            raise ConfigError(
                f"DB_SSLMODE={sslmode} needs DB_SSLROOTCERT: a PEM file of the CAs that sign the database's certificate"
            )
        return None
    path = path.strip()
    try:
        loaded = ssl.create_default_context(cafile=path).cert_store_stats()["x509_ca"]
    except (OSError, ssl.SSLError, ValueError):
        loaded = 0
    if loaded == 0:
        raise ConfigError("DB_SSLROOTCERT must name a readable PEM file holding at least one CA certificate")
    return path
