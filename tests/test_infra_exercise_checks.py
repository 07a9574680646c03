"""payment_gateway self-checks: right answers pass, wrong ones fail without the answer."""

import hashlib
import hmac

import pytest

from razorlab.grading import Checker
from razorlab.grading.checks import payment_gateway as pg
from razorlab.grading.selfcheck import QUESTIONS
from razorlab.infra.latency import LatencyBudget

check = Checker("payment_gateway")

#: q7's right labels, from Stripe's idempotency rules (the checks module keeps only digests).
IDEMPOTENCY = {
    "same_key_same_body_after_success": "replay",
    "same_key_same_body_after_decline": "replay",
    "same_key_different_amount": "reject_422",
    "same_key_while_first_in_flight": "conflict_409",
    "same_key_after_validation_error_with_fixed_body": "execute",
    "same_key_same_body_after_25_hours": "execute",
}


def verify(order_id, payment_id, signature, secret):
    mac = hmac.new(secret.encode(), f"{order_id}|{payment_id}".encode(), hashlib.sha256)
    return hmac.compare_digest(mac.hexdigest(), signature)


def refund_states(captured, refunds):
    statuses, held = [], 0
    for amount, replies in refunds:
        if amount > captured - held:
            statuses.append("rejected")
            continue
        final = next((r for r in replies if r in ("processed", "failed")), "pending")
        statuses.append(final)
        held += amount if final != "failed" else 0
    status = None if held == 0 else "full" if held == captured else "partial"
    return {"statuses": statuses, "amount_refunded": held, "refund_status": status}


def refund_outcomes(captured, requests):
    stored, refunded, labels = {}, 0, []
    for key, amount in requests:
        if key in stored:
            labels.append("same_refund" if stored[key] == amount else "key_reused_400")
        elif amount > captured - refunded:
            labels.append("exceeds_400")
        else:
            stored[key], refunded = amount, refunded + amount
            labels.append("new_refund")
    return labels


RIGHT = {
    "q1": pg.Q1_AVG_TPS * 86_400 * pg.Q1_PAYLOAD_BYTES / 2**30,
    "q2": 451,  # 1 + (500 - 1) * (1 - 50 * 1 / 500), rounded up
    "q3": 5,
    "q4": {"modulo": 8 / 9, "ring": 1 / 9},
    "q5": LatencyBudget(pg.Q5_STEPS, n=100_000, seed=123).report().p99_ms,  # another seed
    "q6": pg.Q6_STEP.quantile(0.99 ** (1 / pg.Q6_FANOUT)),
    "q7": IDEMPOTENCY,
    "q11": verify,
    "q12": refund_states,
    "q13": refund_outcomes,
}

WRONG = {
    "q1": [RIGHT["q1"] * 4, RIGHT["q1"] * 2**30 / 1e9, 10.0, "805", None, float("nan")],
    "q2": [450, 500, 1, 451.0, True],
    "q3": [4, 6, 10, "5"],
    "q4": [{"modulo": 1 / 9, "ring": 1 / 9}, {"modulo": 8 / 9, "ring": 8 / 9}, [0.9, 0.1]],
    "q5": [255.0, 50.0, 400.0],
    "q6": [10.0, 200.0, "x"],
    "q7": [
        {**IDEMPOTENCY, "same_key_same_body_after_decline": "execute"},
        {**IDEMPOTENCY, "same_key_while_first_in_flight": "wait"},
        {"same_key_same_body_after_success": "replay"},
    ],
    "q11": [
        lambda o, p, sig, k: hashlib.sha256(f"{o}|{p}".encode()).hexdigest() == sig,  # no key
        lambda o, p, sig, k: verify(p, o, sig, k),  # ids swapped
        lambda o, p, sig, k: "yes",
    ],
    "q12": [
        lambda c, r: {**refund_states(c, r), "amount_refunded": 40_000},  # pending not held
        lambda c, r: {
            **refund_states(c, r),
            "statuses": ["processed", "failed", "failed", "failed"],
        },  # fmt: skip
        lambda c, r: refund_states(c, r)["statuses"],
    ],
    "q13": [
        lambda c, r: ["new_refund"] * len(r),
        lambda c, r: [*refund_outcomes(c, r)[:4], "exceeds_400", "same_refund"],  # key burned
    ],
}


def test_every_question_is_registered_with_hidden_test_coverage():
    qids = sorted(q for (s, q) in QUESTIONS if s == "payment_gateway")
    assert qids == sorted(RIGHT)
    assert all(QUESTIONS[("payment_gateway", q)].covers for q in qids)
    assert "q7" in check.hidden_tests()


@pytest.mark.parametrize("qid", sorted(RIGHT))
def test_right_answer_passes(qid):
    feedback = check(qid, RIGHT[qid])
    assert feedback.passed, feedback.message
    assert repr(feedback) == f"✅ {qid}: correct."


@pytest.mark.parametrize("qid,answer", [(q, a) for q, answers in WRONG.items() for a in answers])
def test_wrong_answer_fails_without_revealing_the_value(qid, answer):
    feedback = check(qid, answer)
    assert not feedback.passed
    assert feedback.message and not feedback.message.startswith("could not check")
    secrets = {
        "q1": ["804", "805"],
        "q2": ["451"],
        "q3": [" 5 "],
        "q4": ["0.88", "0.09", "0.11"],
        "q5": ["212"],
        "q6": ["19.4", "19.5"],
        "q7": ["replay", "execute", "conflict_409", "reject_422"],
        "q11": ["hmac.new", "compare_digest"],
        "q12": ["60000", "60_000", "60,000"],
        "q13": ["new_refund", "same_refund", "key_reused_400", "exceeds_400"],
    }[qid]
    for secret in secrets:
        if secret.strip() in repr(answer):
            continue  # echoing the learner's own answer back reveals nothing
        assert secret not in feedback.message, f"{qid} leaks {secret!r}: {feedback.message}"


def test_checks_accept_the_learners_function_and_report_its_errors():
    assert check("q1", lambda avg, payload: avg * 86_400 * payload / 2**30).passed
    assert check("q4", lambda n, scheme: n / (n + 1) if scheme == "modulo" else 1 / (n + 1)).passed

    def unfinished(*args):
        raise NotImplementedError("q2: your code here")

    feedback = check("q2", unfinished)
    assert not feedback.passed and "NotImplementedError" in feedback.message


def test_expected_values_agree_with_closed_forms():
    assert pg.q1_expected() == pytest.approx(RIGHT["q1"])
    assert pg.q2_expected() == 451
    assert pg.q3_expected() == 5
    assert pg.q4_expected() == pytest.approx({"modulo": 8 / 9, "ring": 1 / 9}, rel=0.2)
    assert pg.q6_expected() == pytest.approx(RIGHT["q6"])


def test_the_module_offers_no_stand_in_for_an_answer():
    """Nothing importable from ``pg`` has an answer's name, or holds q7's labels in the clear."""
    answers = {"storage_per_day_gib", "min_burst", "failures_to_open", "moved_fraction"}
    assert not answers & set(vars(pg)), "the notebook imports pg: no reference answers in it"
    assert not {"e2e_p99", "fanout_p99", "q7_outcomes", "idempotency_outcomes"} & set(vars(pg))
    assert all(value != IDEMPOTENCY for value in vars(pg).values())
    wrong = {**IDEMPOTENCY, "same_key_different_amount": "replay"}
    assert "1 of 6 scenarios are off" in check("q7", wrong).message
