"""Measuring the scorer: per-payment latency, per-stage cost, batch throughput.

Scenario: the seed budgets 10 ms per decision as 2 ms features + 3 ms model + 2 ms
rules + 1 ms combine + 1 ms decide. Budgets are guesses until measured; these helpers
measure the real engine in-process with ``time.perf_counter_ns`` (wall time, so a busy
machine shows up as a fat tail, which is the point of looking at p99).

Sizing: cores come from the *mean* service time, not the median (the mean is what a core
is busy for on average, tail included), at a target utilisation below 100% so that
queueing stays short and a failed zone's traffic fits (the gateway chapter and
``razorlab.ops.capacity`` use the same 70%): cores = TPS x mean service time / utilisation.

Design note: measurements are returned, never asserted; tests check behaviour, not
speed, and notebooks tag the cells that show these numbers as machine-dependent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from razorlab.fraud.scorer import Decision, FraudScorer
from razorlab.fraud.transaction import Transaction

__all__ = ["time_each", "stage_breakdown", "percentiles", "cores_needed", "TARGET_UTILISATION"]

TARGET_UTILISATION = 0.7  # busy share of a core at peak: headroom for queueing and failover


def time_each(
    scorer: FraudScorer, records: Sequence[Mapping[str, object]]
) -> tuple[np.ndarray, list[Decision]]:
    """Score ``records`` one by one; returns (latency per call in µs, decisions)."""
    latencies, decisions = np.empty(len(records)), []
    clock = time.perf_counter_ns
    for i, record in enumerate(records):
        start = clock()
        decisions.append(scorer.score(record))
        latencies[i] = (clock() - start) / 1_000
    return latencies, decisions


def stage_breakdown(scorer: FraudScorer, records: Sequence[Mapping[str, object]]) -> pd.Series:
    """Mean µs per payment of each stage of ``score``, run stage by stage on fresh state."""
    clock = time.perf_counter_ns
    out: dict[str, float] = {}
    start = clock()
    txns = [Transaction.from_dict(r) for r in records]
    out["validate"] = clock() - start
    start = clock()
    rows = [scorer.extractor.extract(t) for t in txns]
    out["streaming features"] = clock() - start
    start = clock()
    for t, x in zip(txns, rows, strict=True):
        scorer.store.materialize(t.ts)
        x.extend(scorer.store.get_online(t.merchant_id))
    out["feature store"] = clock() - start
    start = clock()
    model = [scorer.model.logit_one(x) for x in rows]
    out["model"] = clock() - start
    start = clock()
    fired = [scorer.rules.evaluate(dict(zip(scorer.features, x, strict=True))) for x in rows]
    out["rules"] = clock() - start
    start = clock()
    for m, hits in zip(model, fired, strict=True):
        scorer.thresholds.band(m + sum(f.score for f in hits))
    out["combine + decide"] = clock() - start
    return (pd.Series(out) / 1_000 / len(records)).rename("µs per payment")


def percentiles(latencies_us: np.ndarray) -> pd.Series:
    """p50 / p90 / p99 / p99.9 / max of latencies in µs."""
    q = np.percentile(latencies_us, [50, 90, 99, 99.9, 100])
    return pd.Series(q, index=["p50", "p90", "p99", "p99.9", "max"], name="µs").round(1)


def cores_needed(
    tps: float, mean_service_us: float, utilisation: float = TARGET_UTILISATION
) -> int:
    """Cores to score ``tps`` payments a second when each takes ``mean_service_us`` of CPU.

    Little's law for a core pool: busy cores = arrival rate x mean service time; dividing
    by ``utilisation`` keeps each core that far from saturation. Rounded up.
    """
    if tps < 0 or mean_service_us < 0:
        raise ValueError("tps and mean_service_us must be non-negative")
    if not 0 < utilisation <= 1:
        raise ValueError(f"utilisation must be in (0, 1], got {utilisation!r}")
    return math.ceil(tps * mean_service_us / 1e6 / utilisation - 1e-9)
