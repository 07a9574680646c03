"""Fraud scorer: single-payment latency, batch vs per-payment throughput, streaming features.

Baselines run in the same process and minute: a naive per-payment pure-Python
implementation of the *same* model (walk every tree in Python; for logistic regression
the pure-Python ``logit_one``), checked equal to the batch result, and the per-payment
``score`` loop for the whole pipeline. Targets from issue 5: p99 < 1 ms for one
payment in-process; batch model scoring >= 50x the per-payment loop.
"""

from __future__ import annotations

import time

import numpy as np

from razorlab.fraud import (
    FeatureExtractor,
    FeatureStore,
    FraudScorer,
    LogisticRegression,
    SynthConfig,
    Transaction,
    batch_features,
    percentiles,
    simulate,
    time_each,
    train,
)
from razorlab.fraud.transaction import TXN_FIELDS

CONFIG = SynthConfig(n_customers=1_000, days=30, seed=7)
LATENCY_N = 5_000  # payments replayed one at a time for the latency percentiles
NAIVE_N = 5_000  # rows scored by the per-payment pure-Python model loop
REPEATS = 3  # timings keep the best of this many runs


def _rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else float("inf")


def _timed(fn, *args, repeats: int = 1):
    """Result and the best wall time of ``repeats`` runs (the least disturbed by neighbours)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - start)
    return out, best


def naive_logit(model, x: list[float]) -> float:
    """The obvious per-payment implementation: plain Python loops over trees or weights."""
    if isinstance(model, LogisticRegression):
        return model.logit_one(x)
    z = model.base
    for splits, nodes in zip(model.splits, model.nodes, strict=True):
        leaf = 0
        for f, thr in splits:
            leaf = leaf * 2 + (x[f] > thr)
        z += nodes[-1][leaf]
    return z


def main() -> None:
    df = simulate(CONFIG)
    run = train(df)

    def fresh() -> FraudScorer:
        s = run.scorer
        return FraudScorer(s.model, s.rules, s.thresholds, FeatureStore(s.store.offline))

    records = df[list(TXN_FIELDS)].to_dict("records")

    latency, _ = time_each(fresh(), records[:LATENCY_N])
    q = percentiles(latency)

    X = run.features.to_numpy()
    rows = X[:NAIVE_N].tolist()
    rows_out = []
    for model in (run.models["gbt"], run.models["lr"]):
        batch, batch_s = _timed(model.logit, X, repeats=REPEATS)
        naive, naive_s = _timed(lambda m=model: [naive_logit(m, r) for r in rows], repeats=REPEATS)
        assert np.array_equal(np.array(naive), batch[:NAIVE_N]), "same model, same scores"
        rows_out.append((model.kind, _rate(len(X), batch_s), _rate(NAIVE_N, naive_s)))

    _, pipeline_s = _timed(lambda: fresh().score_batch(df), repeats=REPEATS)
    scorer = fresh()
    _, loop_s = _timed(lambda: [scorer.score(r) for r in records[:LATENCY_N]])

    txns = [Transaction.from_dict(r) for r in records]
    extractor = FeatureExtractor()
    _, stream_s = _timed(lambda: [extractor.extract(t) for t in txns])
    _, batchf_s = _timed(batch_features, df, repeats=REPEATS)

    print(f"{len(df):,} payments, {df['is_fraud'].mean():.2%} fraud\n")
    print("| measurement | engine | baseline (same run) | ratio |")
    print("|---|---|---|---|")
    print(
        f"| score(txn) latency p50 / p99 (µs) | {q['p50']:.0f} / {q['p99']:.0f} | target p99 < 1,000 | |"
    )
    for kind, fast, slow in rows_out:
        print(
            f"| {kind}: batch vs per-payment Python (payments/s) | {fast:,.0f} | {slow:,.0f} "
            f"| {fast / slow:,.0f}x |"
        )
    fast, slow = _rate(len(df), pipeline_s), _rate(LATENCY_N, loop_s)
    print(
        f"| full pipeline: score_batch vs score loop (payments/s) | {fast:,.0f} | {slow:,.0f} | {fast / slow:,.1f}x |"
    )
    fast, slow = _rate(len(df), batchf_s), _rate(len(txns), stream_s)
    print(
        f"| features: streaming extract (events/s) vs batch | {slow:,.0f} | {fast:,.0f} (batch) | {slow / fast:.2f}x |"
    )


if __name__ == "__main__":
    main()
