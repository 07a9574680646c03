"""Self-checks of the ``upi`` exercise set: right answers pass, wrong ones get a hint only."""

from razorlab.grading import Checker
from razorlab.grading.checks import upi as q
from razorlab.upi.network import BUSINESS_DECLINES

check = Checker("upi")


def test_right_answers_pass():
    def tech(df):
        business = df["code"].isin(BUSINESS_DECLINES)
        return (df["final_state"] == "SUCCESS").sum() / (~business).sum()

    assert check("q1", dict(zip(q.Q1_SAMPLES, q.q1_expected(), strict=True)).get).passed
    assert check("q2", tech).passed
    assert check("q3", lambda target, hops: 1 - target ** (1 / hops)).passed
    compensation = dict(zip(q.Q4_CASES, q.q4_expected(), strict=True))
    assert check("q4", lambda d, m: compensation[(d, m)]).passed


def test_wrong_answers_fail_without_revealing_the_value():
    wrong = {
        "q1": lambda text: text.strip(),
        "q2": lambda df: (df["final_state"] == "SUCCESS").mean(),
        "q3": lambda target, hops: (1 - target) / hops,
        "q4": lambda delay, merchant: 0,
    }
    for qid, fn in wrong.items():
        fb = check(qid, fn)
        assert not fb.passed, qid
        assert "0.0002" not in fb.message and "10000" not in fb.message


def test_not_a_function_is_explained():
    assert "function" in check("q3", 0.00025).message
