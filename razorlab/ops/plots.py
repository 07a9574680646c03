"""Figures for the leadership and operations notebooks (plotly, deterministic input only)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from razorlab.ops.availability import downtime
from razorlab.ops.incident import Incident
from razorlab.ops.migration import Guards, MigrationRun

__all__ = ["migration_figure", "signals_figure", "burn_rate_figure", "downtime_figure"]


def migration_figure(run: MigrationRun, guards: Guards | None = None) -> go.Figure:
    """Traffic on the new path per minute, the step error rate against its guard, rollbacks."""
    g = guards or Guards()
    tl = run.timeline
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("traffic on the new service (%)", "ramp-step error rate"),
    )
    for phase, part in tl.groupby("phase"):
        fig.add_trace(
            go.Scatter(
                x=part["minute"],
                y=part["pct_new"],
                mode="lines",
                line_shape="hv",
                name=f"phase {phase}",
            ),
            row=1,
            col=1,
        )
    live = tl.dropna(subset=["step_error_rate"])
    fig.add_trace(
        go.Scatter(
            x=live["minute"],
            y=(100 * live["step_error_rate"]).round(3),
            mode="markers",
            marker_size=4,
            name="error rate %",
            showlegend=False,
        ),
        row=2,
        col=1,
    )
    fig.add_hline(y=100 * g.max_error_rate, line_dash="dash", row=2, col=1, annotation_text="guard")
    for minute in run.rollbacks["minute"]:
        fig.add_vline(x=int(minute), line_color="#D55E00", line_dash="dot")
    fig.update_yaxes(title_text="%", row=2, col=1)
    fig.update_xaxes(title_text="minute", row=2, col=1)
    fig.update_layout(height=480, title="Strangler-fig migration: ramps, guards, rollback")
    return fig


def _markers(fig: go.Figure, inc: Incident, rows: Sequence[int]) -> None:
    marks = {
        "impact": inc.fault_minute,
        "detected": inc.detected_at(),
        "mitigation": inc.mitigated_at,
        "resolved": inc.resolved_at(),
    }
    for label, minute in marks.items():
        if minute is None:
            continue
        for row in rows:
            fig.add_vline(x=minute, line_dash="dot", line_color="#777777", row=row, col=1)
        fig.add_annotation(
            x=minute, y=1.02, yref="paper", text=label, showarrow=False, font_size=10
        )


def signals_figure(inc: Incident) -> go.Figure:
    """Error rate, p99 latency and DB pool utilisation, with the incident's milestones."""
    m = inc.metrics()
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=("error rate (%)", "p99 latency (ms)", "DB pool used (%)"),
    )
    series = [
        (100 * m["error_rate"]).round(3),
        m["p99_ms"],
        (100 * m["db_pool_utilisation"]).round(1),
    ]
    for row, y in enumerate(series, start=1):
        fig.add_trace(
            go.Scatter(x=m["minute"], y=y, mode="lines", showlegend=False), row=row, col=1
        )
    _markers(fig, inc, (1, 2, 3))
    fig.update_xaxes(title_text="minute", row=3, col=1)
    fig.update_layout(height=560, title=f"Payment API signals ({inc.fault.name} injected)")
    return fig


def burn_rate_figure(inc: Incident, alert_index: int = 0) -> go.Figure:
    """Long- and short-window burn rates of one alert against its threshold."""
    alert = inc.alerts[alert_index]
    frame = inc.alert_frame()
    fig = go.Figure()
    for window in ("long", "short"):
        minutes = alert.long_minutes if window == "long" else alert.short_minutes
        fig.add_trace(
            go.Scatter(
                x=frame["minute"],
                y=frame[f"{alert.name}: {window}"].round(2),
                mode="lines",
                name=f"{window} window ({minutes} min)",
            )
        )
    fig.add_hline(y=alert.burn_rate, line_dash="dash", annotation_text=f"{alert.burn_rate:g}x")
    firing = frame[frame[alert.name]]
    fig.add_trace(
        go.Scatter(
            x=firing["minute"],
            y=[0] * len(firing),
            mode="markers",
            marker_symbol="square",
            name="firing",
        )
    )
    _markers(fig, inc, ())
    fig.update_layout(
        title=f"Burn rate: {alert.name}", xaxis_title="minute", yaxis_title="x budget rate"
    )
    return fig


def downtime_figure(levels: Sequence[float] = (0.99, 0.999, 0.9999, 0.99999)) -> go.Figure:
    """Allowed downtime per year and per 30-day month at each availability level."""
    names = [f"{100 * a:.3f}".rstrip("0").rstrip(".") + "%" for a in levels]  # 99.9%, 99.99%
    fig = go.Figure()
    for period, unit in (("year", "min"), ("month", "min")):
        fig.add_trace(
            go.Bar(
                x=names,
                y=[round(downtime(a, period).to(unit), 2) for a in levels],
                name=f"per {period}",
            )
        )
    fig.update_layout(
        title="Downtime budget", yaxis_type="log", yaxis_title="minutes", barmode="group"
    )
    return fig
