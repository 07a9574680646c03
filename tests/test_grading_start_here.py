"""The start-here Money exercises: checks pass right answers, hint on wrong ones, never reveal.

Also grades the real demo notebook and its generated exercise end to end (two kernels).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from razorlab.grading import Checker
from razorlab.grading.autograde import GRADED, Grader, grade_all
from razorlab.grading.checks import start_here as sh
from razorlab.money import Money, Rounding
from tests.grading_support import USE_SANDBOX

REPO = Path(__file__).resolve().parents[1]
check = Checker("start_here")
FORMATTED = Money(sh.Q1_PAISE).format()


def fee_with_gst(amount: Money) -> Money:
    """A right q2 answer: the 1.99% fee rounded half up, then 18% GST on the rounded fee."""
    fee = amount.percent("1.99")
    return fee + fee.percent("18")


FEE = fee_with_gst(sh.Q2_AMOUNT)


def _feedback(qid: str, answer: object) -> str:
    result = check(qid, answer)
    assert not result.passed, f"{qid} should reject {answer!r}"
    return result.message


def test_right_answers_pass():
    assert check("q1", lambda p: Money(p).format()).passed
    assert check("q2", fee_with_gst).passed
    assert check("q3", lambda total, n: total.allocate([1] * n)).passed
    assert check("q3", lambda total, n: total.allocate([1] * n)[::-1]).passed  # order is free


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda p: f"₹{p / 100:,.2f}", "Indian grouping"),
        (lambda p: Money(p).format().replace("₹", "Rs "), "rupee sign"),
        (lambda p: Money(p * 100).format(), "paise, not rupees"),
        (lambda p: p, "should return a str"),
        ("₹1,23,456.78", "pass your function"),
    ],
)
def test_q1_wrong_answers_get_a_hint_not_the_answer(answer, hint):
    message = _feedback("q1", answer)
    assert hint in message and FORMATTED not in message


def _one_step(amount: Money) -> Money:
    return amount.percent("2.3482")


def _bankers(amount: Money) -> Money:
    fee = amount.percent("1.99", Rounding.HALF_EVEN)
    return fee + fee.percent("18", Rounding.HALF_EVEN)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (_one_step, "round the fee to a whole paisa"),
        (_bankers, "half up"),
        (lambda a: a.percent("1.99") + a.percent("18"), "too high"),
        (lambda a: a.paise * 0.0199 * 1.18, "not float"),
    ],
)
def test_q2_wrong_answers_get_a_hint_not_the_answer(answer, hint):
    message = _feedback("q2", answer)
    assert hint in message and str(FEE) not in message and str(FEE.paise) not in message


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda t, n: [Money(t.paise // n)] * n, "1 paise less"),
        (lambda t, n: [t.paise / n] * n, "list of Money"),
        (lambda t, n: t.allocate([1] * (n - 1)), "need 3 parts"),
        (lambda t, n: t.allocate([2] + [1] * (n - 1)), "uneven"),
    ],
)
def test_q3_wrong_answers_get_a_hint_not_the_answer(answer, hint):
    message = _feedback("q3", answer)
    assert hint in message and "3334" not in message


def test_an_unanswered_stub_says_not_answered_yet():
    def format_inr(paise: int) -> str:
        raise NotImplementedError("q1: your code here")

    assert _feedback("q1", format_inr).startswith("not answered yet")


@pytest.fixture(scope="module")
def demo_rows():
    paths = [REPO / "solutions" / "00_start_here_exercises.ipynb"]
    paths.append(REPO / "exercises" / "00_start_here_exercises.ipynb")
    grader = Grader(REPO / "solutions", timeout=120, use_sandbox=USE_SANDBOX)
    return grade_all(paths, grader, jobs=2)


def test_the_demo_solution_grades_100_percent(demo_rows):
    row = demo_rows[0]
    assert (row.status, row.points, row.max_points) == (GRADED, 5, 5), row


def test_the_demo_exercise_grades_zero_with_feedback(demo_rows):
    row = demo_rows[1]
    assert (row.status, row.points) == (GRADED, 0), row
    assert all(q.feedback.startswith("not answered yet") for q in row.questions)
