"""Figures for the Go runtime notebooks; each returns a small, deterministic plotly Figure.

Design note: long series are downsampled (at most ``MAX_POINTS`` per trace) so the
figures stored in notebooks stay small; numbers are rounded before plotting so the
stored JSON is stable across platforms.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from razorlab.goruntime.gc import MIB, GCConfig, GCRun, simulate_gc, steady
from razorlab.goruntime.metrics import SchedulerRun
from razorlab.goruntime.traces import TracedRun
from razorlab.goruntime.tricolor import MarkResult

__all__ = [
    "runq_figure",
    "latency_figure",
    "counters_figure",
    "memory_figure",
    "stack_figure",
    "latency_calibration_figure",
    "pacer_figure",
    "gc_guide_figure",
    "timeline_figure",
    "tricolor_figure",
    "pools_figure",
    "cold_start_figure",
    "scavenger_figure",
    "error_band_figure",
]

MAX_POINTS = 400
MAX_SPANS = 2_000  # bars in a timeline figure
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#56B4E9", "#D55E00", "#F0E442", "#CC79A7")


def _thin(df: pd.DataFrame, n: int = MAX_POINTS) -> pd.DataFrame:
    step = max(1, int(np.ceil(len(df) / n)))
    return df.iloc[::step]


def runq_figure(run: SchedulerRun, title: str = "Run-queue lengths over time") -> go.Figure:
    """Local queue (+runnext) per P and the global queue, sampled every millisecond."""
    df = _thin(run.runq_samples())
    fig = go.Figure()
    x = (df.index.to_numpy() * 1e3).round(3)
    for col in df.columns:
        dash = "dash" if col == "global" else None
        fig.add_scatter(x=x, y=df[col].to_numpy(), name=col, mode="lines", line=dict(dash=dash))
    fig.update_layout(title=title, xaxis_title="time (ms)", yaxis_title="goroutines queued")
    return fig


def latency_figure(runs: dict[str, SchedulerRun]) -> go.Figure:
    """Scheduling-latency CDFs (log x axis), one line per labelled run."""
    fig = go.Figure()
    qs = np.linspace(0, 100, 101)
    for label, run in runs.items():
        ms = np.percentile(run.waits_s, qs) * 1e3
        fig.add_scatter(x=np.maximum(ms, 1e-4).round(5), y=qs, name=label, mode="lines")
    fig.update_layout(
        title="Scheduling latency (runnable → running)",
        xaxis=dict(title="latency (ms, log)", type="log"),
        yaxis_title="percentile",
    )
    return fig


def counters_figure(runs: dict[str, SchedulerRun]) -> go.Figure:
    """Where goroutines came from: steals, overflows, 61st-tick global hits, preemptions."""
    fields = ["stolen", "overflows", "global_fair_hits", "global_gets", "preemptions", "handoffs"]
    fig = go.Figure()
    for f in fields:
        fig.add_bar(name=f, x=list(runs), y=[getattr(r, f) for r in runs.values()])
    fig.update_layout(barmode="group", title="Scheduler events per run", yaxis_type="log")
    return fig


def memory_figure(table: pd.DataFrame, ram_bytes: int = 256 * 2**30) -> go.Figure:
    """Runtime memory for N goroutines (log-log) against one big server's RAM."""
    ns = [float(n) for n in table.index]
    fig = go.Figure()
    fig.add_scatter(x=ns, y=table["bytes"].to_numpy(), name="stacks + g", mode="lines+markers")
    fig.add_hline(y=ram_bytes, line_dash="dot", annotation_text="256 GiB server")
    fig.update_layout(
        title="Memory for N parked goroutines",
        xaxis=dict(title="goroutines", type="log"),
        yaxis=dict(title="bytes", type="log"),
    )
    return fig


def stack_figure(df: pd.DataFrame) -> go.Figure:
    """Measured stack bytes per goroutine vs the doubling model, by bytes of frames."""
    fig = go.Figure()
    fig.add_scatter(
        x=df["frames_B"], y=df["model_stack_B"], name="model", mode="lines", line_shape="hv"
    )
    fig.add_scatter(x=df["frames_B"], y=df["measured_stack_B"], name="Go 1.19", mode="markers")
    fig.update_layout(
        title="Stack size vs stack used",
        xaxis_title="bytes of frames",
        yaxis=dict(title="stack bytes per goroutine", type="log"),
    )
    return fig


def latency_calibration_figure(df: pd.DataFrame) -> go.Figure:
    """Median wake-up latency of a 1 ms sleep under load: Go vs model."""
    labels = [f"P={p}, hogs={h}" for p, h in df.index]
    fig = go.Figure()
    fig.add_bar(name="Go (measured)", x=labels, y=df["measured_p50_ms"])
    fig.add_bar(name="model", x=labels, y=df["model_p50_ms"].round(3))
    fig.update_layout(barmode="group", title="Sleep wake-up latency, median", yaxis_title="ms")
    return fig


def pacer_figure(run: GCRun, title: str = "GC pacer") -> go.Figure:
    """Heap, heap goal and live heap over time, GOMEMLIMIT line, GC CPU share shaded."""
    df = _thin(run.series)
    t = (df["t_s"] * 1e3).round(3)
    fig = go.Figure()
    for col, name in (("heap_b", "heap"), ("goal_b", "heap goal"), ("live_b", "live heap")):
        y = (df[col] / MIB).round(2)
        fig.add_scatter(x=t, y=y, name=name, mode="lines")
    fig.add_scatter(
        x=t,
        y=(100 * df["gc_cpu_share"]).round(1),
        name="GC CPU %",
        yaxis="y2",
        mode="lines",
        line=dict(width=1, color="#CC79A7"),
        fill="tozeroy",
        opacity=0.3,
    )
    limit = run.config.memory_limit_bytes
    if limit:
        fig.add_hline(y=round(limit / MIB, 2), line_dash="dot", annotation_text="GOMEMLIMIT")
    fig.update_layout(
        title=title,
        xaxis_title="time (ms)",
        yaxis_title="MiB",
        yaxis2=dict(title="GC CPU %", overlaying="y", side="right", range=[0, 100]),
    )
    return fig


def gc_guide_figure(
    gogc: object = 100,
    limit_mib: int = 0,
    live_mib: int = 64,
    *,
    alloc_mib_per_s: float = 400,
    gomaxprocs: int = 4,
) -> go.Figure:
    """The GC guide's picture for one setting: live and new heap stacked, goal, GC CPU.

    A steady service (``live_mib`` live, ``alloc_mib_per_s`` of garbage) for 2 s on the
    pacer model; ``limit_mib`` 0 means no GOMEMLIMIT. Widget callback for the GC chapter.
    """
    limit = limit_mib * MIB or None
    run = simulate_gc(
        steady(live_mib, alloc_mib_per_s),
        GCConfig(gogc=gogc, memory_limit_bytes=limit, gomaxprocs=gomaxprocs),
    )
    df = _thin(run.series)
    t = (df["t_s"] * 1e3).round(1)
    live = (df["live_b"] / MIB).round(1)
    fig = go.Figure()
    fig.add_scatter(x=t, y=live, name="live heap", stackgroup="heap", line=dict(width=0))
    new = ((df["heap_b"] - df["live_b"]).clip(lower=0) / MIB).round(1)
    fig.add_scatter(x=t, y=new, name="new heap", stackgroup="heap", line=dict(width=0))
    goal = (df["goal_b"].replace(np.inf, np.nan) / MIB).round(1)  # GOGC=off, no limit: none
    fig.add_scatter(x=t, y=goal, name="heap goal", mode="lines", line=dict(dash="dash"))
    gc_cpu = (100 * df["gc_cpu_share"]).round(1)
    fig.add_scatter(x=t, y=gc_cpu, name="GC CPU %", yaxis="y2", mode="lines", line=dict(width=1))
    if limit:
        fig.add_hline(y=limit_mib, line_dash="dot", annotation_text="GOMEMLIMIT")
    s = run.summary()
    fig.update_layout(
        title=(
            f"GOGC={gogc}, {f'GOMEMLIMIT={limit_mib} MiB' if limit else 'no limit'}, "
            f"{live_mib} MiB live: {s['gc_cycles']} cycles, peak {s['peak_heap_mib']:.0f} MiB, "
            f"GC CPU {s['gc_cpu_percent']:.1f} %"
        ),
        xaxis_title="time (ms)",
        yaxis_title="MiB",
        yaxis2=dict(title="GC CPU %", overlaying="y", side="right", range=[0, 100]),
    )
    return fig


def timeline_figure(
    traced: TracedRun,
    title: str = "Goroutines on Ps",
    *,
    window_s: tuple[float, float] = (0.0, float("inf")),
) -> go.Figure:
    """``go tool trace``'s Procs view: one lane per P, a bar per G run, STWs marked.

    Shows the runs inside ``window_s`` (at most ``MAX_SPANS`` of them, the first ones).
    """
    lo, hi = window_s
    spans = [s for s in traced.spans if s.end_s >= lo and s.start_s <= hi][:MAX_SPANS]
    colors = [PALETTE[s.g % len(PALETTE)] for s in spans]
    fig = go.Figure(
        go.Bar(
            y=[f"P{s.p}" for s in spans],
            base=[round(s.start_s * 1e3, 4) for s in spans],
            x=[round((s.end_s - s.start_s) * 1e3, 4) for s in spans],
            orientation="h",
            marker=dict(color=colors, line=dict(width=0.5, color="white")),
            hovertext=[f"G{s.g}" for s in spans],
            name="G running",
        )
    )
    end = max((s.end_s for s in spans), default=lo)
    stws = [t for t in traced.stw_s if lo <= t <= end]
    for t in stws:
        fig.add_vline(x=round(t * 1e3, 4), line_dash="dot", line_color="#D55E00")
    procs = traced.run.config.gomaxprocs
    note = ", dotted: GC stop-the-world" if stws else ""
    fig.update_layout(
        title=f"{title} ({len(spans)} runs{note})",
        xaxis_title="time (ms)",
        yaxis=dict(categoryorder="array", categoryarray=[f"P{i}" for i in range(procs)][::-1]),
        height=160 + 40 * procs,
        showlegend=False,
    )
    if hi < float("inf"):
        fig.update_xaxes(range=[round(lo * 1e3, 4), round(hi * 1e3, 4)])
    return fig


def tricolor_figure(result: MarkResult) -> go.Figure:
    """Colour of each object at each mark step (white, grey, black)."""
    codes = {"white": 0, "grey": 1, "black": 2}
    h = result.history
    z = np.array([[codes[c] for c in h[col]] for col in h.columns], dtype=float)
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(h.index),
            y=list(h.columns),
            zmin=0,
            zmax=2,
            colorscale=[[0, "#ffffff"], [0.5, "#999999"], [1, "#000000"]],
            showscale=False,
            xgap=2,
            ygap=2,
        )
    )
    lost = ", ".join(sorted(result.lost)) or "none"
    fig.update_layout(
        title=f"Barrier: {result.barrier} — freed while reachable: {lost}",
        xaxis_title="mark step",
        height=260,
    )
    return fig


def pools_figure(df: pd.DataFrame) -> go.Figure:
    """Peak Python memory per strategy (log scale)."""
    fig = go.Figure(go.Bar(x=df["strategy"], y=df["peak_MiB"]))
    fig.update_layout(title="Peak memory (tracemalloc)", yaxis=dict(title="MiB", type="log"))
    return fig


def cold_start_figure(curves: dict[str, pd.DataFrame]) -> go.Figure:
    """A child's switch, ``Done`` and exit by how many Gs ran since its ``go`` statement:
    Go's fastest and median of the repeats (markers) and the model (line), per Go version.
    Each frame has columns ``size``, ``go_ns``, ``go_median_ns`` and ``model_ns``."""
    fig = go.Figure()
    for i, (version, df) in enumerate(curves.items()):
        color = PALETTE[i % len(PALETTE)]
        fig.add_scatter(
            x=df["size"], y=df["model_ns"].round(), mode="lines", name=f"model ({version})",
            line=dict(color=color),
        )  # fmt: skip
        for col, symbol, label in (("go_ns", "circle", "fastest"), ("go_median_ns", "x", "median")):
            fig.add_scatter(
                x=df["size"], y=df[col].round(), mode="markers", marker=dict(color=color, symbol=symbol),
                name=f"Go {version}, {label}",
            )  # fmt: skip
    fig.update_layout(
        title="A goroutine starts cold when many others ran since its go statement",
        xaxis=dict(title="goroutines spawned or run since (log)", type="log"),
        yaxis=dict(title="switch + Done + exit, ns", rangemode="tozero"),
    )
    return fig


def scavenger_figure(series: dict[str, pd.DataFrame]) -> go.Figure:
    """Retained heap after a shrink, Go (solid) and model (dashed) per Go version
    (``calibration.scavenger_series``), from the first GC after the drop."""
    fig = go.Figure()
    for color, (version, df) in zip(PALETTE, series.items(), strict=False):
        for label, part in df.groupby("label", sort=False):
            part = _thin(part[part["t_ms"] >= -50])
            is_go = label.startswith("Go")
            fig.add_scatter(
                x=part["t_ms"],
                y=part["retained_mib"],
                name=label if is_go else f"model, Go {version}'s inputs",
                mode="lines",
                line=dict(dash="solid" if is_go else "dash", color=color),
            )
    fig.update_layout(
        title="Heap retained after the live heap drops from 265 to 9 MiB",
        xaxis_title="ms after the first GC that sees the drop",
        yaxis_title="MiB retained (in use + free, not released)",
    )
    return fig


ERROR_AXIS_PCT = 50  # error_band_figure: errors beyond this are drawn at the edge


def error_band_figure(
    errors: dict[str, pd.DataFrame], tolerance: float, title: str = "Model against Go"
) -> go.Figure:
    """The model's error (model / Go - 1) per setting and metric, one panel per Go version,
    over the shaded +-``tolerance`` band the tests hold it to. ``errors`` maps a version to
    a frame whose index names the settings and whose columns are metrics (fractions).
    Errors past +-50 % are drawn at the edge as triangles, their value in the label."""
    fig = make_subplots(rows=len(errors), cols=1, subplot_titles=[f"Go {v}" for v in errors])
    band = 100 * tolerance
    for row, df in enumerate(errors.values(), start=1):
        labels = [" ".join(str(x) for x in k) if isinstance(k, tuple) else str(k) for k in df.index]
        for i, metric in enumerate(df.columns):
            pct = (100 * df[metric].astype(float)).round(1)
            shown = pct.clip(-ERROR_AXIS_PCT, ERROR_AXIS_PCT)
            symbols = ["triangle-up" if v > ERROR_AXIS_PCT else "triangle-down"
                       if v < -ERROR_AXIS_PCT else "circle" for v in pct]  # fmt: skip
            text = [f"{v:+.0f} %" if abs(v) > ERROR_AXIS_PCT else "" for v in pct]
            fig.add_scatter(
                x=labels, y=shown, mode="markers+text", text=text, textposition="middle right",
                name=metric, legendgroup=metric, showlegend=row == 1,
                marker=dict(color=PALETTE[i % len(PALETTE)], symbol=symbols, size=9),
                row=row, col=1,
            )  # fmt: skip
        fig.add_hrect(y0=-band, y1=band, fillcolor="#009E73", opacity=0.12, line_width=0,
                      row=row, col=1)  # fmt: skip
        fig.update_yaxes(title_text="error %", range=[-ERROR_AXIS_PCT - 5, ERROR_AXIS_PCT + 5],
                         row=row, col=1)  # fmt: skip
    fig.update_layout(title=f"{title} (shaded: ±{band:.0f} %)", height=280 * len(errors) + 80)
    return fig
