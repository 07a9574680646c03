"""Real-service backends: the same interfaces, state kept in Redis or PostgreSQL.

The engines in :mod:`razorlab.infra` keep their state in one process, which is all a notebook
needs. A fleet of gateway processes needs it shared: one rate limit per merchant across every
process, one L2 cache that no process can poison with a stale fill. These backends keep that
state in Redis (``make services`` starts one on a loopback port) behind the same interfaces:

* :class:`RedisRateLimiter` — :class:`~razorlab.infra.ratelimit.RateLimiter` with its token
  buckets in Redis, one Lua script per decision, bit-for-bit the in-process decisions;
* :class:`RedisL2` — an :class:`~razorlab.infra.cache.L2Store` with versioned (fenced) fills;
* :class:`RedisCircuitBreaker` — :class:`~razorlab.infra.breaker.CircuitBreaker` with one window
  and state per downstream for the whole fleet, the in-process breaker's decisions;
* :func:`rate_limiter` / :func:`l2_store` / :func:`circuit_breaker` — pick the backend by URL (argument, else
  ``RAZORLAB_REDIS_URL``); with neither, the embedded engine, exactly as before.

The double-entry ledger on PostgreSQL is :class:`~razorlab.infra.backends.postgres_ledger.PostgresLedger`
(import it from its module: it needs ``asyncpg``, from the same extra). Payments sharded by
merchant over N PostgreSQL databases, with online merchant moves when a shard is added, are
:class:`ShardedPayments` (``asyncpg`` is imported only when it connects).

An unreachable server raises :class:`BackendUnavailable` (HTTP 503). The ``redis`` client comes
with ``pip install 'razorlab[services]'`` and is imported only when a Redis backend is built.
"""

from __future__ import annotations

from razorlab.clock import Clock
from razorlab.infra.backends.postgres_shards import MerchantMoving, ShardedPayments
from razorlab.infra.backends.redis_breaker import RedisCircuitBreaker
from razorlab.infra.backends.redis_cache import RedisL2
from razorlab.infra.backends.redis_conn import (
    REDIS_URL_ENV,
    BackendUnavailable,
    LuaScript,
    redis_url_from_env,
)
from razorlab.infra.backends.redis_ratelimit import RedisRateLimiter
from razorlab.infra.breaker import RESILIENCE4J_DEFAULTS, BreakerConfig, CircuitBreaker, Transition
from razorlab.infra.cache import InMemoryL2, L2Store
from razorlab.infra.ratelimit import DEFAULT_BURST, DEFAULT_RATE_PER_S, RateLimiter

__all__ = [
    "REDIS_URL_ENV",
    "BackendUnavailable",
    "LuaScript",
    "MerchantMoving",
    "RedisCircuitBreaker",
    "RedisL2",
    "RedisRateLimiter",
    "ShardedPayments",
    "circuit_breaker",
    "l2_store",
    "rate_limiter",
    "redis_url_from_env",
]


def rate_limiter(
    clock: Clock,
    *,
    url: str | None = None,
    rate_per_s: float = DEFAULT_RATE_PER_S,
    burst: float = DEFAULT_BURST,
    namespace: str = "default",
) -> RateLimiter:
    """A Redis-backed limiter if ``url`` (or ``RAZORLAB_REDIS_URL``) is given, else in-process."""
    url = url or redis_url_from_env()
    if url is None:
        return RateLimiter(clock, rate_per_s=rate_per_s, burst=burst)
    return RedisRateLimiter(clock, url, rate_per_s=rate_per_s, burst=burst, namespace=namespace)


def l2_store(clock: Clock, *, url: str | None = None, namespace: str = "default") -> L2Store:
    """A fenced Redis L2 if ``url`` (or ``RAZORLAB_REDIS_URL``) is given, else :class:`InMemoryL2`."""
    url = url or redis_url_from_env()
    if url is None:
        return InMemoryL2(clock)
    return RedisL2(url, namespace=namespace)


def circuit_breaker(
    key: str,
    clock: Clock,
    *,
    url: str | None = None,
    config: BreakerConfig = RESILIENCE4J_DEFAULTS,
    transitions: list[Transition] | None = None,
    namespace: str = "default",
) -> CircuitBreaker:
    """A fleet-wide Redis breaker if ``url`` (or ``RAZORLAB_REDIS_URL``) is given, else in-process."""
    url = url or redis_url_from_env()
    if url is None:
        return CircuitBreaker(key, clock, config, transitions)
    return RedisCircuitBreaker(key, clock, url, config, transitions, namespace=namespace)
