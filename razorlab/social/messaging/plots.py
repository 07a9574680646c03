"""Figures for the messaging chapter: what a group message costs as the group grows."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["fanout_cost_plot"]


def fanout_cost_plot(model: pd.DataFrame, measured: pd.DataFrame | None = None) -> go.Figure:
    """Frames and stored rows per message vs group size (model lines, engine measurements dots).

    ``model`` is :func:`~razorlab.social.messaging.capacity.fanout_table`; ``measured`` has a
    ``group_size`` index and any of the same columns, counted on the running engine.
    """
    fig = go.Figure()
    for column, name in (("frames", "frames on the wire"), ("rows", "rows stored")):
        fig.add_scatter(x=model.index, y=model[column], mode="lines", name=f"{name} (model)")
        if measured is not None and column in measured:
            fig.add_scatter(
                x=measured.index,
                y=measured[column],
                mode="markers",
                marker_size=9,
                name=f"{name} (engine)",
            )
    fig.update_xaxes(title="members in the chat")
    fig.update_yaxes(title="per message sent")
    return fig.update_layout(title="One group message costs work per member")
