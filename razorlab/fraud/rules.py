"""The rules engine: rules are data, every firing says why, and rule sets have versions.

Scenario: analysts write rules faster than data scientists retrain models ("block if
one IP used 5 cards in a minute"), and a rule can be explained to a customer, a
regulator and a reviewer. Stripe Radar's rules read like ``Block if :card_count_1h: > 5``
and are evaluated in a fixed order of actions (request 3DS → allow → block → review).

Design note: a ``Rule`` is a name, a conjunction of conditions over features
(``("card_count_1m", ">=", 3)``), a score in log-odds points added to the model's
log-odds, an optional forced action (``"review"`` or ``"decline"``) and a reason
template filled with the feature values that made it fire. A ``RuleSet`` is a version
plus rules; it round-trips through plain JSON-able dicts, so rules can be stored,
diffed and reviewed like any other data. The same rule gives the same answer one
payment at a time (``evaluate``) and for a whole matrix (``evaluate_batch``).
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from razorlab.errors import ValidationError

__all__ = ["Rule", "RuleSet", "Fired", "ACTIONS", "OPERATORS", "DEFAULT_RULES"]

OPERATORS = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
}
ACTIONS = (None, "review", "decline")


@dataclass(frozen=True)
class Fired:
    """One rule that fired for one payment, with its filled-in reason."""

    rule: str
    score: float
    action: str | None
    reason: str


@dataclass(frozen=True)
class Rule:
    """``when`` all conditions hold, add ``score`` (log-odds) and maybe force ``action``."""

    name: str
    when: tuple[tuple[str, str, float], ...]
    score: float
    reason: str
    action: str | None = None

    def __post_init__(self) -> None:
        if not self.when:
            raise ValidationError(f"rule {self.name!r} has no conditions", field="when")
        for cond in self.when:
            if len(cond) != 3 or cond[1] not in OPERATORS:
                raise ValidationError(
                    f"rule {self.name!r}: condition {cond!r} must be (feature, op, value) "
                    f"with op in {sorted(OPERATORS)}",
                    field="when",
                )
        if self.action not in ACTIONS:
            raise ValidationError(f"rule {self.name!r}: unknown action", field="action")

    def matches(self, features: Mapping[str, float]) -> bool:
        return all(OPERATORS[op](features[f], v) for f, op, v in self.when)

    def mask(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        out = np.ones(len(next(iter(columns.values()))), bool)
        for f, op, v in self.when:
            out &= OPERATORS[op](columns[f], v)
        return out

    def explain(self, features: Mapping[str, float]) -> str:
        return self.reason.format(**{f: features[f] for f, _, _ in self.when})


@dataclass(frozen=True)
class RuleSet:
    """A versioned, ordered list of rules."""

    version: str
    rules: tuple[Rule, ...]

    def check_features(self, names: Sequence[str]) -> None:
        """Refuse a rule set that reads a feature the engine does not compute."""
        for rule in self.rules:
            for f, _, _ in rule.when:
                if f not in names:
                    raise ValidationError(
                        f"rule {rule.name!r} reads unknown feature {f!r}", field="when"
                    )

    def evaluate(self, features: Mapping[str, float]) -> list[Fired]:
        """Rules that fire for one payment, in rule-set order, each with its reason."""
        return [
            Fired(r.name, r.score, r.action, r.explain(features))
            for r in self.rules
            if r.matches(features)
        ]

    def evaluate_batch(self, columns: Mapping[str, np.ndarray]) -> np.ndarray:
        """Boolean matrix (payments x rules): which rule fired for which payment."""
        return np.column_stack([r.mask(columns) for r in self.rules])

    def scores(self, fired: np.ndarray) -> np.ndarray:
        """Sum of fired rules' scores per payment, added in rule order (as ``evaluate`` does)."""
        total = np.zeros(fired.shape[0])
        for j, rule in enumerate(self.rules):
            total = total + np.where(fired[:, j], rule.score, 0.0)
        return total

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "rules": [
                {
                    "name": r.name,
                    "when": [list(c) for c in r.when],
                    "score": r.score,
                    "action": r.action,
                    "reason": r.reason,
                }
                for r in self.rules
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping) -> RuleSet:
        try:
            rules = tuple(
                Rule(
                    name=r["name"],
                    when=tuple((str(f), str(op), v) for f, op, v in r["when"]),
                    score=float(r["score"]),
                    reason=r["reason"],
                    action=r.get("action"),
                )
                for r in data["rules"]
            )
            return cls(str(data["version"]), rules)
        except (KeyError, TypeError, ValueError) as exc:
            raise ValidationError(f"malformed rule set: {exc}", field="rules") from None


#: What an analyst team might ship on day one; each targets one attack's signature.
DEFAULT_RULES = RuleSet(
    version="2026-01-rules-v1",
    rules=(
        Rule(
            "ip_card_testing",
            (("ip_count_1m", ">=", 4), ("amount_paise", "<=", 2_000)),
            4.0,
            "{ip_count_1m:.0f} payments from one IP within a minute, amount {amount_paise:.0f} paise",
            "decline",
        ),
        Rule(
            "card_velocity",
            (("card_count_1h", ">=", 5),),
            3.0,
            "card used {card_count_1h:.0f} times in the last hour",
        ),
        Rule(
            "new_device_big_amount",
            (("new_device", "==", 1), ("amount_z", ">=", 3)),
            3.0,
            "first payment from this device and amount z-score {amount_z:.1f}",
        ),
        Rule(
            "impossible_travel",
            (("travel_kmh", ">=", 900),),
            3.0,
            "card would have travelled at {travel_kmh:.0f} km/h since its last payment",
            "review",
        ),
        Rule(
            "merchant_refund_spree",
            (("is_refund", "==", 1), ("merchant_refunds_24h", ">=", 2)),
            2.5,
            "refund from a merchant that issued {merchant_refunds_24h:.0f} refunds today",
        ),
    ),
)
