"""Stored figures and widget defaults do not depend on a float's last bits."""

import math

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from ipywidgets import IntSlider

from razorlab.course.lab import drop_figure_images
from razorlab.viz import explore, round_floats, setup_notebook


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
