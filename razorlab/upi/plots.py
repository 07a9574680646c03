"""Figures for the UPI notebook: state flow, where failures come from, the road to 99.9%.

Each helper takes the engine's output (``network.simulate`` frames, ``UpiTransaction``)
and returns a ``plotly.graph_objects.Figure``; notebooks only call them.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from razorlab.upi.network import FINAL_STATES, FIRST_STATES
from razorlab.upi.switch import UpiTransaction

__all__ = ["state_flow", "failure_breakdown", "success_curve", "transaction_timeline"]


def state_flow(outcomes: pd.DataFrame) -> go.Figure:
    """Sankey: INITIATED → first response → final state, sized by transaction count."""
    labels = ["INITIATED", *[f"{s} (first)" for s in FIRST_STATES],
              *[f"{s} (final)" for s in FINAL_STATES]]  # fmt: skip
    first = outcomes.groupby("first_state", observed=True).size()
    pairs = outcomes.groupby(["first_state", "final_state"], observed=True).size()
    src = [0] * len(first) + [1 + FIRST_STATES.index(f) for f, _ in pairs.index]
    dst = [1 + FIRST_STATES.index(f) for f in first.index]
    dst += [1 + len(FIRST_STATES) + FINAL_STATES.index(t) for _, t in pairs.index]
    values = [int(v) for v in first.to_numpy()] + [int(v) for v in pairs.to_numpy()]
    fig = go.Figure(go.Sankey(node=dict(label=labels, pad=20),
                              link=dict(source=src, target=dst, value=values)))  # fmt: skip
    fig.update_layout(title="UPI state flow: first response → final state")
    return fig


def failure_breakdown(outcomes: pd.DataFrame) -> go.Figure:
    """Horizontal bars: transactions per reason, except plain instant successes."""
    counts = outcomes["reason"].value_counts(sort=False)
    counts = counts[(counts.index != "success") & (counts > 0)].sort_values()
    share = 100 * counts / len(outcomes)
    fig = go.Figure(go.Bar(x=share.to_numpy(), y=list(counts.index), orientation="h",
                           text=[f"{c:,}" for c in counts.to_numpy()]))  # fmt: skip
    fig.update_layout(title="Where the non-instant outcomes come from",
                      xaxis_title="% of all transactions", margin=dict(l=260))  # fmt: skip
    return fig


def success_curve(sweep: pd.DataFrame, target: float = 0.999) -> go.Figure:
    """Technical success rate against a swept parameter, with the target line."""
    x = sweep.columns[0]
    fig = go.Figure(go.Scatter(x=sweep[x], y=100 * sweep["technical"], mode="lines+markers",
                               name="technical success"))  # fmt: skip
    fig.add_hline(y=100 * target, line_dash="dash", annotation_text=f"{target:.1%} target")
    fig.update_layout(title="What it takes to reach the target", xaxis_title=x,
                      yaxis_title="technical success (%)")  # fmt: skip
    return fig


def transaction_timeline(txns: list[UpiTransaction]) -> go.Figure:
    """Each transaction's states over time (log-scaled seconds since initiation)."""
    fig = go.Figure()
    for t in txns:
        start = t.timeline[0].at
        xs = [max(e.at - start, 0.1) for e in t.timeline]
        fig.add_scatter(x=xs, y=[t.id] * len(xs), mode="lines+markers+text", name=t.id,
                        text=[f"{e.state} {e.code}".strip() for e in t.timeline],
                        textposition="top center")  # fmt: skip
    fig.update_layout(title="Transaction timelines", xaxis_type="log",
                      xaxis_title="seconds since initiation (log)", showlegend=False)  # fmt: skip
    return fig
