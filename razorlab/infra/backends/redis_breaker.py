"""A fleet-wide circuit breaker: one breaker per downstream, its window and state kept in Redis.

Scenario: four gateway processes route payments to one bank. With in-process breakers each
process must see ``minimum_number_of_calls`` failures of its own before it stops calling, and
when the bank recovers each lets its own ``permitted_calls_in_half_open`` probes through: four
times the load the breaker was configured to allow on a bank that is barely back. Keeping the
breaker in Redis makes the fleet behave as one caller: every process's outcomes fill one
window, one process's "open" is every process's "open", and half-open probes are counted
fleet-wide.

Design note
-----------
- **The same state machine as** :class:`~razorlab.infra.breaker.CircuitBreaker`
  (resilience4j's count-based breaker): one Lua script does, inside Redis, exactly the steps the
  in-process breaker does in Python, in the same order — the lazy open → half-open move on
  ``state`` / ``allow`` (not on an outcome or a release, as in-process), the window kept when
  opening and cleared on closing, the failure rate as ``failures / calls`` in IEEE doubles on
  both sides (state written with ``%.17g``, arguments sent as Python's round-trip ``repr``). The
  same outcomes therefore give the same decisions, states and transition times
  (tests/test_infra_redis_breaker.py runs both side by side).
- **One script per operation, so operations never interleave.** Redis runs a script without
  another client's command in between: two processes cannot both take the last half-open
  permit, nor both miss the outcome that opens the breaker.
- **The window** is a Redis list of ``0``/``1`` outcomes capped at ``sliding_window_size``, with
  the failure count kept beside it in the state hash (O(1) per outcome, as resilience4j's ring
  buffer keeps running totals).
- **Time is an argument** (the injected clock), as in the Redis rate limiter: tests stay
  deterministic, and in production the fleet's clocks must agree to well under
  ``wait_duration_in_open_s``.
- **What stays per process:** the call counters (``calls``) and the ``transitions`` log record
  what *this* object did and caused; the shared state is read with ``state``/``snapshot``.
- **No expiry.** Breaker keys are few (one per downstream) and losing a window would forget
  failures, so keys have no TTL; :meth:`RedisCircuitBreaker.clear` deletes them.
- **Simplified:** both keys of a breaker must live on one server (no Redis Cluster hash tags).
- **Unreachable Redis** raises :class:`~razorlab.infra.backends.redis_conn.BackendUnavailable`
  and counts nothing; whether to then call the bank anyway is the caller's policy.
"""

from __future__ import annotations

from typing import Any

from razorlab.clock import Clock
from razorlab.infra.backends.redis_conn import (
    LuaScript,
    connect,
    redis_key,
    sync_client,
    translated,
)
from razorlab.infra.breaker import (
    RESILIENCE4J_DEFAULTS,
    BreakerConfig,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
    Transition,
)

__all__ = ["KEY_PREFIX", "BREAKER_LUA", "RedisCircuitBreaker"]

KEY_PREFIX = "razorlab:breaker"  # + ":<namespace>:state:<key>" (hash), ":window:<key>" (list)

# KEYS[1] state hash {state, opened_at, admitted, probes, probe_failures, failures}
# KEYS[2] window list of '0' / '1' (1 = failed), oldest first
# ARGV: mode ("state" | "peek" | "allow" | "release" | "record"), now, threshold, window size,
#       calls to decide, wait in open, permitted half-open calls, failed (0 | 1)
# Returns {ok, state, opened_at, window calls, window failures, {from, to, rate}...}
BREAKER_LUA = """
local mode = ARGV[1]
local now = tonumber(ARGV[2])
local threshold = tonumber(ARGV[3])
local size = tonumber(ARGV[4])
local decide = tonumber(ARGV[5])
local wait = tonumber(ARGV[6])
local permitted = tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'state', 'opened_at', 'admitted', 'probes',
                     'probe_failures', 'failures')
local state = s[1] or 'closed'
local opened_at = tonumber(s[2] or '0')
local admitted = tonumber(s[3] or '0')
local probes = tonumber(s[4] or '0')
local probe_failures = tonumber(s[5] or '0')
local failures = tonumber(s[6] or '0')
local function f(x) return string.format('%.17g', x) end
local moves = {}
local function move(to, rate)
  table.insert(moves, {state, to, rate and f(rate) or ''})
  state = to
  if to == 'open' then
    opened_at = now
  elseif to == 'half_open' then
    admitted = 0; probes = 0; probe_failures = 0
  else
    redis.call('DEL', KEYS[2]); failures = 0
  end
end
local ok = 1
if (mode == 'state' or mode == 'allow') and state == 'open' and now >= opened_at + wait then
  move('half_open', nil)
end
if mode == 'allow' then
  if state == 'half_open' and admitted < permitted then
    admitted = admitted + 1
  elseif state ~= 'closed' then
    ok = 0
  end
elseif mode == 'release' then
  if state == 'half_open' and admitted > probes then admitted = admitted - 1 end
elseif mode == 'record' then
  local failed = tonumber(ARGV[8])
  if state == 'closed' then
    failures = failures + failed
    if redis.call('RPUSH', KEYS[2], failed) > size then
      failures = failures - tonumber(redis.call('LPOP', KEYS[2]))
    end
    local n = redis.call('LLEN', KEYS[2])
    if n >= decide and failures / n >= threshold then move('open', failures / n) end
  elseif state == 'half_open' then
    probes = probes + 1; probe_failures = probe_failures + failed
    if probes >= permitted then
      local rate = probe_failures / probes
      if rate >= threshold then move('open', rate) else move('closed', rate) end
    end
  end
end
redis.call('HSET', KEYS[1], 'state', state, 'opened_at', f(opened_at), 'admitted', admitted,
           'probes', probes, 'probe_failures', probe_failures, 'failures', failures)
return {ok, state, f(opened_at), redis.call('LLEN', KEYS[2]), failures, moves}
"""


class RedisCircuitBreaker(CircuitBreaker):
    """:class:`CircuitBreaker` whose window and state live in Redis, shared by every process
    that opens a breaker with the same ``key`` and ``namespace`` on ``url``.

    Same ``allow`` / ``reject_if_open`` / ``release`` / ``record_success`` / ``record_failure``
    / ``call`` / ``state`` / ``failure_rate`` / ``retry_after_s`` / ``snapshot``; every
    breaker of one name must use the same ``config``.
    """

    _script = LuaScript(BREAKER_LUA)

    def __init__(
        self,
        key: str,
        clock: Clock,
        url: str | None = None,
        config: BreakerConfig = RESILIENCE4J_DEFAULTS,
        transitions: list[Transition] | None = None,
        *,
        namespace: str = "default",
        client: Any = None,
    ):
        super().__init__(key, clock, config, transitions)
        self.url, self.client, self.prefix = connect(
            url, client, namespace, key_prefix=KEY_PREFIX, make=sync_client
        )
        self._keys = [redis_key(f"{self.prefix}state:", key), f"{self.prefix}window:{key}"]
        self._window_calls = 0
        self._window_failures = 0

    def _run(self, mode: str, failed: bool = False) -> bool:
        """Run one operation in Redis; refresh the cached shared state; log this call's moves."""
        now = float(self.clock.now())
        cfg = self.config
        args = [mode, repr(now), repr(float(cfg.failure_rate_threshold))]
        args += [cfg.sliding_window_size, cfg.calls_to_decide]
        args += [repr(float(cfg.wait_duration_in_open_s)), cfg.permitted_calls_in_half_open]
        args.append(int(failed))
        with translated(self.url):
            ok, state, opened_at, calls, failures, moves = self._script.run(
                self.client, self._keys, args
            )
        self._state, self._opened_at = BreakerState(state), float(opened_at)
        self._window_calls, self._window_failures = int(calls), int(failures)
        for from_state, to_state, rate in moves:
            rate_value = float(rate) if rate else None
            self.transitions.append(Transition(self.key, now, from_state, to_state, rate_value))
        return bool(ok)

    @property
    def state(self) -> BreakerState:
        self._run("state")
        return self._state

    def failure_rate(self) -> float | None:
        """Failure rate of the shared closed-state window, or None until enough calls."""
        self._run("peek")
        if self._window_calls < self.config.calls_to_decide:
            return None
        return self._window_failures / self._window_calls

    def allow(self) -> None:
        """Ask to make one call (a fleet-wide half-open permit if half-open); may raise
        ``CircuitOpen``. Every permitted call must be followed by an outcome or ``release``."""
        if not self._run("allow"):
            state = self._state
            self.calls["rejected"] += 1
            raise CircuitOpen(self.key, self.retry_after_s(), state)

    def release(self) -> None:
        """Give back a half-open permit whose call never happened."""
        self._run("release")

    def _record(self, failed: bool) -> None:
        self._run("record", failed)
        self.calls["failure" if failed else "success"] += 1

    def snapshot(self) -> dict[str, object]:
        """The shared state and window, with this object's call counters."""
        snap = super().snapshot()
        snap["window_calls"] = self._window_calls  # refreshed by failure_rate() just now
        return snap

    def clear(self) -> int:
        """Delete this breaker's shared state (a test or a notebook starting over)."""
        with translated(self.url):
            return self.client.delete(*self._keys)

    def close(self) -> None:
        self.client.close()
