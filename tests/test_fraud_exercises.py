"""Self-checks of the fraud_detection exercises: right answers pass, wrong ones hint only."""

import numpy as np
import pytest

from razorlab.fraud import average_precision, batch_features, choose_thresholds
from razorlab.grading import Checker
from razorlab.grading.checks import fraud_detection as fd

check = Checker("fraud_detection")

RULE = {
    "name": "big_refund_new_device",
    "when": [["is_refund", "==", 1], ["new_device", "==", 1], ["amount_paise", ">=", 1_000_000]],
    "score": 2.0,
    "action": "review",
    "reason": "refund of {amount_paise:.0f} paise",
}


def engine_count(df):
    return batch_features(df)["card_count_1h"].to_numpy()


def cost(score, y, amount, review, decline, c):
    declined = score >= decline
    reviewed = (score >= review) & ~declined
    approved = ~(declined | reviewed)
    return (
        int(amount[approved & (y == 1)].sum())
        + int(reviewed.sum()) * c.review_paise
        + int((declined & (y == 0)).sum()) * c.false_decline_paise
    )


def best_pair():
    score, y, amount = fd.practice_scores()
    th, _ = choose_thresholds(score, y, amount, None, fd.Q4_COST)
    return (th.review, th.decline)


RIGHT = {
    "q1": engine_count,
    "q2": RULE,
    "q3": cost,
    "q4": best_pair(),
    "q5": average_precision,
    "q6": {"card_chargebacks_total", "customer_avg_amount_centered", "refunded_later"},
}
WRONG = {
    "q1": lambda df: engine_count(df) - (df["ts"].to_numpy() % 2 == 0),
    "q2": RULE | {"when": RULE["when"][:2]},
    "q3": lambda *a: cost(*a) // 100,
    "q4": (np.inf, np.inf),
    "q5": lambda y, s: float(np.mean(y)),
    "q6": {"card_count_1h", "refunded_later"},
}


@pytest.mark.parametrize("qid", sorted(RIGHT))
def test_right_answer_passes(qid):
    feedback = check(qid, RIGHT[qid])
    assert feedback.passed, feedback.message


@pytest.mark.parametrize("qid", sorted(WRONG))
def test_wrong_answer_fails_with_a_hint_that_hides_the_answer(qid):
    feedback = check(qid, WRONG[qid])
    assert not feedback.passed and len(feedback.message) > 20
    for secret in ("card_chargebacks_total", "customer_avg_amount_centered", str(best_pair()[0])):
        assert secret not in feedback.message


def test_q6_counts_wrong_picks_and_misses_without_holding_the_answer():
    assert not any(isinstance(v, set | frozenset) for v in vars(fd).values())
    message = check("q6", {"card_count_1h", "card_chargebacks_total"}).message
    assert "1 of your picks only use the past, and you missed 2" in message


def test_odd_answers_get_feedback_not_a_traceback():
    assert not check("q1", 42).passed
    assert not check("q3", "lots").passed
    assert not check("q6", ["refunded_later"]).passed
