"""What the best one-line rule still catches: a world's giveaway, measured.

Scenario: a simulator with a giveaway teaches nothing. PaySim's ``amount ==
oldbalanceOrg`` finds 98% of its frauds (Lopez-Rojas et al. 2016); our default world's
"amount <= ₹10" is almost always card testing. Before a world is used to compare models
we ask: what is the most precise rule an analyst could write in one line that still
catches a stated share of the fraud? If that rule is nearly perfect, the models are
being graded on a puzzle already solved.

Design note: a one-line rule is one threshold on one column (``>=`` or ``<=``),
optionally restricted to refunds, first-seen devices or first-seen cities (the flags an
analyst reaches for first). Each candidate is scored on every distinct threshold at once
with the tie-honest precision-recall curve of ``metrics``; recall is always measured
against all frauds, not only those inside the restriction. The search is exhaustive over
thresholds and columns, so "no rule above precision p at recall r" is a statement about
every one-line rule of that form, not a sample.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.fraud.metrics import precision_recall_curve

__all__ = ["SingleRule", "best_single_rule", "rule_columns", "RESTRICTIONS"]

#: flag columns a one-line rule may be restricted to ("among refunds, ...")
RESTRICTIONS = ("is_refund", "new_device", "new_city")


def rule_columns(frame: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    """The features plus ``prior_purchases`` (the customer's purchases before this payment),
    the column behind "a refund to a card that never bought"; ``frame`` in stream order."""
    purchase = (frame["kind"] == "purchase").to_numpy().astype(np.int64)
    before = pd.Series(purchase).groupby(frame["customer_id"].to_numpy()).cumsum() - purchase
    return features.assign(prior_purchases=before.to_numpy(np.float64))


@dataclass(frozen=True)
class SingleRule:
    """A one-line rule and what it catches on the data it was searched on."""

    rule: str
    precision: float
    recall: float
    flagged: int


def best_single_rule(columns: pd.DataFrame, y: np.ndarray, min_recall: float) -> SingleRule:
    """The most precise one-line rule over ``columns`` that catches >= ``min_recall`` of frauds."""
    if not 0 < min_recall <= 1:
        raise ValueError("min_recall must be a share of frauds in (0, 1]")
    y = np.asarray(y).astype(np.int64)
    total = int(y.sum())
    if total == 0:
        raise ValueError("need at least one fraud to measure a rule")
    scopes = {"": np.ones(len(y), bool)}
    scopes.update(
        {f"{f} == 1 and ": columns[f].to_numpy() == 1 for f in RESTRICTIONS if f in columns}
    )
    best = SingleRule("none", 0.0, 0.0, 0)
    for prefix, scope in scopes.items():
        if y[scope].sum() < min_recall * total:
            continue
        for name in columns.columns:
            values = columns[name].to_numpy(np.float64)[scope]
            for op, sign in ((">=", 1.0), ("<=", -1.0)):
                precision, recall, thresholds = precision_recall_curve(y[scope], sign * values)
                recall = recall * y[scope].sum() / total
                ok = np.flatnonzero(recall >= min_recall)
                if len(ok) == 0:
                    continue
                i = ok[np.argmax(precision[ok])]
                if precision[i] > best.precision:
                    caught = int(round(recall[i] * total))
                    best = SingleRule(
                        f"{prefix}{name} {op} {sign * thresholds[i]:g}",
                        float(precision[i]),
                        float(recall[i]),
                        int(round(caught / precision[i])),
                    )
    return best
