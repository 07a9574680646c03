"""A drill: steady payment traffic to one bank that fails for a while, with a breaker.

Scenario: a bank's UPI switch goes bad for two minutes. Payments keep arriving at a
steady rate; during the outage most bank calls fail (each one after burning a
timeout). With a circuit breaker in front, the gateway stops calling after the failure
rate crosses the threshold, fails fast with a retry time, probes now and then, and
closes again once the bank recovers. The drill counts what reached the bank, what
failed there and what was refused fast, second by second, so a notebook can plot it and
a widget can vary the failure rate and the breaker's thresholds.

Design note: time is a ``ManualClock`` stepped call by call (no real waiting), the bank's
outcomes come from a seeded generator, and every number is reproducible by seed. Calls
are modelled as instant: the drill is about *which* calls happen, not how long they take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.infra.breaker import BreakerConfig, CircuitBreaker, CircuitOpen, Transition
from razorlab.rand import DEFAULT_SEED, rng

__all__ = ["DRILL_CONFIG", "OutageRun", "simulate_outage"]

#: A breaker scaled for a drill of minutes: 20-call window, 15 s open, 5 probes.
DRILL_CONFIG = BreakerConfig(
    failure_rate_threshold=0.5,
    sliding_window_size=20,
    minimum_number_of_calls=20,
    wait_duration_in_open_s=15.0,
    permitted_calls_in_half_open=5,
)


@dataclass(frozen=True)
class OutageRun:
    """Result of one drill; ``per_second`` rows are ready for ``pd.DataFrame``."""

    per_second: list[dict[str, int | str]]  # t, succeeded, failed, rejected, state
    transitions: list[Transition]
    bank_calls: int  # calls that reached the bank
    bank_failures: int  # of those, failed (each one a timeout a customer waited for)
    rejected_fast: int  # refused by the open breaker without calling the bank
    outage: tuple[float, float]
    duration_s: float


def simulate_outage(
    *,
    duration_s: float = 300.0,
    calls_per_s: float = 20.0,
    outage: tuple[float, float] = (60.0, 180.0),
    failure_during: float = 0.9,
    failure_outside: float = 0.02,
    config: BreakerConfig | None = DRILL_CONFIG,
    seed: int = DEFAULT_SEED,
) -> OutageRun:
    """Run the drill; ``config=None`` runs it without a breaker, for comparison."""
    for name, p in (("failure_during", failure_during), ("failure_outside", failure_outside)):
        if not 0 <= p <= 1:
            raise ValidationError(f"{name} must be a probability in [0, 1]", field=name)
    if duration_s <= 0 or calls_per_s <= 0:
        raise ValidationError("duration_s and calls_per_s must be positive", field="duration_s")
    start, end = outage
    if not 0 <= start <= end:
        raise ValidationError("outage must be (start, end) with 0 <= start <= end", field="outage")
    clock = ManualClock(start=0.0)
    breaker = CircuitBreaker("bank", clock, config) if config is not None else None
    n_calls = int(duration_s * calls_per_s)
    times = np.arange(n_calls) / calls_per_s
    p_fail = np.where((times >= start) & (times < end), failure_during, failure_outside)
    fails = rng(seed, "outage.bank").random(n_calls) < p_fail
    seconds = int(np.ceil(duration_s))
    counts = np.zeros((seconds, 3), dtype=np.int64)  # succeeded, failed, rejected
    states = ["closed"] * seconds
    for t, failed in zip(times.tolist(), fails.tolist(), strict=True):
        clock.set(t)
        second = int(t)
        if breaker is not None:
            try:
                breaker.allow()
            except CircuitOpen:
                counts[second, 2] += 1
                states[second] = breaker.state.value
                continue
            breaker.record_failure() if failed else breaker.record_success()
            states[second] = breaker.state.value
        counts[second, 1 if failed else 0] += 1
    per_second = [
        {"t": s, "succeeded": int(ok), "failed": int(bad), "rejected": int(rej), "state": st}
        for s, ((ok, bad, rej), st) in enumerate(zip(counts.tolist(), states, strict=True))
    ]
    return OutageRun(
        per_second=per_second,
        transitions=list(breaker.transitions) if breaker is not None else [],
        bank_calls=int(counts[:, :2].sum()),
        bank_failures=int(counts[:, 1].sum()),
        rejected_fast=int(counts[:, 2].sum()),
        outage=(float(start), float(end)),
        duration_s=float(duration_s),
    )
