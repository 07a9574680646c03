"""The counterexample as a swim-lane figure: one lane per client, the service and the bank.

Scenario: the shrunk history says "client 1 sends k1; the request arrives twice; the bank
charges twice". Drawn as lanes with arrows between them, the second arrow into the bank
is the bug, visible at a glance.

Design note. x is the run's virtual time, but events often share an instant (a bank
answer and the next charge), so points are spread by their step number within a lane's
timeline: x is the step, and hover text gives the virtual time. Messages (events with a
``to`` lane) are arrows; a crash is a red cross on the service lane with a dashed line
across every lane. Imported lazily (plotly is heavy): ``Verdict.figure()`` loads it.
"""

from __future__ import annotations

import plotly.graph_objects as go

from razorlab.labs.history import History
from razorlab.viz import PALETTE

__all__ = ["swimlanes"]

COLOURS = {
    "invoke": PALETTE[0], "ok": PALETTE[2], "fail": PALETTE[1], "info": PALETTE[1],
    "charge": PALETTE[4], "bank_apply": PALETTE[4], "crash": "#D00000", "restart": PALETTE[7],
}  # fmt: skip


def swimlanes(history: History, title: str = "") -> go.Figure:
    """Draw ``history`` (usually a shrunk counterexample) as swim lanes."""
    lanes = history.lanes()
    row = {lane: i for i, lane in enumerate(reversed(lanes))}
    fig = go.Figure()
    xs, ys, texts, colours, symbols = [], [], [], [], []
    for step, event in enumerate(history, 1):
        xs.append(step)
        ys.append(row[event.lane])
        texts.append(f"{step}. t={event.t:.3f}s {event.lane}: {event.text}")
        colours.append(COLOURS.get(event.kind, PALETTE[5]))
        symbols.append("x" if event.kind == "crash" else "circle")
        if event.to and event.to in row:
            fig.add_annotation(
                x=step + 0.6, y=row[event.to], ax=step, ay=row[event.lane],
                xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                arrowhead=3, arrowwidth=1.2, arrowcolor=colours[-1], text="",
            )  # fmt: skip
        if event.kind == "crash":
            fig.add_vline(x=step, line_dash="dash", line_color="#D00000")
    fig.add_trace(go.Scatter(
        x=xs, y=ys, mode="markers+text", text=[str(i) for i in xs], textposition="top center",
        hovertext=texts, hoverinfo="text", showlegend=False,
        marker=dict(size=[16 if s == "x" else 10 for s in symbols], color=colours, symbol=symbols),
    ))  # fmt: skip
    fig.update_layout(
        title=title, height=140 + 60 * len(lanes), xaxis_title="step (hover for virtual time)",
        yaxis=dict(tickvals=list(row.values()), ticktext=list(row.keys()), range=[-0.6, len(lanes) - 0.4]),
        plot_bgcolor="white",
    )  # fmt: skip
    return fig
