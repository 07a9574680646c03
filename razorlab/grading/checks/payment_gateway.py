"""Self-checks for the ``payment_gateway`` exercises (Round 2, "Design a payment gateway").

Expected values come from the engines (capacity planner, token bucket, circuit breaker,
hash ring, latency model, idempotency rules), so a check and the curriculum never
disagree. Messages say what is off and hint at why; they never state the answer.

The notebook imports this module, so it holds only the questions' inputs and the values
for those inputs (``qN_expected``), never a function with an answer's signature that a
learner could hand in; the hidden tests compare with the instructor's solution instead.
q7's labels are stored as salted SHA-256 digests per scenario: the check can still say
how many are off and which idea to revisit, without the labels being importable; q12's and
q13's answers for their own inputs are stored the same way. q11's expected verdicts come
from the gateway's own signer, as Razorpay's SDK would decide them.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Mapping, Sequence
from functools import cache

from razorlab.clock import ManualClock
from razorlab.grading import near, question
from razorlab.grading.selfcheck import answer_digest, call_answer
from razorlab.infra.breaker import BreakerConfig, BreakerState, CircuitBreaker
from razorlab.infra.latency import LatencyBudget, Step, fanout_quantile
from razorlab.infra.ratelimit import RateLimiter
from razorlab.infra.sharding import hash_keys, merchant_ids, rebalance_stats
from razorlab.ops.capacity import Requirements, plan
from razorlab.payments.orders import checkout_signature

SET = "payment_gateway"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_AVG_TPS = 5_000  # average payments per second over the day
Q1_PEAK_TPS = 20_000  # peak payments per second
Q1_PAYLOAD_BYTES = 2_000  # bytes stored per payment (one copy)
Q2_RATE_PER_S = 50  # the merchant's sustained limit
Q2_SPIKE_REQUESTS = 500  # requests in the flash-sale second, evenly spaced
Q2_SPIKE_S = 1.0
Q3_CONFIG = BreakerConfig(
    failure_rate_threshold=0.5,
    sliding_window_size=10,
    minimum_number_of_calls=10,
    wait_duration_in_open_s=30,
    permitted_calls_in_half_open=3,
)
Q3_SUCCESSES_FIRST = 6
Q4_SHARDS_BEFORE = 8
Q5_STEPS = (
    Step("auth_and_validate", median_ms=2, p99_ms=10),
    Step("fraud_score", median_ms=5, p99_ms=30),
    Step("db_write", median_ms=3, p99_ms=15),
    Step("bank_call", median_ms=40, p99_ms=200),
)
Q5_SEED = 7
Q6_STEP = Step("shard_read", median_ms=2, p99_ms=10)
Q6_FANOUT = 20
#: q7 outcome labels a learner chooses from.
Q7_CHOICES = ("replay", "reject_422", "conflict_409", "execute")
Q7_SCENARIOS = (
    "same_key_same_body_after_success",
    "same_key_same_body_after_decline",
    "same_key_different_amount",
    "same_key_while_first_in_flight",
    "same_key_after_validation_error_with_fixed_body",
    "same_key_same_body_after_25_hours",
)
#: q11: what a merchant's server receives after checkout, and its key secret.
Q11_SECRET = "EnLs21M47BllR3X8PSFtjtbd"
_Q11_ORDER, _Q11_PAYMENT = "order_9A33XWu170gUtm", "pay_29QQoUBi66xm2f"
#: q11 cases: (order_id, payment_id, razorpay_signature, key_secret), from the engine's signer.
Q11_CASES = (
    (_Q11_ORDER, _Q11_PAYMENT, checkout_signature(_Q11_ORDER, _Q11_PAYMENT, Q11_SECRET), Q11_SECRET),
    # signed with another merchant's secret
    (_Q11_ORDER, _Q11_PAYMENT, checkout_signature(_Q11_ORDER, _Q11_PAYMENT, "not-this-one-1"), Q11_SECRET),
    # a genuine signature of another order, replayed with this payment
    (_Q11_ORDER, _Q11_PAYMENT, checkout_signature("order_X", _Q11_PAYMENT, Q11_SECRET), Q11_SECRET),
    # the two ids in the other order
    (_Q11_ORDER, _Q11_PAYMENT, checkout_signature(_Q11_PAYMENT, _Q11_ORDER, Q11_SECRET), Q11_SECRET),
    # a plain SHA-256 of the message: anybody can compute it, no secret involved
    (_Q11_ORDER, _Q11_PAYMENT, hashlib.sha256(f"{_Q11_ORDER}|{_Q11_PAYMENT}".encode()).hexdigest(),
     Q11_SECRET),
    (_Q11_ORDER, _Q11_PAYMENT, "", Q11_SECRET),  # the browser sent nothing
)  # fmt: skip
#: q12: a captured payment's amount and its refunds, each an amount and the bank's replies
#: to it in order ("timeout": no answer yet, the gateway will ask again with the same refund id).
Q12_CAPTURED_PAISE = 100_000
Q12_REFUNDS = (
    (30_000, ("processed",)),
    (20_000, ("timeout", "timeout")),
    (25_000, ("failed",)),
    (10_000, ("timeout", "processed", "failed")),
)
#: q13: X-Refund-Idempotency requests on one captured payment, in arrival order: (key, amount).
Q13_CAPTURED_PAISE = 50_000
Q13_REQUESTS = (
    ("rfd-1", 20_000),
    ("rfd-1", 20_000),  # the merchant's retry after a lost reply
    ("rfd-2", 40_000),
    ("rfd-1", 25_000),
    ("rfd-3", 30_000),
    ("rfd-3", 30_000),
)
#: q13 outcome labels.
Q13_CHOICES = ("new_refund", "same_refund", "key_reused_400", "exceeds_400")
_Q7_HINTS = {
    "same_key_same_body_after_decline": "what Stripe stores once execution starts (errors too?)",
    "same_key_after_validation_error_with_fixed_body": "what is saved when validation fails",
    "same_key_same_body_after_25_hours": "how long keys are kept",
    "same_key_while_first_in_flight": "a duplicate arriving before the first has finished",
    "same_key_different_amount": "a key reused for a different request",
    "same_key_same_body_after_success": "the plain retry after a lost response",
}


# ---- expected values for the question's own inputs, from the engines ----------------
# (values, not functions with the answers' signatures: ``pg`` is imported by the notebook)
def q1_expected() -> float:
    """One copy of a day's payments, in GiB, from the capacity planner."""
    req = Requirements(peak_qps=Q1_PEAK_TPS, payload_bytes=Q1_PAYLOAD_BYTES, avg_qps=Q1_AVG_TPS)
    return plan(req).storage_per_day.to("GiB")


def _spike_fits(burst: int) -> bool:
    """Does a bucket with ``burst`` admit every request of the q2 flash-sale spike?"""
    clock = ManualClock(start=0.0)
    limiter = RateLimiter(clock, rate_per_s=Q2_RATE_PER_S, burst=burst)
    for i in range(Q2_SPIKE_REQUESTS):
        clock.set(i * Q2_SPIKE_S / Q2_SPIKE_REQUESTS)
        if not limiter.try_acquire("merchant").allowed:
            return False
    return True


@cache
def q2_expected() -> int:
    """Smallest integer burst that admits the q2 spike, found by simulation (bisection)."""
    low, high = 1, max(1, Q2_SPIKE_REQUESTS)
    while low < high:
        mid = (low + high) // 2
        if _spike_fits(mid):
            high = mid
        else:
            low = mid + 1
    return low


def q3_expected() -> int:
    """Failures, after the q3 run of successes, until a fresh breaker opens."""
    breaker = CircuitBreaker("bank", ManualClock(), Q3_CONFIG)
    for _ in range(Q3_SUCCESSES_FIRST):
        breaker.allow()
        breaker.record_success()
    failures = 0
    while breaker.state is not BreakerState.OPEN:
        breaker.allow()
        breaker.record_failure()
        failures += 1
    return failures


@cache
def q4_expected() -> dict[str, float]:
    """Measured share of 100,000 merchants that move when shard Q4_SHARDS_BEFORE + 1 joins."""
    keys = hash_keys(merchant_ids(100_000, seed=42))
    return {
        scheme: rebalance_stats(keys, Q4_SHARDS_BEFORE, scheme).moved_fraction
        for scheme in ("modulo", "ring")
    }


@cache
def q5_expected() -> float:
    """The end-to-end p99 (ms) of ``Q5_STEPS`` from the latency simulator."""
    return LatencyBudget(Q5_STEPS, n=100_000, seed=Q5_SEED).report().p99_ms


def q6_expected() -> float:
    """The exact p99 (ms) of the slowest of ``Q6_FANOUT`` calls of ``Q6_STEP``."""
    return fanout_quantile(Q6_STEP, Q6_FANOUT)


def _q7_digest(scenario: str, label: object) -> str:
    return answer_digest(SET, "q7", scenario, label)


#: Digest of the right label per q7 scenario (Stripe's rules, as the gateway implements them).
_Q7_DIGESTS = {
    "same_key_same_body_after_success": "cf3939a01c6161855c8aa8772c844cb3",
    "same_key_same_body_after_decline": "e1aefa62d9930757c833186df54dfe13",
    "same_key_different_amount": "3c0e3f98f1ac668c989eb79d95438639",
    "same_key_while_first_in_flight": "f1e9ffc0501caad25cddba829a45d732",
    "same_key_after_validation_error_with_fixed_body": "b579570a83ad3dd5c9d4033fecaec91f",
    "same_key_same_body_after_25_hours": "5043c3e356e588f2f09d3975428f4954",
}


def q11_expected() -> list[bool]:
    """Which q11 signatures Razorpay's SDK (utility.verify_payment_signature) would accept."""
    return [
        hmac.compare_digest(checkout_signature(order, payment, secret), signature)
        for order, payment, signature, secret in Q11_CASES
    ]


def _digest(qid: str, *parts: object) -> str:
    return answer_digest(SET, qid, *parts)


#: q12's right answer for its own inputs, as digests (refund i's status; then the totals).
_Q12_STATUS_DIGESTS = (
    "8a93084ab867464ae934f893c2624d71",
    "b90a3c61fc734b9740d6acea42375f74",
    "8d7a070b33e4a8a5c2ae9104e3e483ef",
    "d366b050a9ecad6f71e04192dabdd964",
)
_Q12_TOTAL_DIGESTS = {
    "amount_refunded": "c88c65d458d2f5ca8e6ad326c4ace333",
    "refund_status": "cf4389b0d8c0c7889398e05a947e54ab",
}
#: q13's right label per request, as digests.
_Q13_DIGESTS = (
    "08994e8fbbfbade8843e00cbae4992cc",
    "5e15ef7d7b30f366ce621c4d6a0759ba",
    "b4241465ee3904d967ecb1f7dd737b0e",
    "13092951fdb6014de45b05a29d796ea3",
    "f54553958778e407f3e4044f7da6f7e4",
    "c012ec2a4b341bf0d2d535275ab8bbdb",
)
_Q13_HINTS = (
    "the first request with a key",
    "the merchant's plain retry after a lost reply",
    "how much is still refundable — and what a refused request leaves behind",
    "a key used again for a different amount",
    "whether a refused request used up its key or the money",
    "the plain retry after a lost reply",
)


# ---- the checks -----------------------------------------------------------------------
def _value(answer: object, *args: object) -> object:
    """Answers may be the learner's function (called with the question's inputs) or a value."""
    return answer(*args) if callable(answer) else answer


@question(SET, "q1", covers="other rates and payload sizes; using the average, not the peak")
def _q1(answer: object) -> str | None:
    answer = _value(answer, Q1_AVG_TPS, Q1_PAYLOAD_BYTES)
    target = q1_expected()
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        if abs(answer / target - Q1_PEAK_TPS / Q1_AVG_TPS) < 0.05:
            return "storage is the integral of the rate over a day: which rate is that?"
        if abs(answer / target - 2**30 / 1e9) < 0.01:
            return "close, but that is decimal GB; the question asks for GiB (2**30 bytes)."
    return near(answer, target, rel=0.01, what="storage per day")


@question(SET, "q2", covers="other rates, spike sizes and durations; rate above the spike")
def _q2(answer: object) -> str | None:
    answer = _value(answer, Q2_RATE_PER_S, Q2_SPIKE_REQUESTS, Q2_SPIKE_S)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return f"a burst is a whole number of tokens; got {answer!r}."
    if not _spike_fits(answer):
        return "with that burst some flash-sale requests get 429: the bucket runs dry."
    if answer > q2_expected():
        return "every request fits, but a smaller burst would too: tokens refill during the spike."
    return None


@question(SET, "q3", covers="other window sizes, minimum calls, thresholds and success runs")
def _q3(answer: object) -> str | None:
    answer = _value(answer, Q3_SUCCESSES_FIRST, Q3_CONFIG)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return f"count the failed calls as a whole number; got {answer!r}."
    target = q3_expected()
    if answer < target:
        return "too few: the window still holds too many successes (and >= is the rule)."
    if answer > target:
        return "too many: the breaker opens as soon as the rate reaches the threshold."
    return None


@question(
    SET, "q4", covers="other shard counts N (1 to 63), both schemes, against the exact formulas"
)
def _q4(answer: object) -> str | None:
    if callable(answer):
        answer = {s: answer(Q4_SHARDS_BEFORE, s) for s in ("modulo", "ring")}
    if not isinstance(answer, Mapping) or set(answer) != {"modulo", "ring"}:
        return "answer a dict with exactly the keys 'modulo' and 'ring'."
    problem = near(
        answer["modulo"],
        q4_expected()["modulo"],
        rel=0.03,
        what="the modulo fraction",
    )
    if problem:
        return problem + " (a key stays only if h % N == h % (N+1))"
    problem = near(
        answer["ring"],
        q4_expected()["ring"],
        rel=0.3,
        what="the ring fraction",
    )
    return problem and problem + " (which keys does the new shard take over?)"


@question(
    SET,
    "q5",
    covers="other pipelines (one, few, many steps, one dominant), simulated without LatencyBudget",
)
def _q5(answer: object) -> str | None:
    answer = _value(answer, Q5_STEPS)
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        if math.isclose(answer, sum(s.p99_ms for s in Q5_STEPS), rel_tol=0.01):
            return "that is the sum of the step p99s: would every step be slow on one request?"
    return near(answer, q5_expected(), rel=0.05, what="the end-to-end p99")


@question(SET, "q6", covers="other fan-out widths (including 1) and other step shapes")
def _q6(answer: object) -> str | None:
    answer = _value(answer, Q6_STEP, Q6_FANOUT)
    if isinstance(answer, int | float) and math.isclose(answer, Q6_STEP.p99_ms, rel_tol=0.02):
        return "that is one call's p99; the request waits for the slowest of all of them."
    return near(answer, q6_expected(), rel=0.03, what="the fan-out p99")


@question(SET, "q7", covers="the label of every scenario in Q7_SCENARIOS")
def _q7(answer: object) -> str | None:
    if not isinstance(answer, Mapping) or set(answer) != set(Q7_SCENARIOS):
        return "answer a dict with one entry per scenario in Q7_SCENARIOS."
    bad_labels = sorted(str(v) for v in answer.values() if v not in Q7_CHOICES)
    if bad_labels:
        return f"use only the labels in Q7_CHOICES, not {bad_labels[0]!r}."
    wrong = [s for s in Q7_SCENARIOS if _q7_digest(s, answer[s]) != _Q7_DIGESTS[s]]
    if not wrong:
        return None
    return (
        f"{len(wrong)} of {len(Q7_SCENARIOS)} scenarios are off; think about {_Q7_HINTS[wrong[0]]}."
    )


@question(SET, "q11", covers="other ids, secrets and forged signatures (wrong key, swapped ids)")
def _q11(answer: object) -> str | None:
    results = []
    for case in Q11_CASES:
        result, problem = call_answer(answer, *case)
        if problem:
            return problem
        if not isinstance(result, bool):
            return f"answer True or False; got {result!r}."
        results.append(result)
    forged = [i for i, (got, want) in enumerate(zip(results, q11_expected(), strict=True))
              if got and not want]  # fmt: skip
    if forged:
        return (
            f"you accept a forged signature (case {forged[0] + 1} of Q11_CASES): only an HMAC of "
            "'order_id|payment_id' under this merchant's secret is genuine."
        )
    if results != q11_expected():
        return "you refuse the genuine signature: which message is signed, with which key, as hex?"
    return None


@question(SET, "q12", covers="other refund sequences, including refunds beyond what is left")
def _q12(answer: object) -> str | None:
    result, problem = call_answer(answer, Q12_CAPTURED_PAISE, Q12_REFUNDS)
    if problem:
        return problem
    if not isinstance(result, Mapping) or set(result) != set(_Q12_TOTAL_DIGESTS) | {"statuses"}:
        return "answer a dict with the keys 'statuses', 'amount_refunded' and 'refund_status'."
    statuses = result["statuses"]
    if not isinstance(statuses, Sequence) or len(statuses) != len(Q12_REFUNDS):
        return "'statuses' needs one status per refund in Q12_REFUNDS."
    for i, status in enumerate(statuses):
        if _digest("q12", i, status) != _Q12_STATUS_DIGESTS[i]:
            return (
                f"refund {i + 1}'s status is off: which bank reply decides, and what does a "
                "timeout leave it as?"
            )
    for key, want in _Q12_TOTAL_DIGESTS.items():
        if _digest("q12", key, result[key]) != want:
            return f"'{key}' is off: does a pending refund hold money? does a failed one?"
    return None


@question(SET, "q13", covers="other request sequences: retries, reused keys, refused amounts")
def _q13(answer: object) -> str | None:
    result, problem = call_answer(answer, Q13_CAPTURED_PAISE, Q13_REQUESTS)
    if problem:
        return problem
    if not isinstance(result, Sequence) or len(result) != len(Q13_REQUESTS):
        return "answer one label per request in Q13_REQUESTS."
    bad = sorted(str(label) for label in result if label not in Q13_CHOICES)
    if bad:
        return f"use only the labels in Q13_CHOICES, not {bad[0]!r}."
    wrong = [i for i, label in enumerate(result) if _digest("q13", i, label) != _Q13_DIGESTS[i]]
    if not wrong:
        return None
    return f"{len(wrong)} of {len(Q13_REQUESTS)} are off; think about {_Q13_HINTS[wrong[0]]}."
