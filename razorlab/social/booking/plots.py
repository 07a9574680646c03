"""Figures for the ticketing notebook: the race, the hour's timeline, the seat map.

Every figure takes the result of a seeded simulation, so stored notebook outputs stay
identical from run to run; none plots more than a few hundred points.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from razorlab.social.booking.models import Claim, HoldStatus, Show
from razorlab.social.booking.simulation import HourResult, RushResult, simulate_hour_now
from razorlab.viz import PALETTE

__all__ = [
    "race_figure",
    "timeline_figure",
    "seat_map_figure",
    "outcomes_figure",
    "hour_explorer",
]


def race_figure(results: Sequence[RushResult]) -> go.Figure:
    """Seats sold once vs sold twice (or more), per engine, for the same rush."""
    names = [r.engine for r in results]
    fig = go.Figure(
        [
            go.Bar(name="sold once", x=names, y=[r.seats_sold - r.double_booked for r in results]),
            go.Bar(name="sold twice or more", x=names, y=[r.double_booked for r in results]),
            go.Bar(name="half-locked requests", x=names, y=[r.half_locked for r in results]),
        ]
    )
    attempts = results[0].attempts if results else 0
    fig.update_layout(
        title=f"{attempts:,} concurrent users, one 100-seat show",
        barmode="group",
        yaxis_title="seats / requests",
    )
    return fig


def timeline_figure(result: HourResult) -> go.Figure:
    """The seat map over the simulated hour (stacked) and cumulative failures (lines)."""
    t = result.timeline
    fig = go.Figure()
    for column, colour in (("sold", PALETTE[2]), ("held", PALETTE[1]), ("free", PALETTE[5])):
        fig.add_trace(
            go.Scatter(
                x=list(t.index),
                y=t[column].tolist(),
                name=f"{column} seats",
                stackgroup="seats",
                line=dict(color=colour),
            )
        )
    for column, colour in (
        ("abandoned_total", PALETTE[4]),
        ("payment_failed_total", PALETTE[3]),
        ("refunded_total", PALETTE[7]),
    ):
        fig.add_trace(
            go.Scatter(
                x=list(t.index),
                y=t[column].tolist(),
                name=column.replace("_total", " (cumulative users)").replace("_", " "),
                yaxis="y2",
                line=dict(color=colour, dash="dot"),
            )
        )
    fig.update_layout(
        title="One show's seats through a simulated hour of sales",
        xaxis_title="minute",
        yaxis_title="seats",
        yaxis2=dict(title="users", overlaying="y", side="right", showgrid=False),
        legend=dict(orientation="h", y=-0.25),
        height=420,
    )
    return fig


def seat_map_figure(show: Show, claims: Sequence[Claim]) -> go.Figure:
    """Each seat as a square: free, held or sold, hover shows category and price."""
    state = {c.seat_id: c.status for c in claims}
    colours = {None: "#d9d9d9", HoldStatus.HELD: PALETTE[1], HoldStatus.CONFIRMED: PALETTE[2]}
    fig = go.Figure()
    for status, label in (
        (None, "free"),
        (HoldStatus.HELD, "held"),
        (HoldStatus.CONFIRMED, "sold"),
    ):
        seats = [s for s in show.seats if state.get(s.seat_id) is status]
        fig.add_trace(
            go.Scatter(
                x=[int(s.seat_id[1:]) for s in seats],
                y=[s.seat_id[0] for s in seats],
                mode="markers",
                marker=dict(symbol="square", size=14, color=colours[status]),
                name=label,
                text=[f"{s.seat_id} {s.category} {s.price.format()}" for s in seats],
                hoverinfo="text",
            )
        )
    fig.update_layout(
        title=f"{show.title}: seat map (screen at the bottom)",
        xaxis=dict(title="seat", dtick=1),
        yaxis=dict(title="row", categoryorder="category ascending"),
        height=380,
    )
    return fig


def outcomes_figure(outcomes: dict[str, int], title: str = "How each user's attempt ended"):
    """Users per outcome, in a fixed order so figures compare across runs."""
    order = [
        "confirmed",
        "seats_unavailable",
        "abandoned",
        "payment_failed",
        "hold_expired",
        "refunded",
    ]
    fig = go.Figure(go.Bar(x=order, y=[outcomes.get(k, 0) for k in order]))
    fig.update_layout(title=title, yaxis_title="users", height=320)
    return fig


def hour_explorer(hold_ttl_min: int = 10, payment_failure_pct: int = 10, seed: int = 42):
    """Widget callback: rerun the hour with another TTL and decline rate, show the outcomes."""
    result = simulate_hour_now(
        seed=seed, hold_ttl_s=hold_ttl_min * 60, payment_failure_rate=payment_failure_pct / 100
    )
    sold_out = result.timeline.index[result.timeline["sold"] == result.timeline["sold"].max()]
    title = (
        f"TTL {hold_ttl_min} min, {payment_failure_pct}% declined: "
        f"{result.timeline['sold'].iloc[-1]} seats sold by minute {sold_out[0]}, "
        f"{result.refunded.format()} refunded"
    )
    return outcomes_figure(result.outcomes, title=title)
