"""Figures for the timelines chapter: audience skew, cost curves, strategies, reads on Redis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from razorlab.social.timelines.workload import Workload

__all__ = ["follower_distribution", "threshold_cost_curves", "strategy_costs", "redis_read_costs"]


def follower_distribution(workload: Workload) -> go.Figure:
    """Log-log histogram of follower counts: a few accounts dwarf everyone else."""
    counts = workload.follower_counts
    edges = np.unique(np.logspace(0, np.log10(counts.max() + 1), 30).astype(int))
    hist, _ = np.histogram(counts, bins=edges)
    fig = go.Figure(go.Scatter(x=edges[:-1], y=hist, mode="markers+lines", name="users"))
    fig.update_xaxes(type="log", title="followers")
    fig.update_yaxes(type="log", title="users with that many")
    return fig.update_layout(title="Who has how many followers")


def threshold_cost_curves(costs: pd.DataFrame, marker: int | None = None) -> go.Figure:
    """Writes per post and lists merged per read as the celebrity threshold moves."""
    fig = go.Figure()
    x = costs["threshold"]
    fig.add_scatter(x=x, y=costs["hybrid_writes_per_post"], name="hybrid writes / post")
    fig.add_scatter(
        x=x, y=costs["push_writes_per_post"], name="push writes / post", line_dash="dot"
    )
    fig.add_scatter(x=x, y=costs["hybrid_lists_per_read"], name="hybrid lists / read", yaxis="y2")
    fig.add_scatter(
        x=x, y=costs["pull_lists_per_read"], name="pull lists / read", yaxis="y2", line_dash="dot"
    )
    if marker is not None:
        fig.add_vline(x=marker, line_color="grey")
    fig.update_layout(
        title="The celebrity threshold trades write cost for read cost",
        xaxis=dict(type="log", title="celebrity threshold (followers)"),
        yaxis=dict(title="timeline writes per post"),
        yaxis2=dict(title="lists merged per read", overlaying="y", side="right", showgrid=False),
        legend=dict(orientation="h", y=-0.25),
    )
    return fig


def strategy_costs(results: pd.DataFrame) -> go.Figure:
    """Side-by-side bars of the replay's deterministic costs per strategy."""
    metrics = ["writes_per_post", "items_per_read", "stored_entries"]
    fig = go.Figure()
    for metric in metrics:
        fig.add_bar(x=results["strategy"], y=results[metric] / results[metric].max(), name=metric)
    return fig.update_layout(
        title="Relative cost per strategy (1 = the most expensive)",
        yaxis_title="share of max",
        barmode="group",
    )


def redis_read_costs(run: dict) -> go.Figure:
    """Median read time by Redis commands per read, per strategy, with pull's straight-line fit.

    ``run`` is ``data/timelines/redis_measurements.json`` (``benchmarks/timelines_redis.py``):
    each strategy's ``reads_by_commands`` rows are ``[commands, p50 µs, reads]``.
    """
    fig = go.Figure()
    for name, row in run["strategies"].items():
        points = np.array(row["reads_by_commands"], dtype=float).reshape(-1, 3)
        fig.add_scatter(x=points[:, 0], y=points[:, 1], mode="markers", name=name,
                        marker_size=np.clip(np.sqrt(points[:, 2]), 4, 18))  # fmt: skip
    pull = np.array(run["strategies"]["pull"]["reads_by_commands"], dtype=float)
    per_command, fixed = np.polyfit(pull[:, 0], pull[:, 1], 1, w=np.sqrt(pull[:, 2]))
    x = np.array([1.0, pull[:, 0].max()])
    line = np.round(fixed + per_command * x, 1)  # a least-squares fit's last bits vary by CPU
    fig.add_scatter(x=x, y=line, mode="lines", line_dash="dot",
                    name=f"pull fit: {fixed:.0f} µs + {per_command:.0f} µs per command")  # fmt: skip
    return fig.update_layout(
        title="One pipelined round trip: a fixed cost, then a cost per command",
        xaxis_title="Redis commands in the read (one round trip)",
        yaxis_title="median read time (µs)",
        legend=dict(orientation="h", y=-0.25),
    )
