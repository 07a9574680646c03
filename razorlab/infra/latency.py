"""Monte-Carlo latency budget for the payment pipeline.

Scenario: the requirement says "p99 < 100 ms" and a design lists each step with a
latency (validate 1 ms, bank 50 ms, …) and adds them up. That sum answers no useful
question. If the numbers are per-step p99s, their sum is far *above* the end-to-end p99
(all steps being slow on the same request is much rarer than 1 in 100); if they are
typical (median) values, the sum is *below* it. The only honest way to turn per-step
distributions into an end-to-end p99 is to add the distributions, which here means
drawing many requests and adding each request's step times.

Design note
-----------
- Each step is a lognormal fixed by its median and p99 (a common fit for service
  latencies: positive and right-skewed): ``sigma = ln(p99 / median) / z_0.99``.
- Steps are independent by default. ``correlation`` (0..1) mixes a shared normal factor
  into every step of a request — a GC pause or a slow host hurting every step at once.
  At 1 the steps rise and fall together and the end-to-end p99 *equals* the sum of step
  p99s (quantiles add for comonotone variables); real systems sit in between.
- Fan-out: a request that waits for the slowest of ``n`` parallel calls sees
  ``P(max <= x) = F(x)^n``, so its p99 is one call's ``0.99^(1/n)`` quantile — for
  ``n = 100`` that is one call's p99.99 ("The Tail at Scale", Dean & Barroso 2013).
- Vectorised: one ``(n_requests, n_steps)`` matrix of seeded normal draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from statistics import NormalDist

import numpy as np

from razorlab.errors import ValidationError
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "Z99",
    "Step",
    "PIPELINE_STEPS",
    "LatencyReport",
    "LatencyBudget",
    "fanout_quantile",
    "fanout_p99",
]

Z99 = NormalDist().inv_cdf(0.99)  # ≈ 2.326: standard normal 99th percentile
DEFAULT_REQUESTS = 100_000  # simulated requests per budget


@dataclass(frozen=True)
class Step:
    """One pipeline step whose latency is lognormal with the given median and p99 (ms)."""

    name: str
    median_ms: float
    p99_ms: float

    def __post_init__(self) -> None:
        if not (self.median_ms > 0 and math.isfinite(self.median_ms)):
            raise ValidationError(f"{self.name}: median_ms must be > 0", field="median_ms")
        if not (self.p99_ms >= self.median_ms and math.isfinite(self.p99_ms)):
            raise ValidationError(f"{self.name}: p99_ms must be >= median_ms", field="p99_ms")

    @property
    def sigma(self) -> float:
        return math.log(self.p99_ms / self.median_ms) / Z99

    def quantile(self, q: float) -> float:
        """Exact ``q`` quantile of this step's latency in ms."""
        return self.median_ms * math.exp(self.sigma * NormalDist().inv_cdf(q))

    def from_normal(self, z: np.ndarray) -> np.ndarray:
        """Map standard normal draws to latencies (ms)."""
        return self.median_ms * np.exp(self.sigma * z)


def _seed_style_pipeline() -> tuple[Step, ...]:
    """The gateway's ten steps; p99s are the per-step budgets a typical design lists.

    Medians are assumed to be a quarter of each p99 (an explicit modelling choice; the
    notebook lets you change it).
    """
    budget_ms = {
        "validate": 1.0,
        "rate_limit": 1.0,
        "circuit_breaker": 1.0,
        "cache_lookup": 5.0,
        "db_begin": 20.0,
        "bank_call": 50.0,
        "db_update": 10.0,
        "db_commit": 5.0,
        "cache_write": 2.0,
        "notify_enqueue": 1.0,
    }
    return tuple(Step(name, p99 / 4, p99) for name, p99 in budget_ms.items())


PIPELINE_STEPS = _seed_style_pipeline()


@dataclass(frozen=True)
class LatencyReport:
    """End-to-end latency of ``n`` simulated requests, and the naive sums to compare."""

    n: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    mean_ms: float
    sum_of_step_p99_ms: float  # what adding the listed per-step p99s claims
    sum_of_step_median_ms: float


class LatencyBudget:
    """Simulate a serial pipeline of ``steps``: ``LatencyBudget(PIPELINE_STEPS).report()``."""

    def __init__(
        self,
        steps: Sequence[Step] = PIPELINE_STEPS,
        *,
        n: int = DEFAULT_REQUESTS,
        seed: int = DEFAULT_SEED,
        correlation: float = 0.0,
    ):
        if not 0 <= correlation <= 1:
            raise ValidationError(
                f"correlation must be in [0, 1], got {correlation!r}", field="correlation"
            )
        if not steps:
            raise ValidationError("a pipeline needs at least one step", field="steps")
        if n < 100:
            raise ValidationError(f"n must be >= 100 to estimate a p99, got {n}", field="n")
        self.steps = tuple(steps)
        self.n = n
        self.seed = seed
        self.correlation = correlation

    @cached_property
    def samples(self) -> np.ndarray:
        """``(n, len(steps))`` matrix of step latencies in ms, one row per request."""
        gen = rng(self.seed, "latency.pipeline")
        z = gen.standard_normal((self.n, len(self.steps)))
        if self.correlation:
            shared = gen.standard_normal((self.n, 1))
            z = math.sqrt(self.correlation) * shared + math.sqrt(1 - self.correlation) * z
        return np.column_stack([s.from_normal(z[:, i]) for i, s in enumerate(self.steps)])

    @cached_property
    def totals(self) -> np.ndarray:
        """End-to-end latency of each simulated request (ms)."""
        return self.samples.sum(axis=1)

    def report(self) -> LatencyReport:
        p50, p99, p999 = np.percentile(self.totals, [50, 99, 99.9])
        return LatencyReport(
            n=self.n,
            p50_ms=float(p50),
            p99_ms=float(p99),
            p999_ms=float(p999),
            mean_ms=float(self.totals.mean()),
            sum_of_step_p99_ms=sum(s.p99_ms for s in self.steps),
            sum_of_step_median_ms=sum(s.median_ms for s in self.steps),
        )

    def breach_probability(self, budget_ms: float) -> float:
        """Share of requests slower than ``budget_ms`` end to end."""
        return float(np.mean(self.totals > budget_ms))

    def step_table(self) -> list[dict[str, float | str]]:
        """Per step: configured median/p99 and the sampled p99 (a sanity check)."""
        sampled = np.percentile(self.samples, 99, axis=0)
        return [
            {
                "step": s.name,
                "median_ms": s.median_ms,
                "p99_ms": s.p99_ms,
                "sampled_p99_ms": round(float(sampled[i]), 3),
            }
            for i, s in enumerate(self.steps)
        ]


def fanout_quantile(step: Step, n_calls: int, q: float = 0.99) -> float:
    """Exact ``q`` quantile of the slowest of ``n_calls`` independent calls of ``step``."""
    if n_calls < 1:
        raise ValidationError(f"n_calls must be >= 1, got {n_calls}", field="n_calls")
    return step.quantile(q ** (1 / n_calls))


def fanout_p99(step: Step, n_calls: int, *, n: int = 20_000, seed: int = DEFAULT_SEED) -> float:
    """Monte-Carlo p99 of the slowest of ``n_calls`` parallel calls (checks the formula)."""
    if n_calls < 1:
        raise ValidationError(f"n_calls must be >= 1, got {n_calls}", field="n_calls")
    z = rng(seed, f"latency.fanout.{n_calls}").standard_normal((n, n_calls))
    return float(np.percentile(step.from_normal(z.max(axis=1)), 99))
