"""Metrics handle ties honestly, intervals resample incidents; cost thresholds match brute force."""

import itertools

import numpy as np
import pytest

from razorlab.fraud import (
    CostModel,
    Thresholds,
    average_precision,
    bootstrap_auprc,
    choose_thresholds,
    confusion,
    decide,
    pattern_recall,
    percentile_interval,
    roc_auc,
    total_cost,
)
from razorlab.rand import rng


def test_average_precision_of_a_small_known_ranking():
    y = np.array([1, 0, 1, 0, 0])
    score = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert average_precision(y, score) == pytest.approx((1 / 1 + 2 / 3) / 2)


def test_ties_enter_together_so_rule_scores_are_not_flattered():
    y = np.array([1, 0, 0, 0])
    tied = np.array([1.0, 1.0, 1.0, 1.0])
    assert average_precision(y, tied) == pytest.approx(0.25), "all tied: precision = base rate"


def test_roc_auc_equals_the_mann_whitney_probability():
    g = rng(1, "test.metrics")
    y = (g.random(400) < 0.2).astype(int)
    s = np.round(g.normal(size=400) + y, 1)  # rounded, so there are ties
    pos, neg = s[y == 1], s[y == 0]
    u = ((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])).mean()
    assert roc_auc(y, s) == pytest.approx(u)


def test_random_scores_have_auprc_near_the_fraud_rate():
    g = rng(2, "test.metrics")
    y = (g.random(20_000) < 0.01).astype(int)
    assert average_precision(y, g.random(20_000)) < 0.03


def test_cost_thresholds_match_brute_force():
    g = rng(4, "test.costs")
    n = 400
    y = (g.random(n) < 0.05).astype(int)
    score = g.normal(size=n) + 3 * y
    amount = g.integers(100, 2_000_000, n)
    forced = np.where(g.random(n) < 0.03, g.integers(1, 3, n), 0)
    cost = CostModel(review_paise=3_000, false_decline_paise=20_000)
    th, best = choose_thresholds(score, y, amount, forced, cost, candidates=60)
    assert best == total_cost(decide(score, forced, th), y, amount, cost)
    candidates = np.r_[np.unique(np.quantile(score, np.linspace(0.9, 1, 60))), np.inf]
    brute = min(
        total_cost(decide(score, forced, Thresholds(r, d)), y, amount, cost)
        for r, d in itertools.product(candidates, candidates)
        if r <= d
    )
    assert best == brute


def test_confusion_and_pattern_recall():
    decision = np.array(["approve", "review", "decline", "approve"])
    table = confusion(decision, np.array([0, 1, 1, 1]))
    assert table.loc["approve", "fraud"] == 1 and table.loc["decline", "fraud"] == 1
    recall = pattern_recall(np.array(["none", "a", "a", "b"]), decision != "approve")
    assert recall.to_dict() == {"a": 1.0, "b": 0.0}


def _clustered(n_incidents: int, size: int, seed: int):
    """Honest rows and fraud incidents of ``size`` rows each; an incident is caught (scored
    high) or missed (scored like honest rows) as a whole."""
    g = rng(seed, "test.bootstrap")
    honest = g.normal(size=5_000)
    caught = g.random(n_incidents) < 0.5
    fraud = np.repeat(np.where(caught, 4.0, 0.0), size) + g.normal(size=n_incidents * size) / 10
    y = np.r_[np.zeros(len(honest), int), np.ones(len(fraud), int)]
    incident = np.r_[np.full(len(honest), -1), np.repeat(np.arange(n_incidents), size)]
    return y, np.r_[honest, fraud], incident


def test_bootstrap_is_seeded_and_centred_on_the_point_estimate():
    y, score, incident = _clustered(30, 5, seed=1)
    a = bootstrap_auprc(y, score, incident, n_boot=200, seed=3)
    assert len(a) == 200 and np.array_equal(
        a, bootstrap_auprc(y, score, incident, n_boot=200, seed=3)
    )
    lo, hi = percentile_interval(a, 0.95)
    assert lo < average_precision(y, score) < hi
    assert abs(np.mean(a) - average_precision(y, score)) < 0.05


def test_a_perfect_ranking_stays_perfect_in_every_resample():
    y = np.r_[np.zeros(300, int), np.ones(20, int)]
    score = np.r_[np.zeros(300), np.ones(20)]
    assert (bootstrap_auprc(y, score, np.arange(320) // 4, n_boot=50) == 1.0).all()


def test_resampling_incidents_not_rows_widens_the_interval():
    y, score, incident = _clustered(12, 10, seed=2)
    by_incident = percentile_interval(bootstrap_auprc(y, score, incident, n_boot=400))
    by_row = percentile_interval(bootstrap_auprc(y, score, np.arange(len(y)), n_boot=400))
    assert by_incident[1] - by_incident[0] > 1.5 * (by_row[1] - by_row[0])


def test_bootstrap_refuses_no_fraud_and_a_bad_level():
    with pytest.raises(ValueError, match="fraud"):
        bootstrap_auprc(np.zeros(5), np.arange(5.0), np.zeros(5))
    with pytest.raises(ValueError, match="level"):
        percentile_interval([0.1, 0.2], level=1.0)
