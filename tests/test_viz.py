"""What notebooks show: figures and widget defaults independent of a float's last bits, money
in rupees, saved notebooks without PNG copies."""

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from ipywidgets import IntSlider

from razorlab.course.lab import drop_figure_images
from razorlab.errors import ValidationError
from razorlab.viz import explore, in_rupees, round_floats, setup_notebook


def test_round_floats_keeps_six_significant_digits_everywhere():
    value = {"x": [0.1 + 0.2, 2], "y": np.array([1 / 3, 1e-12 / 7]), "n": np.array([1, 2])}
    out = round_floats(value)
    assert out["x"] == [0.3, 2]
    assert out["y"].tolist() == [0.333333, 1.42857e-13]
    assert out["n"].dtype.kind == "i"
    assert math.isnan(round_floats(float("nan")))


def test_inputs_differing_in_their_last_bit_store_the_same_figure():
    a = 5.872461762827366
    b = np.nextafter(a, 10.0)
    assert a != b and round_floats(a) == round_floats(b)


def test_notebook_renderer_rounds_every_figure():
    setup_notebook()
    fig = go.Figure(go.Scatter(x=np.array([0.1 + 0.2]), y=[2 / 3]))
    bundle = pio.renderers[pio.renderers.default].to_mimebundle(fig.to_dict())
    trace = bundle["application/vnd.plotly.v1+json"]["data"][0]
    assert trace["y"] == [0.666667]


def test_explore_stores_the_default_result_and_a_one_line_note():
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    slider = IntSlider(value=5, min=1, max=10)
    with capture_output() as shown:
        explore(lambda n: f"n squared is {n * n}", n=slider)
    texts = [o.data["text/plain"] for o in shown.outputs]
    assert texts[0].startswith("Controls: n") and texts[1] == "n squared is 25"
    assert slider.description == "n"


def test_saving_drops_png_copies_of_figures_only():
    figure = {"application/vnd.plotly.v1+json": {}, "image/png": "x"}
    photo = {"image/png": "y"}
    cells = [{"cell_type": "code", "outputs": [{"data": dict(figure)}, {"data": dict(photo)}]}]
    model = {"type": "notebook", "content": {"cells": cells}}
    drop_figure_images(model)
    assert [set(o["data"]) for o in cells[0]["outputs"]] == [
        {"application/vnd.plotly.v1+json"},
        {"image/png"},
    ]


def test_paise_columns_become_rupees_with_indian_grouping_and_blanks_for_missing():
    frame = pd.DataFrame(
        {
            "payout": [438_200, 0, 12_345_678],
            "net": [-50_000, 5, 100],
            "amount_bank": pd.array([1, None, 99], dtype="Int64"),
            "transfers": [3, 4, 5],
        }
    )
    shown = in_rupees(frame, ["payout", "net", "amount_bank"])
    assert list(shown["payout"]) == ["₹4,382.00", "₹0.00", "₹1,23,456.78"]
    assert list(shown["net"]) == ["-₹500.00", "₹0.05", "₹1.00"]
    assert list(shown["amount_bank"]) == ["₹0.01", "", "₹0.99"]
    assert list(shown["transfers"]) == [3, 4, 5], "columns not chosen are untouched"
    assert frame["payout"].tolist() == [438_200, 0, 12_345_678], "the input frame is not changed"


def test_default_is_the_paise_columns_else_every_numeric_one():
    frame = pd.DataFrame({"txn_id": [1, 2], "amount_paise": [61_769, 12_345_678], "city": [7, 8]})
    assert list(in_rupees(frame).columns) == ["txn_id", "amount", "city"]
    assert in_rupees(frame)["amount"].tolist() == ["₹617.69", "₹1,23,456.78"]
    statement = in_rupees(pd.DataFrame({"balance": [100], "account": ["asha"]}))
    assert statement.loc[0, "balance"] == "₹1.00" and statement.loc[0, "account"] == "asha"


def test_a_median_ending_in_half_a_paisa_is_rounded_half_even_and_unknown_columns_refused():
    medians = pd.DataFrame({"median_paise": [1_203_579.5, 503.0, 0.5]})
    assert in_rupees(medians)["median"].tolist() == ["₹12,035.80", "₹5.03", "₹0.00"]
    with pytest.raises(ValidationError):
        in_rupees(pd.DataFrame({"x": [1]}), ["y"])


def test_moving_a_control_redraws_each_result_in_place():
    """A figure passes through plain text, since JupyterLab's plotly renderer draws only once."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    slider = IntSlider(value=2, min=1, max=10)
    with capture_output() as shown:
        explore(lambda n: (f"n={n}", go.Figure(go.Bar(y=[n]))), n=slider)
        slider.value = 3
    texts = [o.data.get("text/plain") for o in shown.outputs]
    assert texts[-3:-1] == ["n=3", "redrawing…"]
    assert shown.outputs[-1].data["application/vnd.plotly.v1+json"]["data"][0]["y"] == [3]
