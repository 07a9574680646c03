"""Circuit breakers per bank / payment method.

Scenario: a bank's UPI switch starts timing out. Without a breaker every payment
routed there waits for its timeout, holds a worker, and the bank gets hammered while it
tries to recover. A breaker watches the failure rate of recent calls and, when it is too
high, *fails fast* for a while (HTTP 503 with a retry time) so callers can fall back to
another route, then lets a few probe calls through to see if the bank is back.

States (as in resilience4j's CircuitBreaker):

- ``closed``: calls pass; outcomes go into a count-based sliding window of the last
  ``sliding_window_size`` calls. Once at least ``minimum_number_of_calls`` are in the
  window and the failure rate is ``>= failure_rate_threshold``, the breaker opens.
- ``open``: calls are rejected with ``CircuitOpen`` until ``wait_duration_in_open_s``
  has passed; then the next call moves it to half-open.
- ``half_open``: only ``permitted_calls_in_half_open`` probe calls are admitted. When all
  of them have finished, their failure rate decides: ``>= threshold`` opens again,
  otherwise the breaker closes with an empty window.

Defaults are resilience4j's (threshold 50%, window 100 calls, minimum 100 calls, 60 s
open, 10 half-open calls). Hystrix used 20 requests, 50%, 5 s sleep over a 10 s rolling
window — the same idea with a time-based window.

Design note: the open → half-open move is *lazy* (decided when a call arrives, from the
injected clock) so a breaker needs no timer task; the state read through ``state`` is
always current. Every transition is recorded with its timestamp and the failure rate
that caused it, for plots.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import TypeVar

from razorlab.clock import Clock
from razorlab.errors import RazorlabError, ValidationError

__all__ = [
    "BreakerState",
    "BreakerConfig",
    "RESILIENCE4J_DEFAULTS",
    "HYSTRIX_LIKE",
    "CircuitOpen",
    "Transition",
    "CircuitBreaker",
    "BreakerRegistry",
]

T = TypeVar("T")
HALF_OPEN_BUSY_RETRY_S = 1.0  # retry hint while all half-open probe slots are in flight


class BreakerState(str, enum.Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class BreakerConfig:
    """Thresholds of one breaker; defaults are resilience4j's CircuitBreakerConfig."""

    failure_rate_threshold: float = 0.5  # fraction of failed calls that opens the breaker
    sliding_window_size: int = 100  # calls remembered in the closed state
    minimum_number_of_calls: int = 100  # calls needed before the rate is trusted
    wait_duration_in_open_s: float = 60.0  # seconds spent open before probing
    permitted_calls_in_half_open: int = 10  # probe calls admitted in half-open

    def __post_init__(self) -> None:
        if not 0 < self.failure_rate_threshold <= 1:
            raise ValidationError(
                "failure_rate_threshold must be in (0, 1]", field="failure_rate_threshold"
            )
        for name in ("sliding_window_size", "minimum_number_of_calls"):
            if getattr(self, name) < 1:
                raise ValidationError(f"{name} must be >= 1", field=name)
        if self.permitted_calls_in_half_open < 1:
            raise ValidationError(
                "permitted_calls_in_half_open must be >= 1", field="permitted_calls_in_half_open"
            )
        if self.wait_duration_in_open_s < 0:
            raise ValidationError(
                "wait_duration_in_open_s must be >= 0", field="wait_duration_in_open_s"
            )

    @property
    def calls_to_decide(self) -> int:
        """Calls in the window before the closed state judges the rate (window caps it)."""
        return min(self.minimum_number_of_calls, self.sliding_window_size)


RESILIENCE4J_DEFAULTS = BreakerConfig()
#: Hystrix's numbers mapped onto a count-based window (20 requests, 50 %, 5 s sleep).
HYSTRIX_LIKE = BreakerConfig(
    failure_rate_threshold=0.5,
    sliding_window_size=20,
    minimum_number_of_calls=20,
    wait_duration_in_open_s=5.0,
    permitted_calls_in_half_open=1,
)


class CircuitOpen(RazorlabError):
    """The breaker for ``key`` is open: fail fast, retry after ``retry_after_s`` (HTTP 503)."""

    code = "SERVICE_UNAVAILABLE"
    http_status = 503

    def __init__(self, key: str, retry_after_s: float, state: BreakerState):
        super().__init__(
            f"{key} is unavailable (circuit {state.value}); retry after {retry_after_s:.1f} s"
        )
        self.key = key
        self.retry_after_s = retry_after_s
        self.state = state


@dataclass(frozen=True)
class Transition:
    key: str
    at: float
    from_state: str
    to_state: str
    failure_rate: float | None  # the rate that triggered it (None for the timed move)


class CircuitBreaker:
    """One breaker (e.g. for ``"hdfc:card"``); use ``BreakerRegistry`` for many keys."""

    def __init__(
        self,
        key: str,
        clock: Clock,
        config: BreakerConfig = RESILIENCE4J_DEFAULTS,
        transitions: list[Transition] | None = None,
    ):
        self.key = key
        self.clock = clock
        self.config = config
        self._state = BreakerState.CLOSED
        self._window: deque[bool] = deque(maxlen=config.sliding_window_size)  # True = failed
        self._opened_at = 0.0
        self._probes_admitted = 0
        self._probe_outcomes: list[bool] = []
        self.transitions = transitions if transitions is not None else []
        self.calls = {"success": 0, "failure": 0, "rejected": 0}

    @property
    def state(self) -> BreakerState:
        if (
            self._state is BreakerState.OPEN
            and self.clock.now() >= self._opened_at + self.config.wait_duration_in_open_s
        ):
            self._move(BreakerState.HALF_OPEN, None)
        return self._state

    def failure_rate(self) -> float | None:
        """Failure rate of the closed-state window, or None until enough calls were seen."""
        if len(self._window) < self.config.calls_to_decide:
            return None
        return sum(self._window) / len(self._window)

    def retry_after_s(self) -> float:
        if self.state is BreakerState.OPEN:
            return self._opened_at + self.config.wait_duration_in_open_s - self.clock.now()
        return HALF_OPEN_BUSY_RETRY_S if self.state is BreakerState.HALF_OPEN else 0.0

    def allow(self) -> None:
        """Ask to make one call; raises ``CircuitOpen`` if it must not happen.

        Every permitted call must be followed by ``record_success`` or ``record_failure``.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return
        if state is BreakerState.HALF_OPEN and (
            self._probes_admitted < self.config.permitted_calls_in_half_open
        ):
            self._probes_admitted += 1
            return
        self.calls["rejected"] += 1
        raise CircuitOpen(self.key, self.retry_after_s(), state)

    def reject_if_open(self) -> None:
        """Fail fast while fully open, without taking a half-open probe slot."""
        if self.state is BreakerState.OPEN:
            self.calls["rejected"] += 1
            raise CircuitOpen(self.key, self.retry_after_s(), BreakerState.OPEN)

    def release(self) -> None:
        """Give back a permission whose call never happened (e.g. a later check refused it).

        Without this, a half-open breaker whose probe slots were taken by calls that never
        reached the bank would wait forever for their outcomes (resilience4j's
        ``releasePermission``).
        """
        if self._state is BreakerState.HALF_OPEN and self._probes_admitted > len(
            self._probe_outcomes
        ):
            self._probes_admitted -= 1

    def record_success(self) -> None:
        self._record(failed=False)

    def record_failure(self) -> None:
        self._record(failed=True)

    async def call(
        self,
        fn: Callable[[], Awaitable[T]],
        *,
        is_failure: Callable[[BaseException], bool] = lambda exc: True,
    ) -> T:
        """Run ``await fn()`` under the breaker; exceptions count as failures by default.

        ``is_failure`` lets a caller not count, say, a card decline (the bank answered
        correctly) against the bank's health — only timeouts and 5xx should trip it.
        """
        self.allow()
        try:
            result = await fn()
        except Exception as exc:
            self._record(failed=is_failure(exc))
            raise
        self.record_success()
        return result

    def snapshot(self) -> dict[str, object]:
        return {
            "key": self.key,
            "state": self.state.value,
            "failure_rate": self.failure_rate(),
            "window_calls": len(self._window),
            **self.calls,
        }

    def _record(self, failed: bool) -> None:
        self.calls["failure" if failed else "success"] += 1
        state = self._state
        if state is BreakerState.CLOSED:
            self._window.append(failed)
            rate = self.failure_rate()
            if rate is not None and rate >= self.config.failure_rate_threshold:
                self._move(BreakerState.OPEN, rate)
        elif state is BreakerState.HALF_OPEN:
            self._probe_outcomes.append(failed)
            if len(self._probe_outcomes) >= self.config.permitted_calls_in_half_open:
                rate = sum(self._probe_outcomes) / len(self._probe_outcomes)
                failed_again = rate >= self.config.failure_rate_threshold
                self._move(BreakerState.OPEN if failed_again else BreakerState.CLOSED, rate)
        # An outcome arriving while open (a call admitted before it opened) changes nothing.

    def _move(self, to: BreakerState, rate: float | None) -> None:
        now = self.clock.now()
        self.transitions.append(Transition(self.key, now, self._state.value, to.value, rate))
        self._state = to
        if to is BreakerState.OPEN:
            self._opened_at = now
        elif to is BreakerState.HALF_OPEN:
            self._probes_admitted = 0
            self._probe_outcomes = []
        else:
            self._window.clear()


class BreakerRegistry:
    """Lazily created breakers per key (bank, method, ``"bank:method"``…), one shared log."""

    def __init__(self, clock: Clock, config: BreakerConfig = RESILIENCE4J_DEFAULTS):
        self.clock = clock
        self.config = config
        self._breakers: dict[str, CircuitBreaker] = {}
        self.transitions: list[Transition] = []

    def get(self, key: str) -> CircuitBreaker:
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = CircuitBreaker(key, self.clock, self.config, self.transitions)
            self._breakers[key] = breaker
        return breaker

    def __getitem__(self, key: str) -> CircuitBreaker:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self._breakers

    async def call(
        self,
        key: str,
        fn: Callable[[], Awaitable[T]],
        *,
        is_failure: Callable[[BaseException], bool] = lambda exc: True,
    ) -> T:
        return await self.get(key).call(fn, is_failure=is_failure)

    def snapshot(self) -> list[dict[str, object]]:
        """One row per breaker: ``pd.DataFrame(registry.snapshot())``."""
        return [b.snapshot() for b in self._breakers.values()]

    def transition_records(self) -> list[dict[str, object]]:
        """Every state change of every breaker, in time order, as plain dicts."""
        return [asdict(t) for t in self.transitions]
