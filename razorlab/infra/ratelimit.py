"""Per-merchant rate limiting with token buckets.

Scenario: one merchant's runaway retry loop must not eat the capacity every other
merchant paid for. Each merchant gets a *token bucket*: it holds at most ``burst``
tokens and refills at ``rate`` tokens per second; a request costs tokens and is
admitted only if the bucket has them. Stripe runs exactly this as its first line of
defence, one bucket per user (stripe.com/blog/rate-limiters).

Design note
-----------
- **Invariant:** over any interval of length ``t`` a merchant is admitted at most
  ``burst + rate * t`` tokens' worth of requests. Bursts are allowed (a checkout
  spike), sustained overload is not.
- **Lazy refill:** a bucket stores ``tokens`` and the time it was last touched and
  refills on access, so an idle merchant costs no timer and no CPU.
- **Retry-After:** a refusal says how long until enough tokens exist
  (``(cost - tokens) / rate``), which the HTTP layer sends as ``Retry-After`` with 429.
- **Bounded memory:** a bucket idle for ``burst / rate`` seconds is full again, which is
  exactly the state a brand-new bucket starts in, so dropping it loses nothing. The
  limiter keeps buckets in least-recently-used order and drops such full buckets first;
  only if ``max_keys`` is still exceeded does it drop the least recently used bucket
  anyway (counted in ``lossy_evictions``: that merchant gets at most one extra burst).
- Time comes from an injected clock; every decision is appended to a bounded
  ``history`` the notebook turns into a DataFrame.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import asdict, dataclass

from razorlab.clock import Clock
from razorlab.errors import RazorlabError, ValidationError

__all__ = [
    "DEFAULT_RATE_PER_S",
    "DEFAULT_BURST",
    "RateDecision",
    "RateLimited",
    "TokenBucket",
    "RateLimiter",
]

DEFAULT_RATE_PER_S = 100.0  # tokens per second a merchant earns
DEFAULT_BURST = 200.0  # tokens a full bucket holds (the largest instant spike)
DEFAULT_MAX_KEYS = 100_000  # buckets kept in memory before eviction
HISTORY_MAX = 10_000  # decisions kept for plots (oldest dropped first)


class RateLimited(RazorlabError):
    """The merchant's bucket is empty: retry after ``retry_after_s`` seconds (HTTP 429)."""

    code = "RATE_LIMIT_EXCEEDED"
    http_status = 429

    def __init__(self, key: str, retry_after_s: float):
        super().__init__(
            f"too many requests for {key}; retry after {retry_after_s:.3f} s", field=None
        )
        self.key = key
        self.retry_after_s = retry_after_s

    @property
    def retry_after_header(self) -> str:
        """``Retry-After`` takes whole seconds: round up so a client never retries too early."""
        return str(max(1, math.ceil(self.retry_after_s)))


@dataclass(frozen=True)
class RateDecision:
    """The outcome of one ``try_acquire``."""

    key: str
    at: float  # clock time of the decision
    cost: float
    allowed: bool
    tokens: float  # tokens left after the decision
    retry_after_s: float  # 0 when allowed


@dataclass
class TokenBucket:
    """One merchant's bucket; ``rate`` tokens per second up to ``burst``."""

    rate: float
    burst: float
    tokens: float
    updated_at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.updated_at)
        self.tokens = min(self.burst, self.tokens + elapsed * self.rate)
        self.updated_at = max(self.updated_at, now)

    def is_full_at(self, now: float) -> bool:
        """True if, by ``now``, the bucket has refilled completely (safe to forget)."""
        return self.tokens + max(0.0, now - self.updated_at) * self.rate >= self.burst


def _check_limits(rate: float, burst: float) -> None:
    if not (isinstance(rate, int | float) and math.isfinite(rate) and rate > 0):
        raise ValidationError(f"rate must be a positive number, got {rate!r}", field="rate")
    if not (isinstance(burst, int | float) and math.isfinite(burst) and burst >= 1):
        raise ValidationError(f"burst must be a number >= 1, got {burst!r}", field="burst")


class RateLimiter:
    """Token buckets keyed by merchant id (or any key), with per-key overrides."""

    def __init__(
        self,
        clock: Clock,
        *,
        rate_per_s: float = DEFAULT_RATE_PER_S,
        burst: float = DEFAULT_BURST,
        max_keys: int = DEFAULT_MAX_KEYS,
        history_max: int = HISTORY_MAX,
    ):
        _check_limits(rate_per_s, burst)
        if max_keys < 1:
            raise ValidationError(f"max_keys must be >= 1, got {max_keys}", field="max_keys")
        self.clock = clock
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst)
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._overrides: dict[str, tuple[float, float]] = {}
        self.history: deque[RateDecision] = deque(maxlen=history_max)
        self.admitted = 0
        self.rejected = 0
        self.evictions = 0
        self.lossy_evictions = 0

    def set_limit(self, key: str, *, rate_per_s: float, burst: float) -> None:
        """Give ``key`` its own rate and burst (e.g. a merchant on a higher plan)."""
        _check_limits(rate_per_s, burst)
        self._overrides[key] = (float(rate_per_s), float(burst))
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.refill(self.clock.now())
            bucket.rate, bucket.burst = float(rate_per_s), float(burst)
            bucket.tokens = min(bucket.tokens, bucket.burst)

    def limits(self, key: str) -> tuple[float, float]:
        """``(rate_per_s, burst)`` that apply to ``key``."""
        return self._overrides.get(key, (self.rate_per_s, self.burst))

    def try_acquire(self, key: str, cost: float = 1) -> RateDecision:
        """Take ``cost`` tokens from ``key``'s bucket if it has them; never blocks."""
        rate, burst = self.limits(key)
        if not (isinstance(cost, int | float) and not isinstance(cost, bool) and cost > 0):
            raise ValidationError(f"cost must be a positive number, got {cost!r}", field="cost")
        if cost > burst:
            raise ValidationError(
                f"cost {cost} exceeds the burst {burst} of {key}: it could never be admitted",
                field="cost",
            )
        now = self.clock.now()
        bucket = self._bucket(key, rate, burst, now)
        bucket.refill(now)
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            decision = RateDecision(key, now, float(cost), True, bucket.tokens, 0.0)
            self.admitted += 1
        else:
            wait = (cost - bucket.tokens) / bucket.rate
            decision = RateDecision(key, now, float(cost), False, bucket.tokens, wait)
            self.rejected += 1
        self.history.append(decision)
        return decision

    def acquire(self, key: str, cost: float = 1) -> RateDecision:
        """Like ``try_acquire`` but raises ``RateLimited`` (HTTP 429) on refusal."""
        decision = self.try_acquire(key, cost)
        if not decision.allowed:
            raise RateLimited(key, decision.retry_after_s)
        return decision

    def tokens(self, key: str) -> float:
        """Tokens ``key`` has right now (a fresh key has a full bucket)."""
        bucket = self._buckets.get(key)
        if bucket is None:
            return self.limits(key)[1]
        now = self.clock.now()
        return min(bucket.burst, bucket.tokens + max(0.0, now - bucket.updated_at) * bucket.rate)

    def __len__(self) -> int:
        return len(self._buckets)

    def snapshot(self) -> dict[str, float | int]:
        """Counters for dashboards and notebook tables."""
        return {
            "buckets": len(self._buckets),
            "admitted": self.admitted,
            "rejected": self.rejected,
            "evictions": self.evictions,
            "lossy_evictions": self.lossy_evictions,
        }

    def history_records(self) -> list[dict[str, float | str | bool]]:
        """``history`` as plain dicts: ``pd.DataFrame(limiter.history_records())``."""
        return [asdict(d) for d in self.history]

    def _bucket(self, key: str, rate: float, burst: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is not None:
            self._buckets.move_to_end(key)
            return bucket
        self._evict(now)
        bucket = TokenBucket(rate, burst, burst, now)
        self._buckets[key] = bucket
        return bucket

    def _evict(self, now: float) -> None:
        """Make room for one new bucket: drop full (idle) buckets, then LRU ones if needed."""
        while self._buckets:
            oldest_key, oldest = next(iter(self._buckets.items()))
            if oldest.is_full_at(now):
                self._buckets.popitem(last=False)
                self.evictions += 1
            elif len(self._buckets) >= self.max_keys:
                self._buckets.popitem(last=False)
                self.evictions += 1
                self.lossy_evictions += 1
            else:
                break
