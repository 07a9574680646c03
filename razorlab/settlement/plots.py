"""Figures for the settlement notebook: timelines, netting savings, payout trade-offs.

Each helper takes the engine's output and returns a ``plotly.graph_objects.Figure``; notebooks
only call them. Amounts are shown in rupees (paise / 100) for reading, never computed in float.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["settlement_timeline", "netting_savings", "payout_tradeoff", "netting_bars"]

_RUPEE = 100  # paise per rupee, for axis labels only


def settlement_timeline(rows: pd.DataFrame, merchant: str) -> go.Figure:
    """Per settlement day of one merchant: what came in, what was deducted, what was paid."""
    df = rows[rows["merchant_id"] == merchant]
    x = [d.isoformat() for d in df["settle_date"]]
    fig = go.Figure()
    fig.add_bar(x=x, y=df["payments"] / _RUPEE, name="payments")
    deductions = df["refunds"] + df["chargebacks"] + df["fee"] + df["gst"] + df["reserve_held"]
    fig.add_bar(x=x, y=-deductions / _RUPEE, name="refunds, chargebacks, fee, GST, reserve")
    fig.add_scatter(x=x, y=df["payout"] / _RUPEE, name="payout", mode="lines+markers")
    fig.add_scatter(x=x, y=df["carry_forward"] / _RUPEE, name="carried forward",
                    mode="lines+markers", line=dict(dash="dot"))  # fmt: skip
    fig.update_layout(title=f"Settlement timeline of {merchant}", barmode="relative",
                      xaxis_title="settlement date", yaxis_title="₹")  # fmt: skip
    return fig


def netting_savings(savings: pd.DataFrame) -> go.Figure:
    """Value saved by bilateral and multilateral netting as flows become two-way."""
    fig = go.Figure()
    for col, name in (("multilateral_value", "multilateral (value)"),
                      ("bilateral_value", "bilateral (value)"),
                      ("multilateral_count", "multilateral (transfer count)")):  # fmt: skip
        fig.add_scatter(x=savings["two_way"], y=100 * savings[col], name=name, mode="lines+markers")
    fig.update_layout(title="Netting saves value only when flows go both ways",
                      xaxis_title="two-wayness (0 = one-way, 1 = coin flip)",
                      yaxis_title="reduction vs gross (%)", yaxis_range=[0, 101])  # fmt: skip
    return fig


def netting_bars(result) -> go.Figure:
    """Gross vs bilateral vs multilateral: value moved and transfers needed."""
    kinds = ["gross", "bilateral", "multilateral"]
    values = [getattr(result, f"{k}_value") / _RUPEE / 1e7 for k in kinds]  # crore rupees
    counts = [getattr(result, f"{k}_count") for k in kinds]
    fig = go.Figure()
    fig.add_bar(x=kinds, y=values, name="value (₹ crore)", text=[f"{v:,.2f}" for v in values])
    fig.add_bar(x=kinds, y=counts, name="transfers", yaxis="y2", text=[f"{c:,}" for c in counts])
    fig.update_layout(title="What netting removes", barmode="group",
                      yaxis=dict(title="₹ crore"), yaxis2=dict(title="transfers",
                      overlaying="y", side="right", type="log"))  # fmt: skip
    return fig


def payout_tradeoff(table: pd.DataFrame) -> go.Figure:
    """Transfers paid for vs how long merchants wait, one point per mode or threshold."""
    fig = go.Figure()
    fig.add_scatter(x=table["transfers"], y=table["mean_wait_s"] / 60, mode="markers+text",
                    text=list(table.index), textposition="top center", marker=dict(size=10))  # fmt: skip
    fig.update_layout(title="Batch vs real-time payouts", xaxis_title="bank transfers per day",
                      yaxis_title="mean wait (minutes)", showlegend=False)  # fmt: skip
    return fig
