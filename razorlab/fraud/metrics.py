"""How good is a fraud score? Precision/recall, AUPRC, ROC and the cost of decisions.

Scenario: with 0.3% fraud, "99.7% accurate" is the model that approves everything.
ULB's credit-card set (0.172% fraud) is evaluated with the area under the
precision-recall curve (AUPRC) for that reason; the Fraud Detection Handbook shows ROC-AUC
saturating (~0.87 for very different models) while AUPRC still tells them apart. A
random score has AUPRC equal to the fraud rate, not 0.5.

Design note: curves are computed at every *distinct* score (tied payments enter
together), so a coarse score such as a sum of rule points is not flattered by an
arbitrary tie order. Average precision is the step sum ``Σ (R_k − R_{k−1}) P_k``
(the definition scikit-learn uses), not a trapezoid, which over-states AUPRC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "precision_recall_curve",
    "average_precision",
    "roc_curve",
    "roc_auc",
    "confusion",
    "pattern_recall",
]


def _cumulative(y: np.ndarray, score: np.ndarray):
    y, score = np.asarray(y).astype(np.int64), np.asarray(score, np.float64)
    if y.sum() == 0:
        raise ValueError("need at least one fraud to draw a curve")
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # end of each group of ties
    tp = np.cumsum(t)[last]
    fp = (last + 1) - tp
    return tp, fp, s[last], int(y.sum()), len(y) - int(y.sum())


def precision_recall_curve(y, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(precision, recall, threshold) for "flag if score >= threshold", high thresholds first."""
    tp, fp, thresholds, pos, _ = _cumulative(y, score)
    return tp / (tp + fp), tp / pos, thresholds


def average_precision(y, score) -> float:
    """Area under the precision-recall curve as the step sum of precision over recall gains."""
    precision, recall, _ = precision_recall_curve(y, score)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def roc_curve(y, score) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate, threshold), starting at (0, 0)."""
    tp, fp, thresholds, pos, neg = _cumulative(y, score)
    return np.r_[0.0, fp / neg], np.r_[0.0, tp / pos], np.r_[np.inf, thresholds]


def roc_auc(y, score) -> float:
    """Area under the ROC curve (trapezoids: ties count half, as for the Mann-Whitney U)."""
    fpr, tpr, _ = roc_curve(y, score)
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def confusion(decision, y) -> pd.DataFrame:
    """Counts of approve/review/decline against legit/fraud."""
    table = pd.crosstab(
        pd.Categorical(np.asarray(decision), ["approve", "review", "decline"]),
        pd.Categorical(np.where(np.asarray(y) == 1, "fraud", "legit"), ["legit", "fraud"]),
        dropna=False,
    )
    table.index.name, table.columns.name = "decision", "label"
    return table


def pattern_recall(pattern, caught) -> pd.Series:
    """Share of each fraud pattern's payments that were caught (reviewed or declined)."""
    frame = pd.DataFrame({"pattern": np.asarray(pattern), "caught": np.asarray(caught, bool)})
    frauds = frame[frame["pattern"] != "none"]
    return frauds.groupby("pattern")["caught"].mean().rename("recall")
