"""Watching a deployed fraud model: alert rate and population stability, day by day.

Scenario: labels arrive a week late (``store.LABEL_DELAY_S``), so on the day fraud
changes shape nobody can compute today's AUPRC. Two signals need no labels. The
**alert rate** (share of payments the engine reviews or declines) is what the review
team feels first: a jump means either an attack or a model reacting to honest change.
The **population stability index** (PSI) measures how far a feature's (or the score's)
distribution today has moved from the one the model was trained on:

    PSI = Σ_bins (live_share − ref_share) · ln(live_share / ref_share)

a symmetrised Kullback-Leibler divergence over bins, from credit scoring (Siddiqi,
"Credit Risk Scorecards", 2006; Yurdakul 2018 derives its sampling distribution). The
usual reading: below 0.1 stable, 0.1–0.25 worth a look, above 0.25 a real shift.

Design note: bins are deciles of the *reference* sample (edges at its distinct
quantiles, so a count feature with few values gets one bin per value rather than
empty duplicates), open at both ends so live values outside the training range still
land in a bin. A bin empty on one side would make the log infinite; shares are floored
at ``EPS`` (a common convention, and the reason PSI on tiny samples is noisy: compare
days, not hours). Everything is computed from arrays and seconds; nothing reads a clock.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["psi", "psi_by_feature", "alert_rate", "daily_psi", "PSI_WATCH", "PSI_SHIFT", "EPS"]

PSI_WATCH, PSI_SHIFT = 0.1, 0.25  # the conventional "look" and "shifted" lines
EPS = 1e-4  # share floor for a bin empty on one side
DAY_S = 86_400


def _edges(reference: np.ndarray, bins: int) -> np.ndarray:
    return np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))


def _shares(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    return np.maximum(counts / max(len(values), 1), EPS)


def psi(reference, live, bins: int = 10) -> float:
    """Population stability index of ``live`` against ``reference`` (reference deciles)."""
    reference, live = np.asarray(reference, np.float64), np.asarray(live, np.float64)
    if len(reference) == 0 or len(live) == 0:
        raise ValueError("psi needs values on both sides")
    edges = _edges(reference, bins)
    ref, cur = _shares(reference, edges), _shares(live, edges)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def psi_by_feature(reference: pd.DataFrame, live: pd.DataFrame, bins: int = 10) -> pd.Series:
    """PSI of every column of ``live`` against the same column of ``reference``, largest first."""
    values = {c: psi(reference[c].to_numpy(), live[c].to_numpy(), bins) for c in live.columns}
    return pd.Series(values, name="PSI").sort_values(ascending=False)


def _day(ts: np.ndarray, origin: int) -> np.ndarray:
    return (np.asarray(ts, np.int64) - origin) // DAY_S


def alert_rate(flagged, ts, origin: int | None = None) -> pd.Series:
    """Share of payments flagged (reviewed or declined) per day since ``origin`` (default:
    the first payment)."""
    ts = np.asarray(ts, np.int64)
    origin = int(ts.min()) if origin is None else origin
    frame = pd.DataFrame({"day": _day(ts, origin), "flagged": np.asarray(flagged, bool)})
    return frame.groupby("day")["flagged"].mean().rename("alert_rate")


def daily_psi(reference, live, ts, origin: int | None = None, bins: int = 10) -> pd.Series:
    """PSI of each day's ``live`` values (days of ``ts`` since ``origin``) against ``reference``."""
    ts, live = np.asarray(ts, np.int64), np.asarray(live, np.float64)
    origin = int(ts.min()) if origin is None else origin
    day = _day(ts, origin)
    return pd.Series(
        {int(d): psi(reference, live[day == d], bins) for d in np.unique(day)}, name="PSI"
    ).rename_axis("day")
