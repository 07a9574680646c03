"""Figures for the gateway notebook: drill outcomes per second, load-test latency.

Infrastructure figures (breaker state, token bucket, sharding, latency budget) live in
:mod:`razorlab.infra.plots`; these two show the whole pipeline at work.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = ["drill_figure", "latency_histogram"]

HISTOGRAM_BINS = 60


def drill_figure(counts: pd.DataFrame, *, outage: tuple[float, float] | None = None) -> go.Figure:
    """Stacked requests per second by outcome (from :func:`razorlab.payments.drill.per_second`)."""
    fig = go.Figure()
    for outcome in counts.columns:
        fig.add_trace(
            go.Bar(x=counts.index.tolist(), y=counts[outcome].tolist(), name=outcome,
                   marker_line_width=0)
        )  # fmt: skip
    if outage is not None:
        fig.add_vrect(x0=outage[0], x1=outage[1], fillcolor="grey", opacity=0.15, line_width=0,
                      annotation_text="bank outage", annotation_position="top left")  # fmt: skip
    fig.update_layout(
        title="What happened to each create-payment request",
        barmode="stack", bargap=0, xaxis_title="time (s)", yaxis_title="requests per second",
    )  # fmt: skip
    return fig


def latency_histogram(latencies_ms: np.ndarray, *, budget_ms: float = 100.0) -> go.Figure:
    """Histogram of measured latencies with p50, p99 and the budget marked."""
    lat = np.asarray(latencies_ms, dtype=float)
    counts, edges = np.histogram(lat, bins=HISTOGRAM_BINS)
    fig = go.Figure(
        go.Bar(x=((edges[:-1] + edges[1:]) / 2).round(3).tolist(), y=counts.tolist(),
               name="requests", marker_line_width=0)
    )  # fmt: skip
    for q, dash in ((50, "dot"), (99, "dash")):
        value = float(np.percentile(lat, q))
        fig.add_vline(x=value, line_dash=dash, annotation_text=f"p{q} {value:.1f} ms")
    if lat.max() >= budget_ms:
        fig.add_vline(x=budget_ms, line_color="red", annotation_text="budget")
    fig.update_layout(
        title="Create-payment latency over HTTP", bargap=0,
        xaxis_title="latency (ms)", yaxis_title="requests",
    )  # fmt: skip
    return fig
