"""Connecting to Redis: which server, which client, and one typed error when it is not there.

Scenario: two gateway processes must share one rate limit and one cache, so both talk to the
same Redis. Which Redis is configuration: a URL passed explicitly, else ``RAZORLAB_REDIS_URL``;
with neither, the engines keep their embedded, in-process defaults.

Design note
-----------
- **One error for "the service is not there".** redis-py raises ``ConnectionError`` or
  ``TimeoutError`` (and ``BusyLoadingError`` while a restarted server loads); callers should
  not need to know the client library, so every backend turns them into
  :class:`BackendUnavailable` (a :class:`~razorlab.errors.RazorlabError`, HTTP 503,
  ``SERVER_ERROR`` like Razorpay's own). Nothing is half-done: each operation is one command or
  one Lua script, which Redis runs atomically or not at all.
- **EVALSHA with a fallback.** A script is sent by its SHA1 (a few bytes per call); if the server
  does not know it (restarted, ``SCRIPT FLUSH``), ``NOSCRIPT`` comes back and we send the source
  once with ``EVAL``, which also caches it again. :class:`LuaScript` counts those fallbacks.
- **Short timeouts.** A limiter or a cache that waits seconds for a dead Redis is worse than
  none; connect and socket timeouts default to one second.
- **The client is optional.** ``redis`` (redis-py) comes with ``pip install razorlab[services]``;
  it is imported only when a backend is built, so the embedded engines never need it
  (:func:`import_client`, which the PostgreSQL backend uses for asyncpg too).
- **One way in.** Every Redis backend takes ``url``, ``namespace`` and an optional ``client``;
  :func:`connect` checks them the same way for all, and :func:`translated` wraps their calls.
"""

from __future__ import annotations

import hashlib
import importlib
import os
import re
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

from razorlab.errors import RazorlabError, ValidationError

__all__ = [
    "REDIS_URL_ENV",
    "REDIS_TIMEOUT_S",
    "NAMESPACE_RE",
    "BackendUnavailable",
    "redis_url_from_env",
    "redis_key",
    "sync_client",
    "async_client",
    "unavailable",
    "unavailable_errors",
    "translated",
    "connect",
    "clear_namespace",
    "import_client",
    "LuaScript",
]

REDIS_URL_ENV = "RAZORLAB_REDIS_URL"
REDIS_TIMEOUT_S = 1.0  # seconds to connect, and to wait for one reply
# Namespaces keep limiters, caches and tests apart on one server; no glob or hash-tag
# characters, so ``SCAN MATCH <prefix>*`` finds exactly one namespace's keys.
NAMESPACE_RE = re.compile(r"[A-Za-z0-9_.-]{1,100}")


class BackendUnavailable(RazorlabError):
    """A real service (Redis) could not be reached or answered with an error: retry later."""

    code = "SERVER_ERROR"
    http_status = 503

    def __init__(self, service: str, url: str, cause: BaseException | str):
        super().__init__(f"{service} at {_redact(url)} is unavailable: {cause}", field=None)
        self.service = service
        self.url = _redact(url)


def _redact(url: str) -> str:
    """``redis://user:secret@host`` → ``redis://user:***@host``: errors end up in logs."""
    scheme, sep, rest = url.partition("://")
    creds, at, host = rest.rpartition("@")
    if not at or ":" not in creds:
        return url
    return f"{scheme}{sep}{creds.split(':', 1)[0]}:***@{host}"


def redis_url_from_env() -> str | None:
    """``RAZORLAB_REDIS_URL`` if set (and not blank), else ``None`` (embedded default)."""
    url = os.environ.get(REDIS_URL_ENV, "").strip()
    return url or None


def _check_url(url: str) -> str:
    if not isinstance(url, str) or not url.startswith(("redis://", "rediss://", "unix://")):
        raise ValidationError(
            f"a Redis URL looks like redis://127.0.0.1:6379/0, got {url!r}", field="url"
        )
    return url


def redis_key(prefix: str, key: Hashable) -> str:
    """The Redis key for an engine key: ``str`` and ``int`` only, so two processes agree."""
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise ValidationError(
            f"keys shared through Redis must be str or int, got {type(key).__name__}", field="key"
        )
    if isinstance(key, str) and not key:
        raise ValidationError("key must not be empty", field="key")
    return f"{prefix}{key}"


def import_client(module: str, service: str, name: str) -> Any:
    """The client library ``module`` of ``service``, or :class:`BackendUnavailable` naming it."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:  # pragma: no cover - the test extra installs it
        raise BackendUnavailable(
            service, "(no client)", f"{name} is missing: pip install 'razorlab[services]'"
        ) from exc


def _redis_module() -> Any:
    return import_client("redis", "redis", "the redis client")


def unavailable_errors() -> tuple[type[BaseException], ...]:
    """What a failed Redis call raises: refused, timed out, loading, read-only, out of memory."""
    redis = _redis_module()
    return (redis.exceptions.RedisError, OSError)


def unavailable(url: str, exc: BaseException) -> BackendUnavailable:
    """The typed error for a failed Redis call (use as ``raise unavailable(url, e) from e``)."""
    return BackendUnavailable("redis", url, f"{type(exc).__name__}: {exc}")


@contextmanager
def translated(url: str) -> Iterator[None]:
    """Run the body (sync or async), turning failed Redis calls into :class:`BackendUnavailable`."""
    try:
        yield
    except unavailable_errors() as exc:
        raise unavailable(url, exc) from exc


def connect(
    url: str | None, client: Any, namespace: str, *, key_prefix: str, make: Callable[[str], Any]
) -> tuple[str, Any, str]:
    """A backend's ``(url, client, prefix)`` from its ``url``, ``client`` and ``namespace``.

    ``url`` else ``RAZORLAB_REDIS_URL``; a given ``client`` is used as is, else ``make(url)``
    (:func:`sync_client` or :func:`async_client`) builds one; keys start ``<key_prefix>:<ns>:``.
    """
    url = url or redis_url_from_env()
    if client is None and url is None:
        raise ValidationError(
            "no Redis URL: pass url= or set RAZORLAB_REDIS_URL (`make services`)", field="url"
        )
    if not isinstance(namespace, str) or not NAMESPACE_RE.fullmatch(namespace):
        raise ValidationError(
            f"namespace must be a plain name, got {namespace!r}", field="namespace"
        )
    label = url or "(client)"
    return label, client if client is not None else make(url), f"{key_prefix}:{namespace}:"


async def clear_namespace(client: Any, url: str, prefix: str) -> int:
    """Delete every key under ``prefix`` through an async ``client``; how many."""
    with translated(url):
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        return await client.delete(*keys) if keys else 0


def sync_client(url: str, *, timeout_s: float = REDIS_TIMEOUT_S) -> Any:
    """A blocking redis-py client (for the synchronous rate limiter)."""
    redis = _redis_module()
    return redis.Redis.from_url(
        _check_url(url),
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        decode_responses=True,
    )


def async_client(url: str, *, timeout_s: float = REDIS_TIMEOUT_S) -> Any:
    """A ``redis.asyncio`` client (for the async cache store)."""
    redis = _redis_module()
    return redis.asyncio.Redis.from_url(
        _check_url(url),
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        decode_responses=True,
    )


class LuaScript:
    """A Lua script run with ``EVALSHA``, falling back to ``EVAL`` on ``NOSCRIPT``."""

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self.fallbacks = 0  # calls that had to send the source

    def run(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        """Run on a blocking client."""
        no_script = _redis_module().exceptions.NoScriptError
        try:
            return client.evalsha(self.sha, len(keys), *keys, *args)
        except no_script:
            self.fallbacks += 1
            return client.eval(self.source, len(keys), *keys, *args)

    async def run_async(self, client: Any, keys: list[str], args: list[Any]) -> Any:
        """Run on a ``redis.asyncio`` client."""
        no_script = _redis_module().exceptions.NoScriptError
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except no_script:
            self.fallbacks += 1
            return await client.eval(self.source, len(keys), *keys, *args)
