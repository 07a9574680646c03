"""The protocol: labels exist for what trains and validates, and the review queue is staffed."""

import itertools

import numpy as np
import pytest

from razorlab.fraud import (
    CostModel,
    SynthConfig,
    Thresholds,
    bootstrap_auprc,
    choose_thresholds,
    decide,
    percentile_interval,
    simulate,
    time_split,
    total_cost,
    train,
)
from razorlab.fraud.boosting import bin_edges
from razorlab.fraud.costs import REVIEW_CAPACITY
from razorlab.fraud.store import LABEL_DELAY_S
from razorlab.rand import rng

FRESH_SEED = 2031  # not the seed any notebook or default uses
DAY_S = 86_400


def _payments(n: int = 500):
    g = rng(5, "test.protocol")
    y = (g.random(n) < 0.05).astype(int)
    score = g.normal(size=n) + 3 * y
    amount = g.integers(100, 2_000_000, n)
    forced = np.where(g.random(n) < 0.004, 1, 0)
    return score, y, amount, forced


def test_validation_ends_a_label_delay_before_the_test_period():
    ts = np.sort(rng(6, "test.protocol.ts").integers(0, 30 * DAY_S, 20_000))
    train_m, valid_m, test_m = time_split(ts)
    assert not (train_m & valid_m).any() and not ((train_m | valid_m) & test_m).any()
    assert ts[train_m].max() < ts[valid_m].min()
    assert ts[test_m].min() - ts[valid_m].max() >= LABEL_DELAY_S
    assert test_m.mean() == pytest.approx(0.2, abs=0.01)
    assert valid_m.sum() / (train_m | valid_m).sum() == pytest.approx(0.25, abs=0.01)


def test_a_split_with_no_labelled_payments_is_refused():
    with pytest.raises(ValueError, match="label delay"):
        time_split(np.arange(0, 5 * DAY_S, 60))


def test_capped_thresholds_are_the_cheapest_within_the_review_capacity():
    score, y, amount, forced = _payments()
    cost = CostModel(review_paise=3_000, false_decline_paise=20_000)
    cap = 0.02
    th, best = choose_thresholds(score, y, amount, forced, cost, candidates=60, max_review_rate=cap)
    decision = decide(score, forced, th)
    assert (decision == 1).mean() <= cap
    assert best == total_cost(decision, y, amount, cost)
    candidates = np.r_[np.unique(np.quantile(score, np.linspace(0.9, 1, 60))), np.inf]
    allowed = []
    for r, d in itertools.product(candidates, candidates):
        dec = decide(score, forced, Thresholds(r, d))
        if r <= d and (dec == 1).mean() <= cap:
            allowed.append(total_cost(dec, y, amount, cost))
    assert best == min(allowed)
    _, uncapped = choose_thresholds(score, y, amount, forced, cost, candidates=60)
    assert uncapped <= best


def test_a_capacity_the_rules_alone_exceed_is_an_error():
    score, y, amount, _ = _payments()
    forced = np.ones(len(score), int)  # every payment forced to review
    forced[np.argsort(score)[-10:]] = 0
    with pytest.raises(ValueError, match="reviews within"):
        choose_thresholds(score, y, amount, forced, max_review_rate=0.001)
    with pytest.raises(ValueError, match="share of payments"):
        choose_thresholds(score, y, amount, forced, max_review_rate=1.5)


@pytest.fixture(scope="module")
def run():
    return train(simulate(SynthConfig(n_customers=800, days=30, seed=FRESH_SEED)))


def test_train_defaults_respect_the_label_delay_and_the_review_capacity(run):
    ts = run.frame["ts"].to_numpy()
    labelled = run.masks["train"] | run.masks["valid"]
    assert ts[run.masks["test"]].min() - ts[labelled].max() >= LABEL_DELAY_S
    valid = run.masks["valid"]
    score = run.scores["gbt+rules"].to_numpy()[valid]
    decision = decide(score, run.forced[valid], run.thresholds)
    assert (decision == 1).mean() <= REVIEW_CAPACITY


def test_bins_give_small_counts_their_own_value_and_see_the_fraud_tail():
    g = rng(7, "test.bins")
    counts = g.integers(1, 9, 5_000).astype(float)
    y = np.zeros(5_000, int)
    assert list(bin_edges(counts, y)) == [1, 2, 3, 4, 5, 6, 7]
    amount = g.lognormal(11, 1, 5_000)  # legitimate: mostly ₹100s and up, in paise
    amount[:40] = g.integers(100, 1_000, 40)  # fraud: ₹1–₹10
    y[:40] = 1
    edges = bin_edges(amount, y)
    assert len(edges) < 128 and (edges < 1_000).sum() >= 8
    assert (bin_edges(amount, y, label_bins=0) < 1_000).sum() <= 2


def test_averaging_seeds_replicates_narrows_the_interval_of_one_seed():
    """Several worlds, each resampled by incident, averaged: the interval the benchmark quotes."""
    widths, replicates = [], []
    for seed in (1, 2, 3, 4):
        g = rng(seed, "test.protocol.seeds")
        n_inc = 25
        caught = g.random(n_inc) < 0.6
        size = g.integers(1, 12, n_inc)
        fraud = np.repeat(np.where(caught, 3.0, 0.0), size) + g.normal(size=size.sum()) / 5
        score = np.r_[g.normal(size=4_000), fraud]
        y = np.r_[np.zeros(4_000, int), np.ones(size.sum(), int)]
        incident = np.r_[np.full(4_000, -1), np.repeat(np.arange(n_inc), size)]
        boot = bootstrap_auprc(y, score, incident, n_boot=300, seed=seed)
        lo, hi = percentile_interval(boot, 0.9)
        widths.append(hi - lo)
        replicates.append(boot)
    lo, hi = percentile_interval(np.mean(replicates, axis=0), 0.9)
    assert hi - lo < min(widths)
