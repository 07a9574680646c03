"""Plotting and notebook display set-up shared by every notebook.

Figures are stored in notebooks as compact plotly JSON (the ``plotly_mimetype``
renderer; JupyterLab draws it with its bundled plotly), never with an embedded
copy of plotly.js. The layout template is our own small one, so a plotly release
that changes its default template does not change every stored figure.

Stored outputs must not depend on a float's last bits: another CPU, or another build of
numpy or libm, sums the same numbers in another order and ends a few units of the last place
away. So the renderer rounds every float in a figure to :data:`FIGURE_DIGITS` significant
digits before it is stored (far finer than a pixel), and :func:`explore` shows a widget's
default result as an ordinary output, so a stored notebook reads well before it is run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
from plotly.io._base_renderers import PlotlyRenderer

from razorlab.errors import ValidationError
from razorlab.money import Money

__all__ = ["setup_notebook", "explore", "in_rupees", "round_floats", "TEMPLATE_NAME", "PALETTE"]

TEMPLATE_NAME = "razorlab"
FIGURE_DIGITS = 6  # significant digits a stored figure keeps: ~1 ppm, far below a pixel
FIGURE_MIME = "application/vnd.plotly.v1+json"

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


def round_floats(value: Any, digits: int = FIGURE_DIGITS) -> Any:
    """``value`` with every float (in dicts, lists, numpy arrays) rounded to ``digits``.

    Python's own decimal formatting does the rounding, so the result is the same on every
    machine for inputs that differ only in their last bits (short of a tie at the digit).
    """
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        flat = [float(f"{x:.{digits}g}") for x in value.ravel().tolist()]
        return np.array(flat, dtype=value.dtype).reshape(value.shape)
    if isinstance(value, np.ndarray) and value.dtype == object:
        return np.array([round_floats(v, digits) for v in value.tolist()], dtype=object)
    if isinstance(value, float | np.floating):
        return float(f"{value:.{digits}g}")
    return value


PAISE_SUFFIX = "_paise"  # a column named like this holds integer paise


def _rupees(paise: object) -> str:
    if paise is None or pd.isna(paise):
        return ""  # a missing amount (a payout the bank never made) stays blank
    return Money(round(float(paise))).format()  # a median may end in half a paisa: half-even


def in_rupees(frame: pd.DataFrame, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """A display copy of ``frame`` with money columns as rupee text (``₹1,23,456.78``).

    Engines keep integer paise, right for arithmetic and wrong for a reader. ``columns``
    defaults to the ``*_paise`` columns or, in a frame without any (a ledger statement, where
    every number is money), to every numeric column. ``x_paise`` is renamed ``x``; other
    columns, the index and ``frame`` itself are untouched, so nothing computes with the text.
    """
    if columns is None:
        named = [c for c in frame.columns if isinstance(c, str) and c.endswith(PAISE_SUFFIX)]
        chosen = named or list(frame.select_dtypes("number").columns)
    else:
        chosen = list(columns)
    missing = [c for c in chosen if c not in frame.columns]
    if missing:
        raise ValidationError(f"no such columns: {missing}", field="columns")
    out = frame.copy()
    for column in chosen:
        out[column] = frame[column].map(_rupees).astype(object)
    return out.rename(columns={c: c.removesuffix(PAISE_SUFFIX) for c in chosen})


class _RoundedRenderer(PlotlyRenderer):
    """plotly's mimetype renderer, fed a figure whose floats are rounded first."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        return super().to_mimebundle(round_floats(fig_dict))


def setup_notebook() -> None:
    """Call once at the top of a notebook: compact, rounded plotly output and tidy tables."""
    pio.templates[TEMPLATE_NAME] = _template()
    pio.templates.default = TEMPLATE_NAME
    pio.renderers[TEMPLATE_NAME] = _RoundedRenderer()
    pio.renderers.default = TEMPLATE_NAME
    pd.set_option("display.max_rows", 20)
    pd.set_option("display.max_columns", 20)
    pd.set_option("display.width", 120)


class _Controls:
    """The sliders of :func:`explore`; stored as one line of text, live as a widget box."""

    def __init__(self, box: Any, names: Sequence[str]) -> None:
        self.box = box
        self.note = (
            f"Controls: {', '.join(names)} — run the notebook to move them; "
            "the result below updates in place (shown here for the defaults)."
        )

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = self.box._repr_mimebundle_(**kwargs) or {}
        return {**bundle, "text/plain": self.note}


def explore(func: Callable[..., Any], **controls: Any) -> None:
    """Show ``func``'s result for the controls' default values, then controls that redraw it.

    Each keyword is an ipywidgets control (``IntSlider(...)``, ``Dropdown(...)``) whose value
    is passed to ``func`` under the same name. ``func`` returns what to show — a figure, a
    table, a string, or a tuple of them. Unlike ``interact``, the result for the defaults is an
    ordinary output: it is stored in the notebook (a reader sees it before running anything;
    nbval checks it), and a moved slider replaces it in place.
    """
    from IPython.display import Pretty, display

    def shown(result: Any) -> list[Any]:
        parts = result if isinstance(result, tuple) else (result,)
        return [Pretty(p) if isinstance(p, str) else p for p in parts]

    def bundle(obj: Any) -> dict:
        if isinstance(obj, go.Figure):
            return pio.renderers[pio.renderers.default].to_mimebundle(obj.to_dict())
        from IPython import get_ipython

        data, _ = get_ipython().display_formatter.format(obj)
        return data

    from ipywidgets import VBox

    for name, control in controls.items():
        control.description = control.description or name
    display(_Controls(VBox(list(controls.values())), list(controls)))
    values = {name: control.value for name, control in controls.items()}
    handles = [display(bundle(p), raw=True, display_id=True) for p in shown(func(**values))]

    def redraw(_change: object) -> None:
        parts = shown(func(**{name: c.value for name, c in controls.items()}))
        for handle, part in zip(handles, parts, strict=False):
            data = bundle(part)
            if FIGURE_MIME in data:
                # JupyterLab's plotly renderer draws once and ignores later updates of the same
                # output; passing through plain text makes JupyterLab build a fresh renderer.
                handle.update({"text/plain": "redrawing…"}, raw=True)
            handle.update(data, raw=True)

    for control in controls.values():
        control.observe(redraw, names="value")
