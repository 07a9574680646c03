"""What a decision costs, and the two thresholds that make the total cost smallest.

Scenario: a risk score is not a decision. Approving a fraud costs its amount (the
chargeback); sending a payment to manual review costs an analyst's time whether it is
fraud or not (and we assume the analyst catches the fraud); declining a good customer
costs a lost sale and goodwill. Two thresholds split the score into
approve < review <= score < decline, and the right ones depend on these prices, not
on a "0.5 probability" convention. Stripe Radar exposes the same idea as risk levels
(elevated from 65, highest from 75 on its 0–100 scale) that a merchant can move.

Design note: costs are integer paise. ``choose_thresholds`` tries every pair of
candidate thresholds at once: with scores sorted, each pair's cost is a few prefix sums,
so a 300 x 300 grid costs one broadcast, not 90,000 passes over the data. Rules that
force a decision (``decline``/``review``) are honoured in the cost, as they will be
in production. A review team has a fixed size, so ``choose_thresholds`` can also cap the
share of payments sent to review (``REVIEW_CAPACITY``): the cheapest pair inside the cap
wins, and no pair at all is an error, not a silent overflow of the queue.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "CostModel",
    "Thresholds",
    "DECISIONS",
    "decide",
    "total_cost",
    "cost_grid",
    "choose_thresholds",
    "REVIEW_CAPACITY",
]

DECISIONS = ("approve", "review", "decline")
N_CANDIDATES = 300  # thresholds tried per side
IMPOSSIBLE = np.iinfo(np.int64).max  # the cost of a pair that cannot (or must not) be used
#: Share of payments the review team can look at: 1% at 100K TPS is already 1,000 a second.
REVIEW_CAPACITY = 0.01


@dataclass(frozen=True)
class CostModel:
    """Prices of outcomes in paise (a missed fraud costs its own amount)."""

    review_paise: int = 5_000  # ₹50: about three minutes of an analyst's time
    false_decline_paise: int = 20_000  # ₹200: lost margin, a support call, a customer at risk


@dataclass(frozen=True)
class Thresholds:
    """Score (log-odds) at which a payment is reviewed, and at which it is declined."""

    review: float
    decline: float

    def __repr__(self) -> str:
        # Shown to 4 significant digits: the stored values stay exact, but their last bits
        # differ between CPUs, and a printed threshold must read the same on every machine.
        return f"Thresholds(review={self.review:.4g}, decline={self.decline:.4g})"

    def band(self, score: float) -> int:
        return 2 if score >= self.decline else 1 if score >= self.review else 0


def decide(score: np.ndarray, forced: np.ndarray, th: Thresholds) -> np.ndarray:
    """Decision index (0 approve, 1 review, 2 decline): the score's band or a rule's force."""
    band = np.where(score >= th.decline, 2, np.where(score >= th.review, 1, 0))
    return np.maximum(band, forced)


def total_cost(decision: np.ndarray, y: np.ndarray, amount: np.ndarray, cost: CostModel) -> int:
    """Cost in paise of decisions (0/1/2) given labels and amounts."""
    fraud = np.asarray(y) == 1
    missed = int(np.asarray(amount, np.int64)[(decision == 0) & fraud].sum())
    reviews = int((decision == 1).sum()) * cost.review_paise
    declined_good = int(((decision == 2) & ~fraud).sum()) * cost.false_decline_paise
    return missed + reviews + declined_good


def _tail_counts(sorted_scores: np.ndarray, weights: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Σ weights of scores >= t, for each candidate t (scores sorted ascending)."""
    cum = np.concatenate([[0], np.cumsum(weights)])
    return cum[-1] - cum[np.searchsorted(sorted_scores, t, side="left")]


def _outcome_grid(score, y, amount, forced, review, decline):
    """Missed fraud (paise), reviews and declined good payments for every (review[i],
    decline[j]) pair, as three int64 grids."""
    score, y = np.asarray(score, np.float64), np.asarray(y).astype(bool)
    amount = np.asarray(amount, np.int64)
    forced = np.zeros(len(score), np.int64) if forced is None else np.asarray(forced, np.int64)
    R, D = np.asarray(review, float)[:, None], np.asarray(decline, float)[None, :]
    shape = (R.shape[0], D.shape[1])
    missed, reviewed = np.zeros(shape, np.int64), np.zeros(shape, np.int64)
    declined_good = np.full(shape, int(((forced == 2) & ~y).sum()), np.int64)
    for level, rows in ((0, forced == 0), (1, forced == 1)):
        order = np.argsort(score[rows], kind="stable")
        s, fy, amt = score[rows][order], y[rows][order], amount[rows][order]
        ones = np.ones(len(s), np.int64)
        declined_good += _tail_counts(s, (~fy).astype(np.int64), D)
        if level == 0:
            missed += amt[fy].sum() - _tail_counts(s, amt * fy, R)
            reviewed += _tail_counts(s, ones, R) - _tail_counts(s, ones, D)
        else:  # forced review: never approved, declined above the decline threshold
            reviewed += len(s) - _tail_counts(s, ones, D)
    return missed, reviewed, declined_good, R > D


def _price(missed, reviewed, declined_good, impossible, cost: CostModel) -> np.ndarray:
    total = missed + reviewed * cost.review_paise + declined_good * cost.false_decline_paise
    return np.where(impossible, IMPOSSIBLE, total)


def cost_grid(
    score: np.ndarray,
    y: np.ndarray,
    amount: np.ndarray,
    forced: np.ndarray | None,
    cost: CostModel,
    review: np.ndarray,
    decline: np.ndarray,
) -> np.ndarray:
    """Total cost (paise) for every (review[i], decline[j]) pair; pairs with review > decline
    are impossible and cost the int64 maximum."""
    return _price(*_outcome_grid(score, y, amount, forced, review, decline), cost)


def choose_thresholds(
    score: np.ndarray,
    y: np.ndarray,
    amount: np.ndarray,
    forced: np.ndarray | None = None,
    cost: CostModel | None = None,
    candidates: int = N_CANDIDATES,
    max_review_rate: float | None = None,
) -> tuple[Thresholds, int]:
    """The (review, decline) pair with the least total cost on this data, and that cost.

    Candidates are ``candidates`` quantiles of the top 10% of scores, plus "never". With
    ``max_review_rate`` (a share of all payments, e.g. ``REVIEW_CAPACITY``), only pairs
    that send at most that share to review (rule-forced reviews included) are allowed:
    the review queue is sized by the analysts on shift, not by the price of one review.
    """
    if max_review_rate is not None and not 0 <= max_review_rate <= 1:
        raise ValueError("max_review_rate must be a share of payments in [0, 1]")
    cost = cost or CostModel()
    t = np.unique(np.quantile(np.asarray(score, float), np.linspace(0.9, 1.0, candidates)))
    t = np.concatenate([t, [np.inf]])
    missed, reviewed, declined_good, impossible = _outcome_grid(score, y, amount, forced, t, t)
    if max_review_rate is not None:
        impossible = impossible | (reviewed > max_review_rate * len(score))
    total = _price(missed, reviewed, declined_good, impossible, cost)
    i, j = np.unravel_index(int(np.argmin(total)), total.shape)
    if total[i, j] == IMPOSSIBLE:
        raise ValueError(
            f"no thresholds keep reviews within {max_review_rate:.2%} of payments "
            "(rules alone force more reviews than that)"
        )
    return Thresholds(float(t[i]), float(t[j])), int(total[i, j])
