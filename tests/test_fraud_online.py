"""Online micro-batches decide exactly as the batch pipeline; the batcher keeps its deadline."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import ManualClock
from razorlab.errors import ValidationError
from razorlab.fraud import (
    FEATURES,
    FraudScorer,
    OutOfOrder,
    SynthConfig,
    batch_features,
    simulate,
    train,
)
from razorlab.fraud.forest import FEW_ROWS, CompiledForest
from razorlab.fraud.online import (
    BatchFeatures,
    DeadlineBatcher,
    OnlineScorer,
    replay,
    stream_columns,
)
from razorlab.fraud.store import FeatureStore
from tests.fraud_support import frame_of, payment_rows

FRESH_SEED = 2028  # not the seed any notebook or default uses


@pytest.fixture(scope="module")
def run():
    return train(simulate(SynthConfig(n_customers=800, days=30, seed=FRESH_SEED)))


def fresh(run) -> FraudScorer:
    s = run.scorer
    return FraudScorer(s.model, s.rules, s.thresholds, FeatureStore(s.store.offline))


def cut(cols: dict, bounds) -> list[dict]:
    return [
        {k: v[a:b] for k, v in cols.items()} for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]


def online_frame(run, part: pd.DataFrame, bounds) -> pd.DataFrame:
    scorer = OnlineScorer(fresh(run))
    rows = [d for b in cut(stream_columns(part), bounds) for d in scorer.decisions(scorer.score(b))]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("n_batches", [1, 7, 400])
def test_online_decisions_equal_the_batch_pipeline(run, n_batches):
    part = run.frame.head(12_000)
    rng = np.random.default_rng(n_batches)
    inner = rng.choice(np.arange(1, len(part)), n_batches - 1, replace=False)
    bounds = np.concatenate([[0], np.sort(inner), [len(part)]])
    online = online_frame(run, part, bounds)
    batch = fresh(run).score_batch(part)
    pd.testing.assert_frame_equal(online, batch, check_exact=True)
    assert (batch["decision"] != "approve").any(), "the stream should include flagged payments"


def test_batches_cut_through_same_second_ties(run):
    part = run.frame.head(6_000)
    ts = stream_columns(part)["ts"]
    ties = np.flatnonzero(ts[1:] == ts[:-1]) + 1  # a cut between two payments of one second
    assert len(ties) > 5
    bounds = np.concatenate([[0], ties[:: max(1, len(ties) // 50)], [len(part)]])
    bounds = np.unique(bounds)
    pd.testing.assert_frame_equal(
        online_frame(run, part, bounds), fresh(run).score_batch(part), check_exact=True
    )


payments = payment_rows(max_gap_s=90, max_size=80)


@settings(max_examples=80, deadline=None)
@given(payments, st.lists(st.integers(1, 79), max_size=6))
def test_online_features_equal_batch_features_on_any_stream_and_any_cuts(rows, cuts):
    frame = frame_of(rows)
    bounds = np.unique([0, *(c for c in cuts if c < len(rows)), len(rows)])
    fx = BatchFeatures()
    online = np.vstack([fx.update(b) for b in cut(stream_columns(frame), bounds)])
    assert online.shape[1] == len(FEATURES)
    assert np.array_equal(online, batch_features(frame).to_numpy())


def test_a_batch_older_than_the_last_is_refused_without_changing_state(run):
    cols = stream_columns(run.frame.head(200))
    fx = BatchFeatures()
    fx.update(cut(cols, [100, 200])[0])
    size, now = fx.size, fx.now
    with pytest.raises(OutOfOrder):
        fx.update(cut(cols, [0, 100])[0])
    shuffled = {k: v[[1, 0]] for k, v in cut(cols, [150, 152])[0].items()}
    with pytest.raises(OutOfOrder):
        BatchFeatures().update(shuffled)
    assert (fx.size, fx.now) == (size, now)


# ----- the deadline batcher, in virtual time -------------------------------------------


def test_batcher_goes_when_full_or_when_the_oldest_has_waited_long_enough():
    b = DeadlineBatcher(max_batch=4, max_wait_s=0.002)
    assert not b.due(0, 0.0, 1.0)
    assert not b.due(3, 0.0, 0.0019)
    assert b.due(3, 0.0, 0.002)
    assert b.due(4, 0.0, 0.0)
    assert b.flush_at(0.5) == 0.502
    with pytest.raises(ValidationError):
        DeadlineBatcher(max_batch=0, max_wait_s=0.001)


def poisson(rate: float, n: int, seed: int) -> np.ndarray:
    return np.cumsum(np.random.default_rng(seed).exponential(1 / rate, n))


def test_an_idle_engine_decides_every_payment_within_the_wait():
    clock, arrivals = ManualClock(start=0.0), poisson(1_000, 2_000, seed=1)
    batches = []
    result = replay(
        lambda lo, hi: batches.append((lo, hi)), arrivals, DeadlineBatcher(64, 0.002), clock
    )
    assert max(hi - lo for lo, hi in batches) <= 64
    assert [lo for lo, _ in batches[1:]] == [hi for _, hi in batches[:-1]]  # in order, no gaps
    assert result.latency_s.max() <= 0.002 + 1e-9
    assert result.latency_s.min() >= 0
    assert np.isclose(result.latency_s.max(), 0.002)  # a lone payment waits the whole deadline


def test_a_busy_engine_queues_but_never_holds_a_full_batch():
    clock, arrivals = ManualClock(start=0.0), poisson(50_000, 20_000, seed=2)
    cost_s = 10e-6  # per payment: 50% busy at this rate
    batches = []

    def process(lo, hi):
        batches.append(hi - lo)
        clock.advance(0.0005 + cost_s * (hi - lo))  # a fixed cost per batch plus per payment

    result = replay(process, arrivals, DeadlineBatcher(256, 0.001), clock)
    assert sum(batches) == len(arrivals) and max(batches) <= 256
    # a payment waits for at most the deadline plus one batch in progress, then its own batch
    bound = 0.001 + 2 * (0.0005 + cost_s * 256)
    assert result.latency_s.max() <= bound
    assert result.sustained_rate == pytest.approx(50_000, rel=0.05)


def test_the_all_trees_kernel_equals_the_model_to_the_bit(run):
    model, X = run.scorer.model, run.features.to_numpy()[:3_000]
    kernel = CompiledForest(model)
    assert np.array_equal(kernel.logit(X), model.logit(X))
    assert np.array_equal(kernel.logit(X[: FEW_ROWS - 1]), model.logit(X[: FEW_ROWS - 1]))
    assert np.array_equal(kernel.contributions(X[:300]), model.contributions(X[:300]))
    assert kernel.contributions(X[:0]).shape == (0, len(model.features))
