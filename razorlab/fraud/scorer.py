"""The scorer: features → model + rules → approve / review / decline, always with reasons.

Scenario: the seed's pipeline for "100K TPS, <10 ms": extract features, predict, run
rules, combine the scores, decide. Here it runs for real, in two modes that must agree:
``score(txn)`` for one live payment (updates the streaming windows, reads the online
store) and ``score_batch(df)`` for a day of payments at once (batch features,
point-in-time store join). Replaying a day through ``score`` gives exactly the rows of
``score_batch``: same floats, same decisions, same reasons.

Design note: scores combine in log-odds: ``model log-odds + Σ fired rule points``, so a
rule is evidence added to the model's, not a second opinion averaged in. Thresholds on
the combined score come from ``costs.choose_thresholds``; a rule's forced action can
only raise the decision. Every decision says why: the band it fell in, every rule that
fired with its filled-in reason and, for review/decline, the features that pushed the
model's score up most. If the online store is down, the merchant's risk falls back to
its default and the decision says "degraded" instead of failing the payment (the seed
returns an error for the whole payment when any one feature fails).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple, Protocol

import numpy as np
import pandas as pd

from razorlab.fraud.costs import DECISIONS, Thresholds, decide
from razorlab.fraud.features import FEATURES, FeatureExtractor
from razorlab.fraud.rules import RuleSet
from razorlab.fraud.store import FeatureStore, FeatureUnavailable, feature_matrix
from razorlab.fraud.transaction import Transaction, validate_frame

__all__ = ["Decision", "FraudModel", "FraudScorer", "TOP_REASONS", "ACTION_LEVEL"]

TOP_REASONS = 2  # model features quoted per review/decline
ACTION_LEVEL = {None: 0, "review": 1, "decline": 2}  # a rule's forced action as a decision index


class FraudModel(Protocol):
    """What the scorer needs from a model (``LogisticRegression``, ``BoostedTrees``)."""

    features: tuple[str, ...]

    def logit(self, X: np.ndarray) -> np.ndarray: ...
    def logit_one(self, x: Sequence[float]) -> float: ...
    def contributions(self, X: np.ndarray) -> np.ndarray: ...
    def contributions_one(self, x: Sequence[float]) -> list[float]: ...


class Decision(NamedTuple):
    """The answer for one payment (a named tuple: cheap to build a million of)."""

    txn_id: int
    decision: str
    score: float  # combined log-odds
    probability: float  # sigmoid of the combined score
    model_score: float
    rule_score: float
    rules: tuple[str, ...]
    reasons: tuple[str, ...]


class FraudScorer:
    """Model + rules + thresholds + feature store, scoring one payment or a batch."""

    def __init__(
        self,
        model: FraudModel,
        rules: RuleSet,
        thresholds: Thresholds,
        store: FeatureStore,
    ):
        self.model, self.rules, self.thresholds, self.store = model, rules, thresholds, store
        self.features = (*FEATURES, *store.features)
        if tuple(model.features) != self.features:
            raise ValueError("model was trained on different features than the scorer computes")
        rules.check_features(self.features)
        self.extractor = FeatureExtractor()

    # ----- one payment -------------------------------------------------------------------
    def score(self, txn: Transaction | Mapping[str, object]) -> Decision:
        """Decide one live payment; validates first, so a bad request changes no state."""
        t = txn if isinstance(txn, Transaction) else Transaction.from_dict(txn)
        x = self.extractor.extract(t)
        self.store.materialize(t.ts)
        degraded = False
        try:
            x.extend(self.store.get_online(getattr(t, self.store.entity)))
        except FeatureUnavailable:
            x.extend(self.store.defaults)
            degraded = True
        named = dict(zip(self.features, x, strict=True))
        fired = self.rules.evaluate(named)
        model_score = self.model.logit_one(x)
        rule_score = 0.0
        for f in fired:
            rule_score += f.score
        forced = max((ACTION_LEVEL[f.action] for f in fired), default=0)
        level = max(self.thresholds.band(model_score + rule_score), forced)
        contrib = self.model.contributions_one(x) if level else None
        return self.decision(
            t.txn_id, level, model_score, rule_score, forced, fired, x, contrib, degraded
        )

    def decision(
        self, txn_id, level, model_score, rule_score, forced, fired, x, contrib, degraded
    ) -> Decision:
        """Assemble a decision and its reasons (shared by both paths, so they agree)."""
        score = model_score + rule_score
        th = self.thresholds
        if level == 0:
            why = f"approve: score {score:.2f} below review threshold {th.review:.2f}"
        elif forced == level and th.band(score) < level:
            why = f"{DECISIONS[level]}: forced by rule"
        else:
            bar = th.decline if level == 2 else th.review
            why = f"{DECISIONS[level]}: score {score:.2f} at or above {bar:.2f}"
        reasons = [why, *(f"rule {f.rule}: {f.reason}" for f in fired)]
        if contrib is not None:
            top = sorted(range(len(contrib)), key=lambda j: (-contrib[j], j))[:TOP_REASONS]
            reasons += [
                f"model: {self.features[j]}={x[j]:g} (+{contrib[j]:.2f})"
                for j in top
                if contrib[j] > 0
            ]
        if degraded:
            reasons.append("degraded: merchant risk unavailable, default used")
        return Decision(
            txn_id=txn_id,
            decision=DECISIONS[level],
            score=score,
            probability=1.0 / (1.0 + math.exp(-score)),
            model_score=model_score,
            rule_score=rule_score,
            rules=tuple(f.rule for f in fired),
            reasons=tuple(reasons),
        )

    # ----- a batch ---------------------------------------------------------------------
    def score_batch(self, df: pd.DataFrame) -> pd.DataFrame:
        """Decide every payment of ``df`` as if replayed through ``score`` from a fresh state."""
        ordered = validate_frame(df)
        X = feature_matrix(ordered, self.store)[list(self.features)].to_numpy()
        columns = {f: X[:, j] for j, f in enumerate(self.features)}
        fired = self.rules.evaluate_batch(columns)
        rule_score = self.rules.scores(fired)
        model_score = self.model.logit(X)
        actions = np.array([ACTION_LEVEL[r.action] for r in self.rules.rules])
        forced = np.where(fired, actions, 0).max(axis=1)
        level = decide(model_score + rule_score, forced, self.thresholds)
        flagged = np.flatnonzero(level > 0)
        contrib = dict(zip(flagged.tolist(), self.model.contributions(X[flagged]), strict=True))
        rows = []
        any_fired = fired.any(axis=1).tolist()
        for i, (txn_id, x, lvl, m, r, f) in enumerate(
            zip(
                ordered["txn_id"].tolist(),
                X.tolist(),
                level.tolist(),
                model_score.tolist(),
                rule_score.tolist(),
                forced.tolist(),
                strict=True,
            )
        ):
            named = dict(zip(self.features, x, strict=True))
            hits = self.rules.evaluate(named) if any_fired[i] else []
            c = contrib[i].tolist() if lvl else None
            rows.append(self.decision(txn_id, lvl, m, r, f, hits, x, c, False))
        return pd.DataFrame(rows, columns=Decision._fields)
