"""Outage drill: a breaker turns failing bank calls into fast refusals, then recovers."""

import pytest

from razorlab.errors import ValidationError
from razorlab.infra.outage import simulate_outage
from razorlab.infra.plots import outage_figure


def test_breaker_spares_the_bank_during_an_outage_and_closes_after_it():
    with_breaker = simulate_outage(seed=1)
    without = simulate_outage(seed=1, config=None)
    assert without.rejected_fast == 0 and without.bank_calls == 6_000
    assert with_breaker.bank_failures < without.bank_failures / 4
    assert with_breaker.rejected_fast > 0
    moves = [(t.to_state, t.at) for t in with_breaker.transitions]
    assert moves[0][0] == "open" and 60 <= moves[0][1] < 70, "opens soon after the outage starts"
    assert moves[-1][0] == "closed" and 180 <= moves[-1][1] < 200, "closes soon after it ends"
    assert with_breaker.per_second[-1]["state"] == "closed"


def test_counts_add_up_per_second():
    run = simulate_outage(duration_s=30, calls_per_s=10, outage=(5, 20), seed=2)
    assert len(run.per_second) == 30
    total = sum(r["succeeded"] + r["failed"] + r["rejected"] for r in run.per_second)
    assert total == 300 == run.bank_calls + run.rejected_fast


def test_drill_is_deterministic_by_seed():
    assert simulate_outage(seed=5) == simulate_outage(seed=5)
    assert simulate_outage(seed=5).per_second != simulate_outage(seed=6).per_second


@pytest.mark.parametrize(
    "kwargs",
    [{"failure_during": 1.5}, {"duration_s": 0}, {"outage": (50, 10)}, {"calls_per_s": -1}],
)
def test_bad_drill_parameters_are_rejected(kwargs):
    with pytest.raises(ValidationError):
        simulate_outage(**kwargs)


def test_outage_figure_stacks_three_series():
    fig = outage_figure(simulate_outage(duration_s=20, outage=(5, 10)))
    assert [t.name for t in fig.data] == [
        "succeeded",
        "failed at the bank",
        "refused fast (breaker open)",
    ]
    assert len(fig.data[0].x) == 20
