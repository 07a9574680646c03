"""Real-time fraud detection: synthetic payments, features, rules, models and a scorer.

Round 2, scenario 2 ("fraud detection at 100K TPS, <10 ms"), built for real: an
agent-based payment simulator with five labelled attacks (``synth``), streaming and
batch features that agree to the bit (``features``), a feature store with
point-in-time joins (``store``), rules as data (``rules``), logistic regression and
boosted oblivious trees in numpy (``model``, ``boosting``), a versioned model store
(``registry``), a time-split trainer (``trainer``), cost-based thresholds (``costs``),
a scorer with reasons on every decision (``scorer``), evaluation with incident-level
intervals (``metrics``), the best one-line rule a world allows (``giveaways``),
label-free drift monitoring (``monitoring``) and retraining cadence (``retraining``).
"""

from razorlab.fraud.boosting import BoostedTrees
from razorlab.fraud.costs import (
    CostModel,
    Thresholds,
    choose_thresholds,
    cost_grid,
    decide,
    total_cost,
)
from razorlab.fraud.features import FEATURES, FeatureExtractor, OutOfOrder, batch_features
from razorlab.fraud.giveaways import SingleRule, best_single_rule, rule_columns
from razorlab.fraud.latency import (
    TARGET_UTILISATION,
    cores_needed,
    percentiles,
    stage_breakdown,
    time_each,
)
from razorlab.fraud.metrics import (
    average_precision,
    bootstrap_auprc,
    confusion,
    pattern_recall,
    percentile_interval,
    precision_recall_curve,
    roc_auc,
    roc_curve,
)
from razorlab.fraud.model import LogisticRegression, sigmoid
from razorlab.fraud.monitoring import alert_rate, daily_psi, psi, psi_by_feature
from razorlab.fraud.registry import ModelRegistry
from razorlab.fraud.retraining import compare_cadences, live_scores, weekly_auprc
from razorlab.fraud.rules import DEFAULT_RULES, Fired, Rule, RuleSet
from razorlab.fraud.scorer import Decision, FraudScorer
from razorlab.fraud.store import (
    FeatureStore,
    FeatureUnavailable,
    feature_matrix,
    merchant_risk_snapshots,
)
from razorlab.fraud.synth import PATTERNS, SynthConfig, simulate
from razorlab.fraud.trainer import TrainingRun, holdout_auprc, time_split, train
from razorlab.fraud.transaction import InvalidTransaction, Transaction

__all__ = [
    "BoostedTrees",
    "CostModel",
    "DEFAULT_RULES",
    "Decision",
    "FEATURES",
    "FeatureExtractor",
    "FeatureStore",
    "FeatureUnavailable",
    "Fired",
    "FraudScorer",
    "InvalidTransaction",
    "LogisticRegression",
    "ModelRegistry",
    "OutOfOrder",
    "PATTERNS",
    "Rule",
    "RuleSet",
    "SingleRule",
    "SynthConfig",
    "Thresholds",
    "TARGET_UTILISATION",
    "Transaction",
    "TrainingRun",
    "alert_rate",
    "average_precision",
    "best_single_rule",
    "batch_features",
    "bootstrap_auprc",
    "choose_thresholds",
    "compare_cadences",
    "confusion",
    "cores_needed",
    "cost_grid",
    "daily_psi",
    "decide",
    "feature_matrix",
    "holdout_auprc",
    "live_scores",
    "merchant_risk_snapshots",
    "pattern_recall",
    "percentile_interval",
    "percentiles",
    "precision_recall_curve",
    "psi",
    "psi_by_feature",
    "roc_auc",
    "rule_columns",
    "roc_curve",
    "sigmoid",
    "simulate",
    "stage_breakdown",
    "time_each",
    "time_split",
    "total_cost",
    "train",
    "weekly_auprc",
]
