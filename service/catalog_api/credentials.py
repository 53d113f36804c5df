"""Database credentials, and their re-read from Secrets Manager after an authentication failure.

ECS injects DB_USER/DB_PASSWORD once, when a task starts; RDS rotates the master secret every
7 days and ECS never refreshes an injected value ("If the secret is subsequently updated or
rotated, the container will not receive the updated value automatically", ECS developer guide,
"Pass Secrets Manager secrets through Amazon ECS environment variables", read 2026-11-23).
So when PostgreSQL rejects the password, the service reads the secret's current version
itself and retries with it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import asyncpg
import boto3
import psycopg
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from catalog_api.config import Settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

log = logging.getLogger("catalog_api.credentials")

# One re-read per this many seconds at most: a wrong password must not turn every connection
# attempt of every task into a Secrets Manager call (API quotas, cost).
MIN_REFRESH_INTERVAL_S = 10.0


@dataclass(frozen=True)
class DbCredentials:
    """A login role and its password."""

    user: str
    """Role name (the secret's `username`)."""
    password: str = field(repr=False)
    """Its password (the secret's `password`); never printed."""


class CredentialError(RuntimeError):
    """The secret could not be read or has no usable username/password."""


def is_auth_failure(exc: BaseException) -> bool:
    """True for PostgreSQL's invalid_password (SQLSTATE 28P01), also when raised while connecting.

    libpq reports a failed login as a message, without a SQLSTATE, so the text is checked too;
    asyncpg (the reads' pool) raises InvalidPasswordError, which carries it.
    """
    if isinstance(exc, asyncpg.PostgresError):
        return bool(getattr(exc, "sqlstate", None) == "28P01")
    if not isinstance(exc, psycopg.Error):
        return False
    if exc.sqlstate == "28P01":
        return True
    return "password authentication failed" in str(exc)


def parse_secret(secret_string: str) -> DbCredentials:
    """Read the RDS-managed secret's JSON (keys `username`, `password`)."""
    try:
        data: Any = json.loads(secret_string)
    except ValueError as exc:
        raise CredentialError("the database secret is not JSON") from exc
    if not isinstance(data, dict):
        raise CredentialError("the database secret is not a JSON object")
    user, password = data.get("username"), data.get("password")
    if not isinstance(user, str) or not user or not isinstance(password, str) or not password:
        raise CredentialError("the database secret has no string keys 'username' and 'password'")
    return DbCredentials(user=user, password=password)


class SecretsManagerReader:
    """Reads the CURRENT version of one secret with boto3 (credentials from the ECS task role)."""

    def __init__(self, secret_arn: str, region: str | None) -> None:
        self._secret_arn = secret_arn
        self._region = region
        self._client: SecretsManagerClient | None = None
        self._lock = threading.Lock()

    def _get_client(self) -> SecretsManagerClient:
        with self._lock:
            if self._client is None:
                self._client = boto3.client(
                    "secretsmanager",
                    region_name=self._region,
                    # Bounded: a request waiting on the pool must not hang on an AWS call.
                    config=BotoConfig(
                        connect_timeout=3, read_timeout=5, retries={"mode": "standard", "max_attempts": 3}
                    ),
                )
            return self._client

    def read_string(self, what: str = "the database secret") -> str:
        """The secret's current SecretString."""
        try:
            response = self._get_client().get_secret_value(SecretId=self._secret_arn)
        except (BotoCoreError, ClientError) as exc:
            # The exception text names the operation and error code, never the secret's value.
            raise CredentialError(f"reading {what} failed: {exc}") from exc
        secret_string = response.get("SecretString")
        if not secret_string:
            raise CredentialError(f"{what} has no SecretString")
        return secret_string

    def __call__(self) -> DbCredentials:
        return parse_secret(self.read_string())


def resolve_admin_token(settings: Settings) -> Settings:
    """Read the admin token from ADMIN_TOKEN_SECRET_ARN when ADMIN_TOKEN was not given.

    The platform passes the secret's ARN rather than injecting the value, so the ECS execution
    role reads only the database secret (R-11) and the token stays out of the task definition.
    A failed read leaves writes disabled (403) instead of stopping the service.
    """
    if settings.admin_token is not None or settings.admin_token_secret_arn is None:
        return settings
    try:
        token = SecretsManagerReader(settings.admin_token_secret_arn, settings.secret_region).read_string(
            "the admin token secret"
        )
    except CredentialError as exc:
        log.warning("admin token not read; writes stay disabled", extra={"fields": {"reason": str(exc)[:300]}})
        return settings
    return replace(settings, admin_token=token.strip())


class CredentialSource:
    """The credentials new connections use, replaced by a re-read after an authentication failure."""

    def __init__(
        self,
        initial: DbCredentials | None,
        reader: Callable[[], DbCredentials] | None,
        *,
        min_interval_s: float = MIN_REFRESH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._current = initial
        self._reader = reader
        self._min_interval_s = min_interval_s
        self._clock = clock
        self._last_read: float | None = None
        self._async_lock = asyncio.Lock()
        self._sync_lock = threading.Lock()
        self.reads = 0

    @property
    def can_refresh(self) -> bool:
        return self._reader is not None

    def current(self) -> DbCredentials | None:
        return self._current

    def _due(self) -> bool:
        return self._last_read is None or self._clock() - self._last_read >= self._min_interval_s

    def _apply(self, fresh: DbCredentials, failed: DbCredentials | None) -> DbCredentials | None:
        self.reads += 1
        changed = fresh != failed
        self._current = fresh
        log.warning(
            "database credentials re-read from Secrets Manager",
            extra={"fields": {"event": "credentials_reread", "changed": changed, "db_user": fresh.user}},
        )
        return fresh if changed else None

    async def refresh(self, failed: DbCredentials | None) -> DbCredentials | None:
        """After `failed` was rejected: the credentials to retry with, or None if there is nothing new.

        Single-flight: concurrent failures wait for one read and then all use its result.
        """
        if self._reader is None:
            return None
        async with self._async_lock:
            if self._current is not None and self._current != failed:
                return self._current
            if not self._due():
                return None
            self._last_read = self._clock()
            try:
                fresh = await asyncio.to_thread(self._reader)
            except CredentialError as exc:
                log.error(str(exc), extra={"fields": {"event": "credentials_reread_failed"}})
                return None
            return self._apply(fresh, failed)

    def refresh_sync(self, failed: DbCredentials | None) -> DbCredentials | None:
        """The same for the synchronous migration runner, which runs before the event loop starts."""
        if self._reader is None:
            return None
        with self._sync_lock:
            if self._current is not None and self._current != failed:
                return self._current
            if not self._due():
                return None
            self._last_read = self._clock()
            try:
                fresh = self._reader()
            except CredentialError as exc:
                log.error(str(exc), extra={"fields": {"event": "credentials_reread_failed"}})
                return None
            return self._apply(fresh, failed)

    async def ensure(self) -> DbCredentials | None:
        """Credentials for a first connection: the injected ones, else a read of the secret."""
        if self._current is None:
            return await self.refresh(None)
        return self._current

    def ensure_sync(self) -> DbCredentials | None:
        if self._current is None:
            return self.refresh_sync(None)
        return self._current
