"""A fleet-wide rate limiter: the same token buckets, kept in Redis and shared by every process.

Scenario: with one gateway process, :class:`~razorlab.infra.ratelimit.RateLimiter` holds each
merchant's bucket in memory. With four processes behind a load balancer, four in-memory buckets
admit four times the merchant's limit. The buckets must live in one place all processes see:
Redis. Stripe's limiters run this way, one bucket per user in Redis (stripe.com/blog/rate-limiters).

Design note
-----------
- **One Lua script per decision.** Refill, compare and take happen inside Redis, which runs a
  script without interleaving another client's command, so two processes can never both spend
  the last token (a GET-then-SET from Python could).
- **The same arithmetic as the in-process bucket.** The script does the in-process limiter's
  steps in the same order (lazy refill, ``min(burst, ...)``, take or compute the wait), with
  IEEE doubles on both sides; state is written with ``%.17g`` (Lua's default ``tostring`` keeps
  only 14 digits) and arguments are sent as Python's round-trip ``repr``. So the two limiters
  make bit-for-bit the same decisions on the same arrivals (tests/test_infra_redis_ratelimit.py).
- **Time is an argument.** The script takes "now" from the caller's injected clock rather than
  Redis ``TIME``, so tests and notebooks stay deterministic. In production every process must
  then have a reasonably synchronised clock; a process whose clock lags cannot refill early,
  since refill never runs backwards (``max(updated_at, now)``).
- **Idle buckets expire.** Instead of the in-process LRU, each bucket key gets a TTL (real
  seconds) of at least twice the time to refill completely; a bucket that old is full, which is
  exactly how a new one starts, so expiry loses nothing.
- **Unreachable Redis** raises :class:`~razorlab.infra.backends.redis_conn.BackendUnavailable`
  and counts nothing; whether to fail open (admit) or closed is the caller's policy.
- Per-key overrides (``set_limit``) are configuration held by each process, as in the
  in-process limiter; the bucket stores the rate and burst it was last updated with.
"""

from __future__ import annotations

import math
from typing import Any

from razorlab.clock import Clock
from razorlab.errors import ValidationError
from razorlab.infra.backends.redis_conn import (
    LuaScript,
    connect,
    redis_key,
    sync_client,
    translated,
)
from razorlab.infra.ratelimit import (
    DEFAULT_BURST,
    DEFAULT_RATE_PER_S,
    HISTORY_MAX,
    RateDecision,
    RateLimiter,
    _check_limits,
)

__all__ = ["KEY_PREFIX", "MIN_IDLE_TTL_S", "TOKEN_BUCKET_LUA", "RedisRateLimiter"]

KEY_PREFIX = "razorlab:ratelimit"  # + ":<namespace>:<key>", one hash per bucket
MIN_IDLE_TTL_S = 60.0  # real seconds an idle bucket key lives at least

# KEYS[1] bucket hash {tokens, updated_at, rate, burst}
# ARGV: mode ("take" | "limit"), now, cost, rate, burst, ttl_ms
TOKEN_BUCKET_LUA = """
local mode = ARGV[1]
local now = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated_at', 'rate', 'burst')
local tokens, updated, rate, burst
if state[1] then
  tokens = tonumber(state[1]); updated = tonumber(state[2])
  rate = tonumber(state[3]); burst = tonumber(state[4])
elseif mode == 'limit' then
  return {0, '0', '0'}
else
  rate = tonumber(ARGV[4]); burst = tonumber(ARGV[5]); tokens = burst; updated = now
end
local elapsed = now - updated
if elapsed < 0 then elapsed = 0 end
tokens = math.min(burst, tokens + elapsed * rate)
if now > updated then updated = now end
local allowed, wait = 0, 0
if mode == 'limit' then
  rate = tonumber(ARGV[4]); burst = tonumber(ARGV[5])
  tokens = math.min(tokens, burst)
elseif tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  wait = (cost - tokens) / rate
end
local function f(x) return string.format('%.17g', x) end
redis.call('HSET', KEYS[1], 'tokens', f(tokens), 'updated_at', f(updated),
           'rate', f(rate), 'burst', f(burst))
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return {allowed, f(tokens), f(wait)}
"""


class RedisRateLimiter(RateLimiter):
    """:class:`RateLimiter` whose buckets live in Redis, shared by every process using ``url``.

    Same constructor limits, same ``try_acquire`` / ``acquire`` / ``tokens`` / ``set_limit``,
    same ``history``; ``namespace`` keeps unrelated limiters (or tests) apart on one server.
    """

    _script = LuaScript(TOKEN_BUCKET_LUA)

    def __init__(
        self,
        clock: Clock,
        url: str | None = None,
        *,
        rate_per_s: float = DEFAULT_RATE_PER_S,
        burst: float = DEFAULT_BURST,
        namespace: str = "default",
        history_max: int = HISTORY_MAX,
        client: Any = None,
    ):
        super().__init__(clock, rate_per_s=rate_per_s, burst=burst, history_max=history_max)
        self.url, self.client, self.prefix = connect(
            url, client, namespace, key_prefix=KEY_PREFIX, make=sync_client
        )

    def _call(self, key: str, mode: str, cost: float, rate: float, burst: float) -> list[Any]:
        ttl_ms = math.ceil(1000 * max(MIN_IDLE_TTL_S, 2 * burst / rate))
        args = [mode, repr(float(self.clock.now())), repr(float(cost))]
        args += [repr(float(rate)), repr(float(burst)), ttl_ms]
        with translated(self.url):
            return self._script.run(self.client, [redis_key(self.prefix, key)], args)

    def set_limit(self, key: str, *, rate_per_s: float, burst: float) -> None:
        """Give ``key`` its own rate and burst; an existing bucket is refilled, then clipped."""
        _check_limits(rate_per_s, burst)
        self._call(key, "limit", 0.0, float(rate_per_s), float(burst))
        self._overrides[key] = (float(rate_per_s), float(burst))

    def try_acquire(self, key: str, cost: float = 1) -> RateDecision:
        """Take ``cost`` tokens from ``key``'s shared bucket if it has them; never blocks."""
        rate, burst = self.limits(key)
        if not (isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0):
            raise ValidationError(f"cost must be a positive number, got {cost!r}", field="cost")
        if cost > burst:
            raise ValidationError(
                f"cost {cost} exceeds the burst {burst} of {key}: it could never be admitted",
                field="cost",
            )
        now = self.clock.now()
        allowed, tokens, wait = self._call(key, "take", cost, rate, burst)
        decision = RateDecision(key, now, float(cost), bool(allowed), float(tokens), float(wait))
        if decision.allowed:
            self.admitted += 1
        else:
            self.rejected += 1
        self.history.append(decision)
        return decision

    def tokens(self, key: str) -> float:
        """Tokens ``key``'s shared bucket has right now (a fresh key has a full bucket)."""
        with translated(self.url):
            state = self.client.hmget(
                redis_key(self.prefix, key), "tokens", "updated_at", "rate", "burst"
            )
        if state[0] is None:
            return self.limits(key)[1]
        tokens, updated_at, rate, burst = (float(x) for x in state)
        return min(burst, tokens + max(0.0, self.clock.now() - updated_at) * rate)

    def __len__(self) -> int:
        """Buckets in this namespace on the server (all processes), by ``SCAN``."""
        with translated(self.url):
            return sum(1 for _ in self.client.scan_iter(match=f"{self.prefix}*", count=1000))

    def snapshot(self) -> dict[str, float | int]:
        """Counters of this process's decisions; ``buckets`` counts the shared ones."""
        return {**super().snapshot(), "buckets": len(self)}

    def clear(self) -> int:
        """Delete this namespace's buckets (a test or a notebook starting over); how many."""
        keys = list(self.client.scan_iter(match=f"{self.prefix}*", count=1000))
        return self.client.delete(*keys) if keys else 0

    def close(self) -> None:
        self.client.close()
