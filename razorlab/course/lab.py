"""JupyterLab settings ``make lab`` applies: a pre-save hook that keeps notebooks small.

plotly's JupyterLab renderer draws a figure and then writes a PNG snapshot of it into the
output, next to the figure's JSON, so the notebook shows something where plotly cannot run.
Every stored figure here is already plotly JSON that JupyterLab draws, so the snapshot only
roughly triples a saved notebook and makes every save a large diff. The hook drops it.
It is set by ``make lab`` (``--ContentsManager.pre_save_hook``); anyone running
``jupyter lab`` by hand can pass the same flag (see the README).
"""

from __future__ import annotations

from typing import Any

__all__ = ["FIGURE_MIME", "drop_figure_images"]

FIGURE_MIME = "application/vnd.plotly.v1+json"
_SNAPSHOTS = ("image/png", "image/jpeg", "image/svg+xml")


def drop_figure_images(model: dict[str, Any], **_context: Any) -> None:
    """jupyter_server pre-save hook: remove image snapshots stored beside plotly figures."""
    if model.get("type") != "notebook" or not isinstance(model.get("content"), dict):
        return
    for cell in model["content"].get("cells", []):
        for output in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            data = output.get("data", {})
            if FIGURE_MIME in data:
                for mime in _SNAPSHOTS:
                    data.pop(mime, None)
