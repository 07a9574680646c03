"""Latency budget: the sum of step p99s is not the end-to-end p99; fan-out tails."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.infra.latency import (
    PIPELINE_STEPS,
    Z99,
    LatencyBudget,
    Step,
    fanout_p99,
    fanout_quantile,
)


def test_step_is_lognormal_with_the_given_median_and_p99():
    step = Step("bank", median_ms=20, p99_ms=80)
    assert step.quantile(0.5) == pytest.approx(20)
    assert step.quantile(0.99) == pytest.approx(80)
    assert step.sigma == pytest.approx(math.log(4) / Z99)
    assert Step("fixed", 3, 3).quantile(0.999) == pytest.approx(3)


def test_sampled_step_quantiles_match_the_configuration():
    budget = LatencyBudget(PIPELINE_STEPS, n=100_000, seed=1)
    for row in budget.step_table():
        assert row["sampled_p99_ms"] == pytest.approx(row["p99_ms"], rel=0.05)


def test_end_to_end_p99_lies_between_sum_of_medians_and_sum_of_p99s():
    report = LatencyBudget(PIPELINE_STEPS).report()
    assert report.sum_of_step_p99_ms == 96.0
    assert report.sum_of_step_median_ms < report.p50_ms < report.p99_ms
    assert report.p99_ms < 0.8 * report.sum_of_step_p99_ms, "adding p99s overstates the tail"


def test_fully_correlated_steps_make_the_sum_of_p99s_exact():
    budget = LatencyBudget(PIPELINE_STEPS, seed=4, correlation=1.0)
    report = budget.report()
    assert report.p99_ms == pytest.approx(report.sum_of_step_p99_ms, rel=0.03)
    middle = LatencyBudget(PIPELINE_STEPS, seed=4, correlation=0.5).report().p99_ms
    independent = LatencyBudget(PIPELINE_STEPS, seed=4).report().p99_ms
    assert independent < middle < report.p99_ms


def test_breach_probability_is_the_share_over_budget():
    budget = LatencyBudget(PIPELINE_STEPS, n=10_000)
    report = budget.report()
    assert budget.breach_probability(report.p99_ms) == pytest.approx(0.01, abs=0.001)
    assert budget.breach_probability(1e9) == 0.0
    assert budget.breach_probability(0) == 1.0


def test_one_step_budget_reproduces_that_step():
    step = Step("only", 10, 40)
    report = LatencyBudget([step], n=200_000, seed=3).report()
    assert report.p99_ms == pytest.approx(40, rel=0.03)


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32))
def test_model_is_deterministic_by_seed(seed):
    a = LatencyBudget(PIPELINE_STEPS, n=1_000, seed=seed)
    b = LatencyBudget(PIPELINE_STEPS, n=1_000, seed=seed)
    assert np.array_equal(a.totals, b.totals)
    assert a.report() == b.report()


def test_different_seeds_give_different_draws():
    a = LatencyBudget(PIPELINE_STEPS, n=1_000, seed=1).totals
    b = LatencyBudget(PIPELINE_STEPS, n=1_000, seed=2).totals
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("n_calls", [1, 10, 100])
def test_fanout_monte_carlo_agrees_with_the_closed_form(n_calls):
    step = Step("shard read", 2, 10)
    assert fanout_p99(step, n_calls) == pytest.approx(fanout_quantile(step, n_calls), rel=0.05)


def test_fanout_of_100_calls_has_p99_equal_to_one_calls_p9999():
    step = Step("shard read", 2, 10)
    assert fanout_quantile(step, 100) == pytest.approx(step.quantile(0.99 ** (1 / 100)))
    assert fanout_quantile(step, 100) > 1.5 * step.p99_ms
    assert fanout_quantile(step, 1) == pytest.approx(step.p99_ms)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Step("x", 0, 1),
        lambda: Step("x", 5, 4),
        lambda: Step("x", float("inf"), float("inf")),
        lambda: LatencyBudget([]),
        lambda: LatencyBudget(PIPELINE_STEPS, n=10),
        lambda: LatencyBudget(PIPELINE_STEPS, correlation=1.5),
        lambda: fanout_quantile(Step("x", 1, 2), 0),
        lambda: fanout_p99(Step("x", 1, 2), 0),
    ],
)
def test_bad_inputs_are_rejected(make):
    with pytest.raises(ValidationError):
        make()
