"""Self-checks for the ``settlement`` exercises (Razorpay challenges, "real-time settlement").

Expected values come from the settlement engines (``Money.percent``, ``settlement_date``,
``settle``, ``netting_summary``, ``reconcile``). Messages hint, never reveal the answer.

The notebook imports this module, so it holds only the questions' inputs and the values
for those inputs (``qN_expected``), never a function with an answer's signature that a
learner could hand in; the hidden tests compare with the instructor's solution instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd

from razorlab.clock import EPOCH_2026
from razorlab.grading import question
from razorlab.grading.selfcheck import require_callable
from razorlab.money import Money
from razorlab.settlement import (
    Entry,
    SettlementPolicy,
    netting_summary,
    reconcile,
    settle,
    settlement_date,
    simulate_statement,
)

SET = "settlement"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_MDR = "1.99"
Q1_AMOUNTS = (100, 125, 4_999, 10_050, 99_999, 1_234_567)
Q2_HOLIDAYS = (date(2026, 1, 26),)  # Republic Day
Q2_CASES = ((date(2026, 1, 22), 2), (date(2026, 1, 23), 1), (date(2026, 1, 24), 0),
            (date(2026, 1, 23), 2))  # fmt: skip
Q3_OBLIGATIONS = ((0, 1, 50_000), (1, 0, 30_000), (1, 2, 20_000), (2, 0, 45_000),
                  (0, 2, 10_000))  # fmt: skip
Q4_NETS = (5_000, -12_000, 3_000, 20_000, -1_000, 500)
Q5_SEED = 5


# ---- expected values for the question's own inputs, from the engines ----------------
# (values, not functions with the answers' signatures: ``ex`` is imported by the notebook)
def q1_expected() -> tuple[tuple[int, int], ...]:
    """(fee, GST) in paise for each of ``Q1_AMOUNTS`` at ``Q1_MDR``, by ``Money.percent``."""
    fees = (Money(amount).percent(Q1_MDR) for amount in Q1_AMOUNTS)
    return tuple((fee.paise, fee.percent("18").paise) for fee in fees)


def q2_expected() -> tuple[date, ...]:
    """The settlement date of each of ``Q2_CASES``, by ``settlement_date``."""
    return tuple(settlement_date(day, n, Q2_HOLIDAYS) for day, n in Q2_CASES)


def q3_expected() -> tuple[int, int]:
    """(value, transfers) of ``Q3_OBLIGATIONS`` after multilateral netting."""
    payer, payee, amount = (np.array(c, dtype=np.int64) for c in zip(*Q3_OBLIGATIONS, strict=True))
    n = int(max(payer.max(), payee.max())) + 1
    r = netting_summary(payer, payee, amount, n)
    return r.multilateral_value, r.multilateral_count


def q4_expected() -> list[int]:
    """Payouts of settlement runs whose nets (before carry) are ``Q4_NETS``, via ``settle``.

    Runs are a week apart (every Thursday) so no two fall on one settlement date; a zero run
    is an adjustment of +0 that still produces a row.
    """
    entries = [
        Entry(f"e{i}", "m", "payment" if n > 0 else "chargeback" if n < 0 else "adjustment",
              abs(n), EPOCH_2026 + i * 7 * 86_400)
        for i, n in enumerate(Q4_NETS)
    ]  # fmt: skip
    policy = SettlementPolicy(t_plus_days=0, mdr_percent="0")
    return [int(p) for p in settle(entries, policy)["payout"]]


def q5_data(seed: int = Q5_SEED) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The question's inputs: (expected payouts, a bank statement with issues) for ``seed``."""
    expected = pd.DataFrame({
        "reference": [f"STL{i:04d}" for i in range(30)],
        "amount": [25_000 + 101 * i for i in range(30)],
        "date": [date(2026, 1, 6)] * 30,
    })  # fmt: skip
    statement, _ = simulate_statement(expected, seed=seed, per_issue=2)
    return expected, statement


def q5_expected() -> dict[str, set[str]]:
    """The exception references of ``q5_data()``, by ``reconcile``."""
    r = reconcile(*q5_data())
    return {issue: r.refs(issue) for issue in ("missing", "unexpected", "duplicated")}


@question(
    SET,
    "q1",
    covers=(
        "amounts ending in exactly half a paisa of fee or GST (one a float product puts just "
        "under the half); MDR 0% and 3%; drawn amounts and rates"
    ),
)
def _q1(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "fee_and_gst")) is not None:
        return problem
    for amount, want in zip(Q1_AMOUNTS, q1_expected(), strict=True):
        got = tuple(answer(amount, Q1_MDR))
        if got[0] != want[0]:
            return f"the fee on {amount} paise is off; round the exact fee half-up to a paisa."
        if got[1] != want[1]:
            return f"the GST on {amount} paise is off; GST is 18% of the *rounded* fee."
    return None


@question(
    SET,
    "q2",
    covers=(
        "Fridays with T+3; captures on closed days (2nd/4th Saturdays, Sundays, holidays) "
        "with T+0 and T+1 or more; two holidays in a row; drawn dates and holidays"
    ),
)
def _q2(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "settle_on")) is not None:
        return problem
    for (day, n), want in zip(Q2_CASES, q2_expected(), strict=True):
        if answer(day, n, Q2_HOLIDAYS) != want:
            return f"T+{n} from {day:%a %d %b}: count working days only (Sundays, 2nd/4th Saturdays and holidays are closed)."
    return None


@question(SET, "q3", covers="a one-way chain, a cycle that nets to zero, random obligation sets")
def _q3(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "multilateral")) is not None:
        return problem
    got = tuple(answer(list(Q3_OBLIGATIONS)))
    value, count = q3_expected()
    if got[1] != count:
        return "the transfer count is off: one transfer per party whose position is not zero."
    if got[0] != value:
        return "the value is off: sum what the net payers pay (not |positions| of everyone)."
    return None


@question(
    SET,
    "q4",
    covers="all-negative days, a zero day, no days, a long run of negatives then a big day, "
    "drawn runs",
)
def _q4(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "payouts_with_carry")) is not None:
        return problem
    got, want = list(answer(list(Q4_NETS))), q4_expected()
    if len(got) != len(want):
        return "return one payout per day."
    if any(g < 0 for g in got):
        return "a payout is never negative: carry the shortfall instead."
    if got != want:
        return "some payouts are off: a carried shortfall must be recovered from later days."
    return None


@question(
    SET, "q5", covers="a clean statement, a statement with only duplicates, other (drawn) seeds"
)
def _q5(answer: Callable) -> str | None:
    if (problem := require_callable(answer, "find_exceptions")) is not None:
        return problem
    expected, statement = q5_data()
    got, want = answer(expected, statement), q5_expected()
    for issue, refs in want.items():
        if set(got.get(issue, ())) != refs:
            return f"the {issue!r} references are not right; re-check how you find them."
    return None
