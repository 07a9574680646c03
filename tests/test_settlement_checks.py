"""Self-checks of the ``settlement`` exercise set: right answers pass, wrong ones get a hint."""

from razorlab.grading import Checker
from razorlab.grading.checks import settlement as q
from razorlab.settlement import settlement_date

check = Checker("settlement")


def test_right_answers_pass():
    assert check("q1", q.fee_and_gst).passed
    assert check("q2", settlement_date).passed
    assert check("q3", q.multilateral).passed
    assert check("q4", q.payouts).passed
    assert check("q5", q.exceptions).passed


def test_wrong_answers_fail_with_a_hint():
    wrong = {
        "q1": lambda amount, mdr: (amount * 199 // 10_000, 0),
        "q2": lambda day, n, holidays: day,
        "q3": lambda obligations: (sum(a for *_, a in obligations), len(obligations)),
        "q4": lambda nets: [max(n, 0) for n in nets],
        "q5": lambda expected, statement: {},
    }
    for qid, fn in wrong.items():
        fb = check(qid, fn)
        assert not fb.passed and fb.message, qid
        assert "15000" not in fb.message and "STL0008" not in fb.message
