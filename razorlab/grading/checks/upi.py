"""Self-checks for the ``upi`` exercises (Razorpay challenges, "UPI at 10M a day").

Expected values come from the UPI engines (VPA parser, network simulation, switch), so the
checks and the curriculum never disagree. Messages hint at what is off, never the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from razorlab.grading import near, question
from razorlab.grading.selfcheck import require_callable
from razorlab.upi.network import NetworkModel, simulate, success_rates
from razorlab.upi.switch import UpiEvent, UpiTransaction
from razorlab.upi.vpa import InvalidVpa, parse_vpa

SET = "upi"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_SAMPLES = (
    "alice@okaxis", "Alice.Rao@OKAXIS", " shop_42@ybl ", "a@ybl", "alice@ok1", "al ice@okaxis",
    "alice@@ybl", "x-y_z.w@paytm", "alice", "bob@b",
)  # fmt: skip
Q2_MODEL = NetworkModel(p_wrong_pin=0.03, p_insufficient=0.04, remitter_sigma=0.9)
Q2_N = 50_000
Q2_SEED = 11
Q3_TARGET = 0.999
Q3_HOPS = 4
Q4_CASES = ((0.5, False), (1.0, False), (1.2, False), (3.0, False), (4.9, True), (7.5, True))


# ---- expected values for the question's own inputs, from the engines ----------------
# (values, not functions with the answers' signatures: ``ex`` is imported by the notebook)
def q1_expected() -> tuple[str | None, ...]:
    """The stored form of each of ``Q1_SAMPLES`` (None when invalid), by the VPA parser."""
    stored: list[str | None] = []
    for text in Q1_SAMPLES:
        try:
            stored.append(str(parse_vpa(text)))
        except InvalidVpa:
            stored.append(None)
    return tuple(stored)


def q2_outcomes(model: NetworkModel = Q2_MODEL, n: int = Q2_N, seed: int = Q2_SEED):
    return simulate(model, n, seed=seed)


def q3_expected() -> float:
    """Largest equal, independent per-hop failure probability that still meets the target."""
    return 1 - Q3_TARGET ** (1 / Q3_HOPS)


def q4_expected() -> tuple[int, ...]:
    """The switch's compensation for a reversal after each of ``Q4_CASES``."""
    return tuple(
        UpiTransaction(
            "q4",
            "pay",
            "a@bc",
            "d@ef",
            100,
            merchant,
            [
                UpiEvent(0.0, "INITIATED", "", ""),
                UpiEvent(delay_days * 86_400, "REVERSED", "RB", ""),
            ],
        ).compensation_paise()  # fmt: skip
        for delay_days, merchant in Q4_CASES
    )


@question(
    SET,
    "q1",
    covers="257-character handles, non-ASCII letters, tabs, a trailing '@', random strings",
)
def _q1(answer: Callable[[str], str | None]) -> str | None:
    if (problem := require_callable(answer, "normalise_vpa")) is not None:
        return problem
    for text, want in zip(Q1_SAMPLES, q1_expected(), strict=True):
        got = answer(text)
        if got != want:
            if want is None:
                return f"{text!r} should be rejected (return None); check the rule it breaks."
            return f"{text!r} is valid; return it normalised (think about spaces and case)."
    return None


@question(
    SET,
    "q2",
    covers="other failure mixes (random too), a day with no business declines, a day with every "
    "business decline code",
)
def _q2(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "technical_success_rate")) is not None:
        return problem
    outcomes = q2_outcomes()
    got = answer(outcomes)
    return near(got, success_rates(outcomes)["technical"], rel=1e-9,
                what="the technical success rate")  # fmt: skip


@question(
    SET, "q3", covers="2, 3 and 6 hops, a 99.99% target, random targets; checked against simulation"
)
def _q3(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "max_hop_failure")) is not None:
        return problem
    return near(answer(Q3_TARGET, Q3_HOPS), q3_expected(), rel=1e-6,
                what="the per-hop failure budget")  # fmt: skip


@question(
    SET,
    "q4",
    covers="delays exactly at T+1 / T+5, fractions of a day, same-day reversals, random "
    "delays; an int",
)
def _q4(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "compensation_paise")) is not None:
        return problem
    for (delay, merchant), want in zip(Q4_CASES, q4_expected(), strict=True):
        got = answer(delay, merchant)
        if got != want:
            kind = "merchant" if merchant else "P2P"
            direction = "too high" if got > want else "too low"
            return (f"a {kind} reversal after {delay} days: your amount is {direction}; which "
                    "turnaround applies, and does a part-day count?")  # fmt: skip
    return None
