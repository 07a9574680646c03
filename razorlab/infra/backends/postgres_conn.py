"""Connecting to PostgreSQL: which server, a connection pool, one typed error when it is not there.

Scenario: several settlement workers, each its own process, must write one ledger, so the ledger
lives in a PostgreSQL server rather than in a file owned by one process. Which server is
configuration: a URL passed explicitly, else ``RAZORLAB_DATABASE_URL`` (``make services``
starts one and writes its URL to ``.services/postgres.url``).

Design note
-----------
- **One error for "the service is not there"**, the same :class:`BackendUnavailable` (HTTP 503)
  the Redis backends raise: refused or dropped connections, a server shutting down or starting
  up (SQLSTATE classes 08 and 57), out of connections or disk (53), and client-side timeouts.
  Errors that are the caller's (a constraint, bad SQL) are not translated.
- **A pool, reconnecting by itself.** asyncpg's pool replaces a connection the server closed
  the next time it is acquired, so after a server restart the first call fails with
  :class:`BackendUnavailable` at most once per pooled connection and later calls work again.
- **A schema per ledger.** ``search_path`` is set on every pooled connection, so tests (and
  tenants) can share one database without seeing each other's tables.
- **The client is optional.** ``asyncpg`` comes with ``pip install 'razorlab[services]'`` and
  is imported only when a connection is made.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import BackendUnavailable, import_client

__all__ = [
    "DATABASE_URL_ENV",
    "CONNECT_TIMEOUT_S",
    "SCHEMA_RE",
    "database_url_from_env",
    "required_database_url",
    "closing_on_error",
    "unavailable_errors",
    "retryable_errors",
    "unavailable",
    "translated",
    "create_pool",
    "PooledStore",
]

DATABASE_URL_ENV = "RAZORLAB_DATABASE_URL"
CONNECT_TIMEOUT_S = 2.0  # seconds to open a connection; a dead server should fail fast
# A plain lower-case identifier: usable in SQL without quoting, and never an injection.
SCHEMA_RE = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def database_url_from_env() -> str | None:
    """``RAZORLAB_DATABASE_URL`` if set (and not blank), else ``None``."""
    return os.environ.get(DATABASE_URL_ENV, "").strip() or None


def required_database_url(url: str | None) -> str:
    """``url``, else ``RAZORLAB_DATABASE_URL``; with neither, a typed error naming both."""
    url = url or database_url_from_env()
    if url is None:
        raise ValidationError("no PostgreSQL URL: pass one or set RAZORLAB_DATABASE_URL",
                              field="url")  # fmt: skip
    return url


@asynccontextmanager
async def closing_on_error(pool: Any) -> AsyncIterator[None]:
    """Run a new store's set-up; if it fails, close its pool (no connections left behind)."""
    try:
        yield
    except BaseException:
        await pool.close()
        raise


def _asyncpg() -> Any:
    return import_client("asyncpg", "postgresql", "asyncpg")


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """What a call to an unreachable, restarting or exhausted server raises."""
    exceptions = _asyncpg().exceptions
    return (
        OSError,
        asyncio.TimeoutError,
        exceptions.PostgresConnectionError,  # 08: refused, dropped mid-query
        exceptions.OperatorInterventionError,  # 57: shutting down, starting up, cancelled
        exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    )


def retryable_errors() -> tuple[type[BaseException], ...]:
    """Errors after which a whole transaction may simply run again: a lost race, a deadlock."""
    exceptions = _asyncpg().exceptions
    return (exceptions.UniqueViolationError, exceptions.TransactionRollbackError)


def unavailable(url: str, exc: BaseException) -> BackendUnavailable:
    """The typed error for a failed PostgreSQL call (``raise unavailable(url, e) from e``)."""
    return BackendUnavailable("postgresql", url, f"{type(exc).__name__}: {exc}")


@asynccontextmanager
async def translated(url: str) -> AsyncIterator[None]:
    """Run the body, turning "server not there" errors into :class:`BackendUnavailable`."""
    errors = unavailable_errors()
    try:
        yield
    except errors as exc:
        raise unavailable(url, exc) from exc


def _check(url: str, schema: str) -> None:
    if not isinstance(url, str) or not url.startswith(("postgresql://", "postgres://")):
        raise ValidationError(
            f"a PostgreSQL URL looks like postgresql://user@127.0.0.1:5432/db, got {url!r}",
            field="url",
        )
    if not isinstance(schema, str) or not SCHEMA_RE.fullmatch(schema):
        raise ValidationError(f"schema must match {SCHEMA_RE.pattern}, got {schema!r}",
                              field="schema")  # fmt: skip


async def create_pool(url: str, *, schema: str, size: int = 4) -> Any:
    """An asyncpg pool of up to ``size`` connections whose ``search_path`` is ``schema``."""
    _check(url, schema)
    async with translated(url):
        return await _asyncpg().create_pool(
            url,
            min_size=1,
            max_size=size,
            timeout=CONNECT_TIMEOUT_S,
            server_settings={"search_path": schema},
        )


class PooledStore:
    """What every store on an asyncpg pool shares: connections that raise
    :class:`BackendUnavailable` when the server is gone, and ``close``. Subclasses set
    ``_pool`` (from :func:`create_pool`) and ``url``."""

    _pool: Any
    url: str

    async def close(self) -> None:
        await self._pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        async with translated(self.url), self._pool.acquire() as conn:
            yield conn
