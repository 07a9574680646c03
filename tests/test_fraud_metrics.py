"""Metrics handle ties honestly; thresholds chosen by cost match a brute-force search."""

import itertools

import numpy as np
import pytest

from razorlab.fraud import (
    CostModel,
    Thresholds,
    average_precision,
    choose_thresholds,
    confusion,
    decide,
    pattern_recall,
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
