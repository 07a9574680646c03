"""Figures for the gateway's infrastructure: breaker, limiter, sharding, latency.

Every function takes the engines' observable state (transition logs, decision
history, measured stats) and returns a ``plotly.graph_objects.Figure``; notebooks call
them so no plotting code lives in a notebook. Figures are kept small (at most
``MAX_POINTS`` points per trace) so stored notebooks stay light and diff cleanly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, is_dataclass

import numpy as np
import plotly.graph_objects as go

from razorlab.infra.breaker import BreakerState, Transition
from razorlab.infra.latency import LatencyBudget, Step, fanout_quantile
from razorlab.infra.outage import OutageRun
from razorlab.infra.ratelimit import RateDecision
from razorlab.infra.sharding import RebalanceStats

__all__ = [
    "MAX_POINTS",
    "breaker_state_figure",
    "outage_figure",
    "limiter_figure",
    "keys_moved_figure",
    "vnodes_figure",
    "latency_figure",
    "fanout_figure",
]

MAX_POINTS = 2_000  # per trace
_STATE_LEVEL = {BreakerState.CLOSED.value: 0, BreakerState.HALF_OPEN.value: 1, "open": 2}


def _rows(items: Iterable[object]) -> list[dict]:
    return [asdict(i) if is_dataclass(i) else dict(i) for i in items]


def _thin(n: int) -> np.ndarray:
    """Indices of at most MAX_POINTS evenly spread rows out of ``n`` (first and last kept)."""
    if n <= MAX_POINTS:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, MAX_POINTS).round().astype(int))


def breaker_state_figure(
    transitions: Iterable[Transition | dict],
    *,
    start: float,
    end: float,
    keys: Sequence[str] | None = None,
) -> go.Figure:
    """State of each breaker over ``[start, end]`` (clock seconds), as a step line."""
    rows = _rows(transitions)
    keys = list(keys) if keys is not None else sorted({r["key"] for r in rows})
    fig = go.Figure()
    for key in keys:
        mine = [r for r in rows if r["key"] == key]
        times = [0.0] + [r["at"] - start for r in mine] + [end - start]
        states = ["closed"] + [r["to_state"] for r in mine]
        states.append(states[-1])
        fig.add_trace(
            go.Scatter(
                x=times,
                y=[_STATE_LEVEL[s] for s in states],
                mode="lines",
                line_shape="hv",
                name=key,
            )
        )
    fig.update_layout(
        title="Circuit breaker state",
        xaxis_title="time (s)",
        yaxis=dict(tickvals=[0, 1, 2], ticktext=["closed", "half-open", "open"], range=[-0.2, 2.2]),
    )
    return fig


def outage_figure(
    run: OutageRun, *, title: str = "Calls per second during a bank outage"
) -> go.Figure:
    """Stacked calls per second: succeeded, failed at the bank, refused fast; outage shaded."""
    rows = run.per_second
    t = [r["t"] for r in rows]
    fig = go.Figure()
    for column, label in (
        ("succeeded", "succeeded"),
        ("failed", "failed at the bank"),
        ("rejected", "refused fast (breaker open)"),
    ):
        fig.add_trace(go.Bar(x=t, y=[r[column] for r in rows], name=label, marker_line_width=0))
    fig.add_vrect(
        x0=run.outage[0], x1=run.outage[1], fillcolor="grey", opacity=0.15, line_width=0,
        annotation_text="outage", annotation_position="top left",
    )  # fmt: skip
    fig.update_layout(
        title=title, barmode="stack", bargap=0, xaxis_title="time (s)", yaxis_title="calls"
    )
    return fig


def limiter_figure(history: Iterable[RateDecision | dict], *, key: str) -> go.Figure:
    """Tokens left in ``key``'s bucket after each request, rejected requests marked."""
    rows = [r for r in _rows(history) if r["key"] == key]
    if not rows:
        return go.Figure().update_layout(title=f"No requests recorded for {key}")
    t0 = rows[0]["at"]
    t = np.round([r["at"] - t0 for r in rows], 4)  # rounded: small, stable stored JSON
    tokens = np.round([r["tokens"] for r in rows], 3)
    allowed = np.array([r["allowed"] for r in rows])
    keep = _thin(len(rows))
    rejected = np.flatnonzero(~allowed)
    rejected = rejected[_thin(len(rejected))]
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=t[keep], y=tokens[keep], mode="lines", name="tokens left"))
    fig.add_trace(
        go.Scatter(
            x=t[rejected],
            y=tokens[rejected],
            mode="markers",
            marker=dict(symbol="x", size=6),
            name="rejected (429)",
        )
    )
    fig.update_layout(title=f"Token bucket of {key}", xaxis_title="time (s)", yaxis_title="tokens")
    return fig


def keys_moved_figure(stats: Iterable[RebalanceStats]) -> go.Figure:
    """Share of keys moved when going from N to N+1 shards, per scheme, with 1/(N+1)."""
    rows = list(stats)
    fig = go.Figure()
    for scheme in dict.fromkeys(r.scheme for r in rows):
        mine = [r for r in rows if r.scheme == scheme]
        fig.add_trace(
            go.Scatter(
                x=[r.n_before for r in mine],
                y=[round(r.moved_fraction, 5) for r in mine],
                mode="lines+markers",
                name=scheme,
            )
        )
    ideal = sorted({(r.n_before, r.ideal_fraction) for r in rows})
    fig.add_trace(
        go.Scatter(
            x=[n for n, _ in ideal],
            y=[round(f, 5) for _, f in ideal],
            mode="lines",
            line=dict(dash="dash", color="black"),
            name="1/(N+1) (minimum)",
        )
    )
    fig.update_layout(
        title="Keys moved when adding one shard",
        xaxis_title="shards before (N)",
        yaxis_title="fraction of keys moved",
        yaxis_range=[0, 1],
    )
    return fig


def vnodes_figure(rows: Iterable[dict]) -> go.Figure:
    """Load imbalance (busiest / mean) against virtual nodes per shard."""
    rows = list(rows)
    fig = go.Figure(
        go.Scatter(
            x=[r["vnodes"] for r in rows],
            y=[r["imbalance"] for r in rows],
            mode="lines+markers",
            name="busiest / mean",
        )
    )
    fig.add_hline(y=1.0, line_dash="dash", annotation_text="perfect balance")
    fig.update_layout(
        title="Ring balance vs virtual nodes",
        xaxis_title="virtual nodes per shard",
        xaxis_type="log",
        yaxis_title="busiest shard load / mean",
    )
    return fig


def latency_figure(budget: LatencyBudget, *, budget_ms: float = 100.0, bins: int = 80) -> go.Figure:
    """Histogram of end-to-end latency with p50, p99, the sum of step p99s and the budget."""
    report = budget.report()
    top = max(report.p999_ms, report.sum_of_step_p99_ms, budget_ms) * 1.05
    counts, edges = np.histogram(budget.totals, bins=bins, range=(0.0, top))
    centres = (edges[:-1] + edges[1:]) / 2
    fig = go.Figure(
        go.Bar(
            x=np.round(centres, 3),
            y=counts / budget.n,
            name="requests",
            marker_line_width=0,
        )
    )
    marks = {
        "p50": report.p50_ms,
        "p99": report.p99_ms,
        "sum of step p99s": report.sum_of_step_p99_ms,
        "budget": budget_ms,
    }
    for i, (label, x) in enumerate(marks.items()):
        fig.add_vline(
            x=round(x, 3),
            line_dash="dash" if label != "p99" else "solid",
            annotation_text=f"{label} {x:.1f} ms",
            annotation_position="top right" if i % 2 else "top left",
        )
    fig.update_layout(
        title="End-to-end latency (simulated)",
        xaxis_title="latency (ms)",
        yaxis_title="share of requests",
        bargap=0,
        showlegend=False,
    )
    return fig


def fanout_figure(step: Step, fanouts: Sequence[int] = (1, 2, 5, 10, 20, 50, 100)) -> go.Figure:
    """p99 of the slowest of N parallel calls to ``step``, against N."""
    fig = go.Figure(
        go.Scatter(
            x=list(fanouts),
            y=[round(fanout_quantile(step, n), 3) for n in fanouts],
            mode="lines+markers",
            name="p99 of the slowest call",
        )
    )
    fig.add_hline(y=step.p99_ms, line_dash="dash", annotation_text="one call's p99")
    fig.update_layout(
        title=f"Fan-out tail: {step.name}",
        xaxis_title="parallel calls (N)",
        xaxis_type="log",
        yaxis_title="p99 latency (ms)",
    )
    return fig
