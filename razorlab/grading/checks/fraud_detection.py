"""Self-checks for ``solutions/round2_system_design/02_fraud_detection_exercises.ipynb``.

Expected values come from ``razorlab.fraud`` (batch features, the rules engine,
``total_cost``, ``choose_thresholds``, ``average_precision``), so a check and the
chapter can never disagree. Practice data are small and seeded so every learner sees
the same numbers and a check runs in milliseconds.

The notebook imports this module, so it holds the questions' inputs (configs, prices,
practice data) but no answer: q6's verdicts are salted SHA-256 digests per option, so
the check can count wrong picks and misses without the leaky set being importable. The
hidden tests compare with the instructor's solution, not with anything here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

import numpy as np
import pandas as pd

from razorlab.fraud.costs import CostModel, Thresholds, choose_thresholds, decide, total_cost
from razorlab.fraud.features import FEATURES, batch_features
from razorlab.fraud.metrics import average_precision
from razorlab.fraud.rules import RuleSet
from razorlab.fraud.synth import SynthConfig, simulate
from razorlab.grading.selfcheck import answer_digest, call_answer, question
from razorlab.rand import rng

SET = "fraud_detection"

Q1_CONFIG = SynthConfig(n_customers=150, days=6, seed=7)  # a small world for the feature check
Q2_MIN_PAISE = 1_000_000  # ₹10,000: the refund size the rule cares about
Q2_SCORE = 2.0
Q3_THRESHOLDS = Thresholds(review=1.0, decline=3.0)
Q3_COST = CostModel()  # ₹50 per review, ₹200 per declined good customer
Q4_COST = CostModel(review_paise=20_000, false_decline_paise=50_000)  # a review team at capacity
Q4_SLACK = 0.05  # a threshold pair within 5% of the cheapest passes (grids differ)
Q6_OPTIONS = {
    "card_count_1h": "payments on the card in the hour up to and including this one",
    "card_chargebacks_total": "the card's chargeback count, read from today's database",
    "merchant_fraud_rate_28d": "the merchant's fraud rate from labels older than 7 days, as of the payment",
    "customer_avg_amount_centered": "the customer's average amount over 15 days either side of the payment",
    "new_device": "first time this customer pays from this device",
    "refunded_later": "whether this payment was refunded within the following week",
}
#: Salted digest of each option's verdict (leaky or not): checked, never stored in the clear.
_Q6_DIGESTS = {
    "card_count_1h": "5606dabf15d58f30ab8a13dddac51b45",
    "card_chargebacks_total": "debe3b3ca22abfe79ecacdba5b23bd81",
    "merchant_fraud_rate_28d": "d06fb5b35fe95749934dde61860df079",
    "customer_avg_amount_centered": "2ed940031e73ad68327ef9485d82fc0f",
    "new_device": "f0069dcc1719b225783c9e80fc5980f8",
    "refunded_later": "8883e2690c62943605c43c47c85935f6",
}


def _q6_digest(option: str, leaky: bool) -> str:
    return answer_digest(SET, "q6", option, leaky)


@cache
def q1_frame() -> pd.DataFrame:
    """Payments the feature check runs a learner's function on."""
    return simulate(Q1_CONFIG)


def practice_scores(n: int = 5_000, seed: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(score in log-odds, is_fraud, amount_paise) for the threshold and AUPRC questions."""
    g = rng(seed, "grading.fraud_detection")
    y = (g.random(n) < 0.01).astype(np.int64)
    score = g.normal(-3.0, 1.5, n) + 4.0 * y
    amount = np.round(g.lognormal(8.0, 1.0, n) * 100).astype(np.int64) + 100
    return score, y, amount


@question(
    SET,
    "q1",
    covers="payments at the same second, gaps of exactly one hour, other cards, drawn streams",
)
def _q1(card_count_1h: Callable[[pd.DataFrame], np.ndarray]) -> str | None:
    frame = q1_frame()
    got, problem = call_answer(card_count_1h, frame.copy())
    if problem:
        return problem
    got = np.asarray(got)
    expected = batch_features(frame)["card_count_1h"].to_numpy()
    if got.shape != expected.shape:
        return f"return one count per payment ({len(expected)}), got shape {got.shape}."
    wrong = int((got != expected).sum())
    if wrong == 0:
        return None
    hint = (
        "some counts are too small: the window includes the current payment"
        if (got < expected).any()
        else "some counts are too big: the window is (ts - 3600, ts], so a payment exactly "
        "one hour earlier is out, and later payments never count"
    )
    return f"{wrong} of {len(expected)} counts differ; {hint}."


def _rule_probe() -> tuple[list[dict[str, float]], list[bool]]:
    rows, fires = [], []
    for refund in (0.0, 1.0):
        for new in (0.0, 1.0):
            for amount in (Q2_MIN_PAISE - 1, Q2_MIN_PAISE, 5 * Q2_MIN_PAISE):
                row = dict.fromkeys(FEATURES, 0.0)
                row.update(is_refund=refund, new_device=new, amount_paise=float(amount))
                rows.append(row)
                fires.append(bool(refund and new and amount >= Q2_MIN_PAISE))
    return rows, fires


@question(
    SET,
    "q2",
    covers="the amount boundary, purchases, known devices, JSON round trip, score, action, reason",
)
def _q2(rule: dict) -> str | None:
    if not isinstance(rule, dict):
        return "the rule should be a dict like the ones in DEFAULT_RULES.to_dict()['rules']."
    rules = RuleSet.from_dict({"version": "exercise", "rules": [rule]})
    rules.check_features(FEATURES)
    if rules.rules[0].score != Q2_SCORE:
        return f"the rule's score should be {Q2_SCORE} log-odds points."
    rows, fires = _rule_probe()
    got = [bool(rules.evaluate(r)) for r in rows]
    if got == fires:
        return None
    missed = sum(f and not g for f, g in zip(fires, got, strict=True))
    extra = sum(g and not f for f, g in zip(fires, got, strict=True))
    return (
        f"on 12 probe payments the rule misses {missed} it should catch and fires on "
        f"{extra} it should not; it needs all three conditions, with the amount at least ₹10,000."
    )


@question(
    SET, "q3", covers="other thresholds and prices, scores exactly on a threshold, all-approve"
)
def _q3(decision_cost: Callable[..., int]) -> str | None:
    score, y, amount = practice_scores()
    th = Q3_THRESHOLDS
    got, problem = call_answer(decision_cost, score, y, amount, th.review, th.decline, Q3_COST)
    if problem:
        return problem
    expected = total_cost(decide(score, np.zeros(len(score), int), th), y, amount, Q3_COST)
    if isinstance(got, bool) or not isinstance(got, int | np.integer):
        return f"return the cost as a whole number of paise (an int), got {got!r}."
    if got == expected:
        return None
    if got * 100 == expected or got == expected * 100:
        return "the units are off: give the cost in paise, not rupees."
    return (
        "not the total: add the amounts of approved frauds, the review price per review and "
        "the false-decline price per declined good payment; a score equal to a threshold "
        "belongs to the higher band."
    )


@question(
    SET,
    "q4",
    covers="review <= decline, the pair on 200,000 fresh payments (within 15% of the cheapest)",
)
def _q4(pair: object) -> str | None:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        return "answer a (review, decline) pair of log-odds thresholds."
    review, decline = (float(v) for v in pair)
    if review > decline:
        return "the review threshold cannot be above the decline threshold."
    score, y, amount = practice_scores()
    forced = np.zeros(len(score), int)
    _, best = choose_thresholds(score, y, amount, forced, Q4_COST)
    got = total_cost(decide(score, forced, Thresholds(review, decline)), y, amount, Q4_COST)
    if got <= best * (1 + Q4_SLACK):
        return None
    over = "much more than" if got > 2 * best else "more than 5% above"
    return (
        f"your pair costs {over} the cheapest; with reviews this "
        "expensive, try fewer reviews and compare costs over a grid of pairs."
    )


@question(
    SET,
    "q5",
    covers="all scores tied, a perfect ranking, a single fraud, scores rounded to few decimals",
)
def _q5(auprc: Callable[[np.ndarray, np.ndarray], float]) -> str | None:
    score, y, _ = practice_scores(800, seed=9)
    for name, s in (("distinct scores", score), ("scores with ties", np.round(score))):
        got, problem = call_answer(auprc, y, s)
        if problem:
            return problem
        expected = average_precision(y, s)
        if not isinstance(got, float | np.floating) or abs(got - expected) > 1e-9:
            hint = (
                "tied scores must enter the curve together (one threshold per distinct score)"
                if name == "scores with ties"
                else "sum (recall gain) x precision at each threshold, highest score first"
            )
            return f"wrong on {name}: {hint}."
    return None


@question(SET, "q6", covers="the same options in another order")
def _q6(leaky: object) -> str | None:
    if not isinstance(leaky, set | frozenset):
        return "answer a set of option names from fd.Q6_OPTIONS."
    unknown = set(leaky) - set(Q6_OPTIONS)
    if unknown:
        return f"not options: {sorted(unknown)}."
    off = [o for o in Q6_OPTIONS if _q6_digest(o, o in leaky) != _Q6_DIGESTS[o]]
    if not off:
        return None
    wrongly = sum(o in leaky for o in off)
    missed = len(off) - wrongly
    return (
        f"{wrongly} of your picks only use the past, and you missed {missed}; for each, ask: "
        "could the scorer know this value at the moment the payment arrives?"
    )
