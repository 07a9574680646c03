"""Batch vs real-time payouts: how long merchants wait against how many bank transfers we pay for.

Scenario: settled money becomes payable to merchants all day long. Paying each item the moment
it is payable (IMPS/UPI, about a second) is fastest but costs one bank transfer each; waiting
for the next scheduled batch (say hourly NEFT-style) merges a merchant's items into one transfer
but makes them wait. The usual compromise is a threshold: large items go out at once, small
ones wait for the batch — or go out on demand when the merchant asks.

Design note: vectorised numpy over arrays of (merchant, amount, payable_at); waits are seconds,
amounts int64 paise. "Float held" (paise × hours waiting) is the working-capital cost of
waiting, the number a merchant actually feels.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.money import Money
from razorlab.rand import rng

__all__ = ["REALTIME_LATENCY_S", "random_payables", "compare_modes"]

REALTIME_LATENCY_S = 1.0  # seconds for an instant (IMPS/UPI) payout to land, order of magnitude
SECONDS_PER_DAY = 86_400


def random_payables(
    n: int, *, merchants: int, seed: int, median_paise: int = 150_000
) -> pd.DataFrame:
    """``n`` payable items over one day: merchant id, amount (lognormal) and when payable."""
    g = rng(seed, "payables")
    return pd.DataFrame({
        "merchant": g.integers(0, merchants, n),
        "amount": np.maximum(100, g.lognormal(np.log(median_paise), 1.2, n)).astype(np.int64),
        "payable_at": np.sort(g.uniform(0, SECONDS_PER_DAY, n)),
    })  # fmt: skip


def _mode(df: pd.DataFrame, instant: np.ndarray, batch_interval_s: float, cost: int) -> dict:
    t = df["payable_at"].to_numpy()
    window = np.floor(t / batch_interval_s)
    wait = np.where(instant, REALTIME_LATENCY_S, (window + 1) * batch_interval_s - t)
    batched = ~instant
    groups = pd.unique(df["merchant"].to_numpy()[batched] * (SECONDS_PER_DAY + 1) + window[batched])
    transfers = int(instant.sum()) + len(groups)
    amount = df["amount"].to_numpy()
    return {
        "transfers": transfers,
        "cost_paise": transfers * cost,
        "mean_wait_s": float(wait.mean()),
        "p95_wait_s": float(np.percentile(wait, 95)),
        "float_rupee_hours": float((amount * wait).sum() / 100 / 3600),
    }


def compare_modes(
    payables: pd.DataFrame,
    *,
    threshold_paise: int,
    batch_interval_s: float = 3600,
    per_transfer_cost_paise: int = 500,
) -> pd.DataFrame:
    """Batch-only, threshold hybrid and real-time-only payouts of the same items."""
    if batch_interval_s <= 0:
        raise ValidationError("batch_interval_s must be > 0", field="batch_interval_s")
    if isinstance(threshold_paise, bool) or not isinstance(threshold_paise, int | np.integer):
        raise ValidationError("threshold_paise must be int paise", field="threshold_paise")
    amount = payables["amount"].to_numpy()
    modes = {
        "batch": np.zeros(len(amount), dtype=bool),
        f"hybrid (≥ {Money(int(threshold_paise)).format()} instant)": amount >= threshold_paise,
        "real-time": np.ones(len(amount), dtype=bool),
    }
    rows = {name: _mode(payables, inst, batch_interval_s, per_transfer_cost_paise)
            for name, inst in modes.items()}  # fmt: skip
    table = pd.DataFrame(rows).T.rename_axis("mode")
    return table.astype({"transfers": "int64", "cost_paise": "int64"})
