"""The trainer: split by time, fit both models, pick thresholds by cost, report honestly.

Scenario: fraud drifts and labels arrive late, so a random train/test split lets the
model learn from next week to predict last week. The Fraud Detection Handbook insists
on splitting by time; so do we: the last 20% of the period (test) is touched once, for
the report. Labels arrive a week late (``store.LABEL_DELAY_S``), so on the day a model
ships, the newest week has no labels: training and validation end that long before the
test period starts (the Handbook's "delay period"), and of what is left the first 75%
trains the models and the last 25% (validation) chooses the decision thresholds. The
thresholds must also fit the review team (``costs.REVIEW_CAPACITY``, 1% of payments):
the cheapest pair that does not overflow the queue, not the cheapest pair.

Design note: the feature matrix is built once, point-in-time correct (see
``store.feature_matrix``), so nothing a model sees at time t was computed from events
after t. The combined score is the boosted trees' log-odds plus rule points; thresholds
minimise ``CostModel`` cost on validation. ``TrainingRun.report()`` compares rules
alone, each model alone and each model with rules on the test period by AUPRC (and
ROC-AUC, to show how little it discriminates).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.fraud.boosting import BoostedTrees
from razorlab.fraud.costs import REVIEW_CAPACITY, CostModel, Thresholds, choose_thresholds
from razorlab.fraud.metrics import average_precision, roc_auc
from razorlab.fraud.model import LogisticRegression
from razorlab.fraud.rules import DEFAULT_RULES, RuleSet
from razorlab.fraud.scorer import ACTION_LEVEL, FraudScorer
from razorlab.fraud.store import (
    LABEL_DELAY_S,
    FeatureStore,
    feature_matrix,
    merchant_risk_snapshots,
)
from razorlab.fraud.transaction import validate_frame
from razorlab.rand import DEFAULT_SEED

__all__ = [
    "TrainingRun",
    "time_split",
    "prepare",
    "train",
    "fit_models",
    "holdout_auprc",
    "SPLIT",
]

SPLIT = (0.6, 0.2, 0.2)  # train, validation, test shares of the period, in time order


def time_split(
    ts: np.ndarray,
    fractions: tuple[float, float, float] = SPLIT,
    gap_s: int = LABEL_DELAY_S,
):
    """Boolean masks (train, valid, test) cutting ``ts`` at time boundaries, oldest first.

    The test period is the last ``fractions[2]`` of payments. Train and validation share,
    in the ratio ``fractions[0] : fractions[1]``, only the payments at least ``gap_s``
    before the test period starts: on the day the model ships, those are the ones whose
    labels exist. The payments in the gap belong to no part.
    """
    ts = np.asarray(ts)
    if len(fractions) != 3 or abs(sum(fractions) - 1) > 1e-9 or min(fractions) <= 0:
        raise ValueError("fractions must be three positive shares summing to 1")
    if gap_s < 0:
        raise ValueError("gap_s must be >= 0 seconds")
    test_from = np.quantile(ts, 1 - fractions[2])
    labelled = ts < test_from - gap_s
    if not labelled.any():
        raise ValueError("no payment is older than the test period minus the label delay")
    valid_from = np.quantile(ts[labelled], fractions[0] / (fractions[0] + fractions[1]))
    return labelled & (ts < valid_from), labelled & (ts >= valid_from), ts >= test_from


def prepare(
    df: pd.DataFrame,
    fractions: tuple[float, float, float] = SPLIT,
    gap_s: int = LABEL_DELAY_S,
) -> tuple[pd.DataFrame, FeatureStore, pd.DataFrame, dict[str, np.ndarray]]:
    """Validated frame, feature store, point-in-time features and time-split masks."""
    frame = validate_frame(df)
    store = FeatureStore(merchant_risk_snapshots(frame))
    features = feature_matrix(frame, store)
    parts = time_split(frame["ts"].to_numpy(), fractions, gap_s)
    return frame, store, features, dict(zip(("train", "valid", "test"), parts, strict=True))


@dataclass
class TrainingRun:
    """Everything one training produced: data, features, models, scores, thresholds."""

    frame: pd.DataFrame
    features: pd.DataFrame
    masks: dict[str, np.ndarray]
    models: dict[str, object]
    scores: pd.DataFrame  # per payment: rules, lr, gbt, lr+rules, gbt+rules (log-odds)
    forced: np.ndarray  # per payment: 0 / 1 review / 2 decline forced by a rule
    thresholds: Thresholds
    validation_cost_paise: int
    scorer: FraudScorer

    def report(self, part: str = "test") -> pd.DataFrame:
        """AUPRC and ROC-AUC of every score on one part of the period."""
        mask, y = self.masks[part], self.frame["is_fraud"].to_numpy()
        rows = {
            name: {
                "AUPRC": average_precision(y[mask], s[mask]),
                "ROC-AUC": roc_auc(y[mask], s[mask]),
            }
            for name, s in self.scores.items()
        }
        return pd.DataFrame(rows).T.round(3)


def fit_models(X: np.ndarray, y: np.ndarray, names, seed: int = DEFAULT_SEED) -> dict:
    """Both learners fitted on the same rows."""
    return {
        "lr": LogisticRegression(names).fit(X, y),
        "gbt": BoostedTrees(names, seed=seed).fit(X, y),
    }


def holdout_auprc(
    features: pd.DataFrame, y: np.ndarray, masks: dict[str, np.ndarray], seed: int = DEFAULT_SEED
) -> float:
    """Test-period AUPRC of boosted trees fitted on the train period of ``features``.

    Used to show what a leaky feature does to an offline evaluation.
    """
    train_m, test_m = masks["train"], masks["test"]
    X = features.to_numpy()
    model = BoostedTrees(list(features.columns), seed=seed).fit(X[train_m], y[train_m])
    return average_precision(y[test_m], model.logit(X[test_m]))


def train(
    df: pd.DataFrame,
    *,
    rules: RuleSet = DEFAULT_RULES,
    cost: CostModel | None = None,
    seed: int = DEFAULT_SEED,
    fractions: tuple[float, float, float] = SPLIT,
    gap_s: int = LABEL_DELAY_S,
    review_capacity: float | None = REVIEW_CAPACITY,
) -> TrainingRun:
    """Train on labelled payments ``df`` (columns of ``simulate``) and build a scorer.

    Defaults are the protocol a fraud team can defend: training and validation end a
    label delay (``gap_s``) before the test period, and the thresholds send at most
    ``review_capacity`` of the validation payments to review (``None``: no cap).
    """
    frame, store, features, masks = prepare(df, fractions, gap_s)
    names = list(features.columns)
    X, y = features.to_numpy(), frame["is_fraud"].to_numpy()
    train_m, valid_m = masks["train"], masks["valid"]
    if y[train_m].sum() == 0 or y[valid_m].sum() == 0:
        raise ValueError("the training and validation periods each need some fraud")
    models = fit_models(X[train_m], y[train_m], names, seed)
    fired = rules.evaluate_batch({n: X[:, j] for j, n in enumerate(names)})
    rule_points = rules.scores(fired)
    actions = np.array([ACTION_LEVEL[r.action] for r in rules.rules])
    forced = np.where(fired, actions, 0).max(axis=1)
    scores = pd.DataFrame({"rules": rule_points}, index=features.index)
    for name, model in models.items():
        scores[name] = model.logit(X)
        scores[f"{name}+rules"] = scores[name] + rule_points
    combined = scores["gbt+rules"].to_numpy()
    thresholds, cost_paise = choose_thresholds(
        combined[valid_m],
        y[valid_m],
        frame["amount_paise"].to_numpy()[valid_m],
        forced[valid_m],
        cost,
        max_review_rate=review_capacity,
    )
    return TrainingRun(
        frame=frame,
        features=features,
        masks=masks,
        models=models,
        scores=scores,
        forced=forced,
        thresholds=thresholds,
        validation_cost_paise=cost_paise,
        scorer=FraudScorer(models["gbt"], rules, thresholds, FeatureStore(store.offline)),
    )
