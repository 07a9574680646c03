"""Retraining cadence: score each payment with the model that was live when it arrived.

Scenario: a model is a snapshot of the weeks it learned from, and fraud moves (a new
attack, a festive shift). Chargebacks arrive a week late (``store.LABEL_DELAY_S``), so a
model refitted on day t can learn only from payments older than t minus the delay. How
much does refitting every k days buy over training once? Replay the period: from
``first_day`` on, refit every ``every_days`` days on every payment whose label exists by
then, score the payments up to the next refit with that model, and read the AUPRC week by
week. Training once is the same replay with no refit after the first.

Design note: features are computed once, point in time (``store.feature_matrix``), so a
refit is only a fit on the rows labelled by then; no payment is scored by a model that
saw its label, or any label younger than the delay. Where we simplify: the boosted trees
alone are refitted (no rules, no threshold choice: AUPRC needs no threshold), on an
expanding window (all labelled history; ``window_days`` makes it rolling), and a refit is
instant, where a real one also waits for a shadow run and a comparison before it ships.
Weeks count from ``origin`` in 7-day blocks; a week with no fraud has no AUPRC (NaN).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from razorlab.fraud.boosting import BoostedTrees
from razorlab.fraud.metrics import average_precision
from razorlab.fraud.store import LABEL_DELAY_S
from razorlab.rand import DEFAULT_SEED

__all__ = ["live_scores", "weekly_auprc", "compare_cadences", "DAY_S", "WEEK_S"]

DAY_S = 86_400
WEEK_S = 7 * DAY_S


def live_scores(
    features: pd.DataFrame,
    y: np.ndarray,
    ts: np.ndarray,
    *,
    origin: int,
    first_day: int,
    every_days: int | None,
    label_delay_s: int = LABEL_DELAY_S,
    window_days: int | None = None,
    seed: int = DEFAULT_SEED,
) -> np.ndarray:
    """Log-odds of fraud per payment from the model live at its time (NaN before ``first_day``).

    Refits happen at ``origin + first_day`` days and then every ``every_days`` days
    (``None``: never again); each fits on payments older than the refit minus
    ``label_delay_s`` (and, if ``window_days``, no older than that many days before it).
    """
    if every_days is not None and every_days < 1:
        raise ValueError("every_days must be >= 1 (or None: train once)")
    ts, y = np.asarray(ts, np.int64), np.asarray(y)
    X, names = features.to_numpy(), list(features.columns)
    end, start = int(ts.max()) + 1, origin + first_day * DAY_S
    step = end - start if every_days is None else every_days * DAY_S
    scores = np.full(len(ts), np.nan)
    for refit in range(start, end, step):
        known = ts < refit - label_delay_s
        if window_days is not None:
            known &= ts >= refit - label_delay_s - window_days * DAY_S
        if y[known].sum() == 0:
            raise ValueError(f"no labelled fraud before the refit at {refit}")
        model = BoostedTrees(names, seed=seed).fit(X[known], y[known])
        live = (ts >= refit) & (ts < refit + step)
        scores[live] = model.logit(X[live])
    return scores


def weekly_auprc(y: np.ndarray, score: np.ndarray, ts: np.ndarray, origin: int) -> pd.Series:
    """AUPRC of ``score`` per 7-day week since ``origin``, over the payments it scored."""
    y, score, ts = np.asarray(y), np.asarray(score, np.float64), np.asarray(ts, np.int64)
    scored = ~np.isnan(score)
    week = (ts - origin) // WEEK_S
    values = {}
    for w in np.unique(week[scored]):
        m = scored & (week == w)
        values[int(w)] = average_precision(y[m], score[m]) if y[m].any() else np.nan
    return pd.Series(values, name="AUPRC", dtype=float).rename_axis("week")


def compare_cadences(
    features: pd.DataFrame,
    y: np.ndarray,
    ts: np.ndarray,
    cadences: Mapping[str, int | None],
    *,
    origin: int,
    first_day: int,
    **options,
) -> pd.DataFrame:
    """Weekly AUPRC (rows: weeks) for each named cadence (columns), plus each week's frauds.

    ``cadences`` maps a name to ``every_days`` (``None``: train once); ``options`` go to
    ``live_scores`` (``label_delay_s``, ``window_days``, ``seed``).
    """
    table = {
        name: weekly_auprc(
            y,
            live_scores(
                features, y, ts, origin=origin, first_day=first_day, every_days=k, **options
            ),
            ts,
            origin,
        )
        for name, k in cadences.items()
    }
    frame = pd.DataFrame(table)
    week = (np.asarray(ts, np.int64) - origin) // WEEK_S
    frauds = pd.Series(np.asarray(y)).groupby(week).sum()
    return frame.assign(frauds=frauds.reindex(frame.index).astype(int))
