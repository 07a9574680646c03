"""Self-checks for ``solutions/00_start_here_exercises.ipynb``: Money warm-ups.

Each answer is a function, so the self-check tries it on one input and the hidden
tests on others (edge cases a single example cannot cover). Expected values come
from ``razorlab.money``, the engine the learner is asked to use, never from a
hard-coded number. Only the values for the questions' own inputs live here
(``q2_expected``), never a function with an answer's signature: the hidden tests
compare with the instructor's solution, so nothing importable can stand in for it.
"""

from __future__ import annotations

from collections.abc import Callable

from razorlab.grading.selfcheck import call_answer, question
from razorlab.money import Money

SET = "start_here"

MDR_RATE = "1.99"  # percent of the payment amount the gateway keeps as its fee (MDR)
GST_RATE = "18"  # percent GST on the fee, not on the payment (CGST + SGST or IGST)
Q1_PAISE = 123_456_789  # ₹12.3 lakh and change: needs the lakh comma and the thousands comma
Q2_AMOUNT = Money(15_000)  # ₹150: the fee is 298.5 paise, so the rounding rule shows
Q3_TOTAL, Q3_PEOPLE = Money(10_000), 3  # ₹100 among three does not divide evenly


def q2_expected() -> Money:
    """The fee with GST on ``Q2_AMOUNT``: MDR rounded half up, then 18% GST on that fee."""
    fee = Q2_AMOUNT.percent(MDR_RATE)
    return fee + fee.percent(GST_RATE)


@question(SET, "q1", covers="zero, a few paise, amounts below ₹1,000, crores, negatives")
def _q1(format_inr: Callable[[int], str]) -> str | None:
    got, problem = call_answer(format_inr, Q1_PAISE)
    if problem:
        return problem
    expected = Money(Q1_PAISE).format()
    if got == expected:
        return None
    if not isinstance(got, str):
        return f"format_inr should return a str, got {type(got).__name__}."
    if "₹" not in got:
        return "the rupee sign ₹ is missing."
    if got.replace(",", "") == expected.replace(",", ""):
        return (
            f"the digits are right but the commas are not ({got!r}): Indian grouping puts a "
            "comma before the last three digits, then every two (thousand, lakh, crore)."
        )
    return f"{Q1_PAISE} paise is not {got!r}: remember the input is paise, not rupees."


@question(
    SET,
    "q2",
    covers="other amounts, ₹1, large amounts, a fee or its GST ending in exactly half a paisa",
)
def _q2(fn: Callable[[Money], Money]) -> str | None:
    got, problem = call_answer(fn, Q2_AMOUNT)
    if problem:
        return problem
    if not isinstance(got, Money):
        return f"return a Money (integer paise), not {type(got).__name__}: no floats for money."
    expected = q2_expected()
    if got == expected:
        return None
    gap = got.paise - expected.paise
    if abs(gap) <= 2:
        return (
            f"off by a paisa or two for {Q2_AMOUNT}: round the fee to a whole paisa "
            "(half up) first, then take GST on the rounded fee."
        )
    return f"{got} is {'too high' if gap > 0 else 'too low'}: GST is 18% of the fee, not of the payment."


@question(
    SET,
    "q3",
    covers="one person, many people, fewer paise than people, other currencies, who gets spare paise",
)
def _q3(split: Callable[[Money, int], list[Money]]) -> str | None:
    got, problem = call_answer(split, Q3_TOTAL, Q3_PEOPLE)
    if problem:
        return problem
    if not isinstance(got, list | tuple) or not all(isinstance(p, Money) for p in got):
        return "return a list of Money, one per person."
    if len(got) != Q3_PEOPLE:
        return f"{Q3_PEOPLE} people need {Q3_PEOPLE} parts, got {len(got)}."
    gap = sum(p.paise for p in got) - Q3_TOTAL.paise
    if gap:
        return (
            f"the parts add up to {abs(gap)} paise {'more' if gap > 0 else 'less'} than the "
            "total: every paisa must land somewhere (try Money.allocate)."
        )
    if max(p.paise for p in got) - min(p.paise for p in got) > 1:
        return "the split is uneven: parts should differ by at most one paisa."
    return None
