"""Plotting and notebook display set-up shared by every notebook.

Figures are stored in notebooks as compact plotly JSON (the ``plotly_mimetype``
renderer; JupyterLab draws it with its bundled plotly), never with an embedded
copy of plotly.js. The layout template is our own small one, so a plotly release
that changes its default template does not change every stored figure.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["setup_notebook", "TEMPLATE_NAME", "PALETTE"]

TEMPLATE_NAME = "razorlab"

#: Colour-blind-safe palette (Okabe & Ito), in the order series get them.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def _template() -> go.layout.Template:
    return go.layout.Template(
        layout=dict(
            colorway=PALETTE,
            font=dict(family="Inter, Helvetica, Arial, sans-serif", size=13),
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False),
            yaxis=dict(showgrid=True, gridcolor="#e5e5e5", zeroline=False),
            margin=dict(l=60, r=20, t=50, b=50),
            height=360,
        )
    )


def setup_notebook() -> None:
    """Call once at the top of a notebook: compact plotly output and tidy tables."""
    pio.templates[TEMPLATE_NAME] = _template()
    pio.templates.default = TEMPLATE_NAME
    pio.renderers.default = "plotly_mimetype"
    pd.set_option("display.max_rows", 20)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.width", 120)
