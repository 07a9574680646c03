"""Figures for the fraud notebook: attacks in the data, curves, costs and latency.

Every figure is deterministic for seeded data and keeps at most a couple of thousand
points, so notebooks stay small and nbval can compare them exactly.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from razorlab.fraud.metrics import average_precision, precision_recall_curve
from razorlab.rand import rng

__all__ = [
    "attack_scatter",
    "hourly_mix",
    "pr_curves",
    "cost_surface",
    "latency_histogram",
    "drift_monitor",
    "cadence_auprc",
]

MAX_BACKGROUND = 1_500  # legitimate payments drawn behind the frauds
MAX_CURVE_POINTS = 400
HIST_BINS = 60


def attack_scatter(df: pd.DataFrame, seed: int = 0) -> go.Figure:
    """Amount (log scale) against day, legit sample in grey, each attack in its colour."""
    day = (df["ts"] - df["ts"].min()) / 86_400
    fig = go.Figure()
    legit = np.flatnonzero(df["is_fraud"].to_numpy() == 0)
    pick = np.sort(rng(seed, "fraud.plots").choice(legit, min(MAX_BACKGROUND, len(legit)), False))
    fig.add_scatter(
        x=day.iloc[pick].round(3),
        y=df["amount_paise"].iloc[pick] / 100,
        mode="markers",
        name="legit (sample)",
        marker=dict(color="#c8c8c8", size=4),
    )
    for pattern, part in df[df["is_fraud"] == 1].groupby("pattern"):
        fig.add_scatter(
            x=day[part.index].round(3),
            y=part["amount_paise"] / 100,
            mode="markers",
            name=pattern,
            marker=dict(size=6),
        )
    fig.update_yaxes(type="log", title="amount (₹, log scale)")
    fig.update_xaxes(title="day")
    return fig.update_layout(title="Payments by day and amount: the five attacks")


def hourly_mix(df: pd.DataFrame, hour: pd.Series) -> go.Figure:
    """Share of payments per IST hour, legitimate against fraudulent."""
    fig = go.Figure()
    for label, name in ((0, "legit"), (1, "fraud")):
        counts = hour[df["is_fraud"].to_numpy() == label].value_counts(normalize=True)
        counts = counts.reindex(range(24), fill_value=0.0)
        fig.add_bar(x=list(range(24)), y=counts.round(4).tolist(), name=name)
    fig.update_xaxes(title="hour of day (IST)")
    fig.update_yaxes(title="share of payments", tickformat=".0%")
    return fig.update_layout(title="When payments happen", barmode="group")


def pr_curves(y: np.ndarray, scores: Mapping[str, np.ndarray]) -> go.Figure:
    """Precision-recall curve of every score, AUPRC in the legend; base rate dotted."""
    fig = go.Figure()
    for name, score in scores.items():
        precision, recall, _ = precision_recall_curve(y, score)
        step = max(1, len(recall) // MAX_CURVE_POINTS)
        keep = np.r_[np.arange(0, len(recall), step), len(recall) - 1]
        fig.add_scatter(
            x=recall[keep].round(4),
            y=precision[keep].round(4),
            mode="lines",
            line_shape="hv",
            name=f"{name} (AUPRC {average_precision(y, score):.3f})",
        )
    base = float(np.mean(y))
    fig.add_scatter(
        x=[0, 1], y=[base, base], mode="lines", name="random", line=dict(dash="dot", color="grey")
    )
    fig.update_xaxes(title="recall", range=[0, 1])
    fig.update_yaxes(title="precision", range=[0, 1.02])
    return fig.update_layout(title="Precision-recall on the test period")


def cost_surface(review: np.ndarray, decline: np.ndarray, cost_rupees: np.ndarray) -> go.Figure:
    """Heat map of total cost (₹) over a grid of review x decline thresholds."""
    fig = go.Figure(
        go.Heatmap(
            x=np.round(decline, 2),
            y=np.round(review, 2),
            z=np.round(cost_rupees, 0),
            colorscale="Viridis",
            colorbar=dict(title="₹"),
        )
    )
    fig.update_xaxes(title="decline threshold (log-odds)")
    fig.update_yaxes(title="review threshold (log-odds)")
    return fig.update_layout(title="Total cost by thresholds (lower is better)")


def latency_histogram(latencies_us: np.ndarray) -> go.Figure:
    """Histogram of per-payment scoring latency in microseconds, p50/p99 marked."""
    lat = np.asarray(latencies_us, float)
    p50, p99 = np.percentile(lat, [50, 99])
    counts, edges = np.histogram(np.minimum(lat, np.percentile(lat, 99.9)), bins=HIST_BINS)
    fig = go.Figure(go.Bar(x=np.round((edges[:-1] + edges[1:]) / 2, 1), y=counts, name="payments"))
    for value, name in ((p50, "p50"), (p99, "p99")):
        fig.add_vline(x=value, line_dash="dash", annotation_text=f"{name} {value:.0f} µs")
    fig.update_xaxes(title="latency per payment (µs, capped at p99.9)")
    fig.update_yaxes(title="payments")
    return fig.update_layout(title="score(txn) latency, measured live", bargap=0)


def drift_monitor(
    alert_rates: Mapping[str, pd.Series], score_psi: pd.Series, drift_day: int | None = None
) -> go.Figure:
    """Daily alert rate of each model (left axis) and the score's PSI (right axis)."""
    fig = go.Figure()
    for name, rate in alert_rates.items():
        fig.add_scatter(x=list(rate.index), y=rate.round(4).tolist(), name=f"alert rate, {name}")
    fig.add_scatter(
        x=list(score_psi.index),
        y=score_psi.round(3).tolist(),
        name="PSI of the deployed score",
        yaxis="y2",
        line=dict(dash="dot", color="grey"),
    )
    if drift_day is not None:
        fig.add_vline(x=drift_day, line_dash="dash", annotation_text="drift starts")
    fig.update_xaxes(title="day")
    return fig.update_layout(
        title="Monitoring without labels: alerts and score stability by day",
        yaxis=dict(title="share of payments flagged", tickformat=".0%"),
        yaxis2=dict(title="PSI", overlaying="y", side="right", showgrid=False),
    )


def cadence_auprc(table: pd.DataFrame, drift_week: float | None = None) -> go.Figure:
    """Weekly AUPRC per retraining cadence (``retraining.compare_cadences``' columns)."""
    fig = go.Figure()
    for name in table.columns.drop("frauds"):
        fig.add_scatter(x=list(table.index), y=table[name].round(3).tolist(), name=name)
    if drift_week is not None:
        fig.add_vline(x=drift_week, line_dash="dash", annotation_text="new attack starts")
    fig.update_xaxes(title="week", dtick=1)
    return fig.update_layout(
        title="Test AUPRC week by week: retrained on a schedule, or trained once",
        yaxis=dict(title="AUPRC", range=[0, 1]),
    )
