"""Infra figures: built from engine state, small, deterministic."""

import plotly.graph_objects as go

from razorlab.clock import ManualClock
from razorlab.infra.breaker import BreakerConfig, BreakerRegistry
from razorlab.infra.latency import PIPELINE_STEPS, LatencyBudget
from razorlab.infra.plots import (
    MAX_POINTS,
    breaker_state_figure,
    fanout_figure,
    keys_moved_figure,
    latency_figure,
    limiter_figure,
    vnodes_figure,
)
from razorlab.infra.ratelimit import RateLimiter
from razorlab.infra.sharding import compare_schemes, imbalance_by_vnodes


def test_breaker_figure_steps_through_states():
    clock = ManualClock()
    registry = BreakerRegistry(clock, BreakerConfig(0.5, 4, 4, 10, 1))
    start = clock.now()
    breaker = registry["bank"]
    for _ in range(4):
        breaker.allow()
        breaker.record_failure()
    clock.advance(10)
    breaker.allow()
    breaker.record_success()
    fig = breaker_state_figure(registry.transitions, start=start, end=start + 20)
    trace = fig.data[0]
    assert list(trace.x) == [0, 0, 10, 10, 20]
    assert list(trace.y) == [0, 2, 1, 0, 0]


def test_limiter_figure_is_thinned_and_marks_rejections():
    clock = ManualClock()
    limiter = RateLimiter(clock, rate_per_s=100, burst=10)
    for _ in range(5_000):
        limiter.try_acquire("m")
        clock.advance(0.005)
    fig = limiter_figure(limiter.history, key="m")
    assert len(fig.data[0].x) <= MAX_POINTS
    assert len(fig.data[1].x) > 0
    assert isinstance(limiter_figure([], key="nobody"), go.Figure)


def test_keys_moved_figure_has_one_trace_per_scheme_plus_ideal():
    fig = keys_moved_figure(compare_schemes(n_keys=2_000, shard_counts=[2, 3, 4]))
    assert [t.name for t in fig.data] == ["modulo", "ring", "jump", "1/(N+1) (minimum)"]


def test_latency_and_fanout_figures_are_deterministic():
    a = latency_figure(LatencyBudget(PIPELINE_STEPS, n=5_000)).to_plotly_json()
    b = latency_figure(LatencyBudget(PIPELINE_STEPS, n=5_000)).to_plotly_json()
    assert a == b
    assert len(fanout_figure(PIPELINE_STEPS[5]).data[0].x) == 7


def test_vnodes_figure_plots_one_point_per_setting():
    fig = vnodes_figure(imbalance_by_vnodes(4, (1, 8), n_keys=2_000))
    assert list(fig.data[0].x) == [1, 8]
