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

How sure is one AUPRC? The frauds of one test period come in incidents (one card-testing
burst is 20 rows, one takeover 1–3), so rows are not independent draws: resampling rows
would pretend a 20-row burst is 20 pieces of evidence. ``bootstrap_auprc`` resamples
*incidents* with replacement (a cluster bootstrap, Davison & Hinkley 1997, ch. 3.8),
each taking all its rows along, and honest payments one by one; the percentile interval
of the replicates is the uncertainty to quote. Each replicate is a weighted AUPRC on one
fixed sort of the scores, so 1,000 replicates cost 1,000 cumulative sums, not 1,000 sorts.
To pool seeds, average the replicate arrays of each seed (same ``n_boot``) and take the
interval of the averages: each world is resampled independently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "precision_recall_curve",
    "average_precision",
    "roc_curve",
    "roc_auc",
    "confusion",
    "pattern_recall",
    "bootstrap_auprc",
    "percentile_interval",
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


def _weighted_ap(t: np.ndarray, last: np.ndarray, w: np.ndarray) -> np.ndarray:
    """AUPRC of each row of weights ``w`` (replicates x rows, in score order)."""
    tp = np.cumsum(w * t, axis=1)[:, last]
    n = np.cumsum(w, axis=1)[:, last]
    gain = np.diff(np.concatenate([np.zeros((len(w), 1)), tp], axis=1), axis=1)
    return (gain * tp / np.maximum(n, 1)).sum(1) / np.maximum(tp[:, -1], 1)


def bootstrap_auprc(
    y, score, incident, *, n_boot: int = 1_000, seed: int = DEFAULT_SEED, chunk: int = 100
) -> np.ndarray:
    """``n_boot`` AUPRCs of ``score``, each on a resample of fraud incidents (all rows of a
    drawn incident together) and of honest rows (one by one). ``incident`` labels each
    fraud row's attack; it is ignored for honest rows."""
    y = np.asarray(y).astype(np.int64)
    score, incident = np.asarray(score, np.float64), np.asarray(incident)
    if y.sum() == 0:
        raise ValueError("need at least one fraud to bootstrap AUPRC")
    order = np.argsort(-score, kind="stable")
    s, t = score[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]
    ids, cluster = np.unique(incident[order][t == 1], return_inverse=True)
    honest = np.flatnonzero(t == 0)
    g = rng(seed, "fraud.metrics.bootstrap")
    out = []
    for start in range(0, n_boot, chunk):
        k = min(chunk, n_boot - start)
        w = np.zeros((k, len(t)))
        picks = g.integers(0, len(ids), (k, len(ids)))
        counts = np.stack([np.bincount(p, minlength=len(ids)) for p in picks])
        w[:, t == 1] = counts[:, cluster]
        rows = g.integers(0, len(honest), (k, len(honest)))
        w[:, honest] = np.stack([np.bincount(r, minlength=len(honest)) for r in rows])
        out.append(_weighted_ap(t, last, w))
    return np.concatenate(out)


def percentile_interval(replicates, level: float = 0.95) -> tuple[float, float]:
    """The central ``level`` interval of bootstrap replicates (percentile method)."""
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    lo, hi = np.quantile(np.asarray(replicates, np.float64), [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


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
