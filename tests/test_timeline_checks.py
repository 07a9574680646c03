"""The timelines self-checks accept right answers and hint at wrong ones without revealing them."""

import numpy as np

from razorlab.grading import Checker
from razorlab.social.timelines.strategies import FANOUT_BATCH

check = Checker("timelines")


def test_right_answers_pass():
    assert check("q1", lambda per_day, peak: peak >= per_day / 86_400).passed
    assert check("q2", lambda n: -(-n // FANOUT_BATCH)).passed
    assert check("q3", lambda lists, k: sorted(set(sum(lists, [])), reverse=True)[:k]).passed
    assert check("q4", 200).passed


def test_wrong_answers_fail_with_a_hint_not_the_answer():
    floor = check("q2", lambda n: n // FANOUT_BATCH)
    assert not floor.passed and "round up" in floor.message
    assert "24415" not in floor.message and "24,415" not in floor.message
    dupes = check("q3", lambda lists, k: sorted(sum(lists, []), reverse=True)[:k])
    assert not dupes.passed and "twice" in dupes.message
    assert "lowering" in check("q4", 5_000).message
    assert "raising" in check("q4", 10).message
    assert not check("q4", "200").passed
    late = check("q5", 10.0)
    assert not late.passed and "too high" in late.message


def test_a_crashing_answer_gets_feedback_not_a_traceback():
    result = check("q1", lambda *_: 1 / 0)
    assert not result.passed and "ZeroDivisionError" in result.message


def test_q1_takes_numpy_booleans_and_refuses_non_booleans():
    assert check("q1", lambda per_day, peak: np.float64(peak) >= per_day / 86_400).passed
    assert not check("q1", lambda per_day, peak: np.True_).passed
    assert "True or False" in check("q1", lambda *_: 0).message
