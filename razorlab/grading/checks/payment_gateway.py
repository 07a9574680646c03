"""Self-checks for the ``payment_gateway`` exercises (Round 2, "Design a payment gateway").

Expected values come from the engines (capacity planner, token bucket, circuit breaker,
hash ring, latency model, idempotency rules), so a check and the curriculum never
disagree. Messages say what is off and hint at why; they never state the answer.

The notebook imports this module, so it holds only the questions' inputs and the values
for those inputs (``qN_expected``), never a function with an answer's signature that a
learner could hand in; the hidden tests compare with the instructor's solution instead.
q7's labels are stored as salted SHA-256 digests per scenario: the check can still say
how many are off and which idea to revisit, without the labels being importable.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import cache

from razorlab.clock import ManualClock
from razorlab.grading import near, question
from razorlab.grading.selfcheck import answer_digest
from razorlab.infra.breaker import BreakerConfig, BreakerState, CircuitBreaker
from razorlab.infra.latency import LatencyBudget, Step, fanout_quantile
from razorlab.infra.ratelimit import RateLimiter
from razorlab.infra.sharding import hash_keys, merchant_ids, rebalance_stats
from razorlab.ops.capacity import Requirements, plan

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
