"""Fraud scoring online: an open-loop Poisson stream through the deadline micro-batcher.

Issue 20, item 5: the seed's "100K TPS, < 10 ms". A model trained on one world scores
another world's ~1.1M payments with Poisson arrivals at each rate for ``--seconds``
(10 by default), through streaming features → model → rules → decision in one process.
A payment's latency runs from its scheduled arrival to the end of its micro-batch
(review/decline reasons built; an approval carries its score). Two clocks: wall time
on this shared machine (other processes steal the core), and virtual time charged with
the CPU time each batch really took (``time.thread_time``): the latency on a core of
its own. Baselines in the same run: the per-payment ``FraudScorer.score`` path's
capacity, closed-loop batch capacity (mean CPU µs per payment, for fleet sizing), and the
profile that bounds latency: fixed CPU ms per batch and µs per payment.

Usage: ``python benchmarks/fraud_online.py [--seconds 10] [--rates 10000,25000,...]``.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from collections.abc import Sequence

import numpy as np

from razorlab.clock import ManualClock, SystemClock
from razorlab.fraud import (
    FeatureStore,
    FraudScorer,
    SynthConfig,
    cores_needed,
    merchant_risk_snapshots,
    simulate,
    train,
)
from razorlab.fraud.online import (
    DeadlineBatcher,
    OnlineScorer,
    batch_capacity,
    replay,
    stream_columns,
)
from razorlab.fraud.transaction import TXN_FIELDS

TRAIN = SynthConfig(n_customers=1_000, days=30, seed=7)
SERVE = SynthConfig(n_customers=20_000, days=30, seed=8)  # ~1.1M payments
RATES = (10_000, 25_000, 50_000, 100_000)
MAX_BATCH, MAX_WAIT_S = 8_192, 0.002
BASELINE_N = 20_000  # payments through the per-payment score loop
TINY_BATCH = 16  # closed-loop batches this small cost the fixed part almost alone
SLO_S = 0.010
SEED = 20


def _scorer(run, store: FeatureStore) -> FraudScorer:
    s = run.scorer
    return FraudScorer(s.model, s.rules, s.thresholds, store)


def online_run(run, store, cols, rate: float, seconds: float, dedicated: bool) -> dict:
    """Replay ``rate`` x ``seconds`` payments; latency figures in ms.

    ``dedicated``: virtual time (``ManualClock``) charged with the CPU time the engine
    really spent on each batch (``time.thread_time``): the latency this code would have
    on a core of its own. Otherwise wall-clock time on this (shared) machine.
    """
    n = min(int(rate * seconds), len(cols["ts"]))
    arrivals = np.cumsum(np.random.default_rng(SEED).exponential(1 / rate, n))
    online = OnlineScorer(_scorer(run, FeatureStore(store.offline)))
    clock = ManualClock(start=0.0) if dedicated else SystemClock()

    def process(lo: int, hi: int) -> None:
        cpu = time.thread_time()
        batch = online.score({k: v[lo:hi] for k, v in cols.items()})
        online.decisions(batch, np.flatnonzero(batch.level > 0))
        if dedicated:
            clock.advance(time.thread_time() - cpu)

    gc.collect()
    gc.freeze()  # the long-lived world and model are not scanned by every collection
    result = replay(process, arrivals, DeadlineBatcher(MAX_BATCH, MAX_WAIT_S), clock)
    gc.unfreeze()
    p50, p99, p999 = np.percentile(result.latency_s * 1e3, [50, 99, 99.9])
    return {
        "rate": rate,
        "sustained": result.sustained_rate,
        "p50": p50,
        "p99": p99,
        "p999": p999,
        "over": float((result.latency_s > SLO_S).mean()),
        "batch": float(result.batch_sizes.mean()),
        "stages_us": {k: v / 1e3 / n for k, v in online.stage_ns.items()},
    }


def table(rows: list[dict]) -> None:
    print("| offered (payments/s) | sustained | p50 ms | p99 ms | p99.9 ms | > 10 ms |", end="")
    print(" mean batch | µs/payment: features / store / model / rules |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        st = r["stages_us"]
        print(
            f"| {r['rate']:,.0f} | {r['sustained']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} "
            f"| {r['p999']:.2f} | {r['over']:.2%} | {r['batch']:,.0f} "
            f"| {st['features']:.1f} / {st['store']:.1f} / {st['model']:.1f} / {st['rules']:.1f} |"
        )
    ok = [r["rate"] for r in rows if r["p99"] < SLO_S * 1e3]
    print(f"\nlargest offered rate with p99 < 10 ms: {max(ok, default=0):,.0f}/s\n")


def capacity(run, store, cols, batch: int, n: int) -> float:
    """Closed loop: back-to-back batches of ``batch`` payments; payments per CPU second."""
    online = OnlineScorer(_scorer(run, FeatureStore(store.offline)))
    return batch_capacity(online, {k: v[:n] for k, v in cols.items()}, batch)


def main(argv: Sequence[str] = ()) -> None:
    """Run every rate; ``make bench`` calls this with no arguments (the defaults)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--rates", default=",".join(map(str, RATES)))
    args = ap.parse_args(list(argv))
    run = train(simulate(TRAIN))
    world = simulate(SERVE)
    store = FeatureStore(merchant_risk_snapshots(world))
    cols = stream_columns(world)
    print(f"serving {len(world):,} payments; load average {os.getloadavg()[0]:.1f} on ", end="")
    print(f"{os.cpu_count()} cores; batcher: max {MAX_BATCH}, max wait {MAX_WAIT_S * 1e3:g} ms\n")

    records = world[list(TXN_FIELDS)].head(BASELINE_N).to_dict("records")
    scorer = _scorer(run, FeatureStore(store.offline))
    start = time.thread_time()
    for r in records:
        scorer.score(r)
    per_payment = BASELINE_N / (time.thread_time() - start)
    closed = {b: capacity(run, store, cols, b, 200_000) for b in (256, 1_024, 4_096)}
    tiny = capacity(run, store, cols, TINY_BATCH, 8_000)

    rates = [float(r) for r in args.rates.split(",")]
    print("Real time, wall clock, on this shared machine (one process):\n")
    table([online_run(run, store, cols, r, args.seconds, dedicated=False) for r in rates])
    print("Virtual time charged with the engine's CPU time (a core of its own):\n")
    table([online_run(run, store, cols, r, args.seconds, dedicated=True) for r in rates])
    print(f"baseline, per-payment score(txn): {per_payment:,.0f} payments per CPU second")
    for b, rate in closed.items():
        mean_us = 1e6 / rate
        print(
            f"closed loop, batches of {b:,}: {rate:,.0f} payments per CPU second "
            f"({mean_us:.1f} µs mean); 100K/s needs {cores_needed(100_000, mean_us)} cores "
            f"at 70% busy (per-payment path: {cores_needed(100_000, 1e6 / per_payment)})"
        )
    # a batch of b costs F + c*b: c from the largest batches, F what is left at the smallest
    c_us = 1e6 / closed[4_096]
    fixed_ms = (TINY_BATCH * 1e6 / tiny - TINY_BATCH * c_us) / 1e3
    print(f"profile: ~{fixed_ms:.1f} ms fixed per batch + ~{c_us:.1f} µs per payment (CPU)")


if __name__ == "__main__":
    main(sys.argv[1:])
