"""Self-checks: one-line feedback, tolerance for estimates, results recorded for the grader."""

from __future__ import annotations

import numpy as np
import pytest

import razorlab.grading as grading
from razorlab.errors import NotFoundError, ValidationError
from razorlab.grading import Checker, Feedback, near


def test_public_api_is_pinned():
    assert grading.__all__ == ["Checker", "Feedback", "near", "question"]


def test_feedback_is_one_line_with_a_mark():
    assert repr(Feedback("q1", True, "correct.")) == "✅ q1: correct."
    assert repr(Feedback("q2", False, "too low.")) == "❌ q2: too low."


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [(100.0, None), (109.0, None), (91.0, None), (111.0, "too high"), (89.0, "too low")],
)
def test_near_accepts_the_stated_tolerance_and_says_which_way(answer, verdict):
    result = near(answer, 100, rel=0.1, what="storage")
    assert result is None if verdict is None else verdict in result


def test_near_gives_a_size_class_when_far_off_never_the_factor_or_the_target():
    message = near(1000, 100, rel=0.1, what="storage")
    assert "too high" in message and "order of magnitude" in message and "units" in message
    assert "10" not in message and "factor of" not in message
    message = near(80_500, 100, rel=0.1, what="storage")
    assert "805" not in message and "order of magnitude" in message
    assert "several times" in near(30, 100, rel=0.1) and "3" not in near(30, 100, rel=0.1)
    assert "less than double" in near(150, 100, rel=0.1)
    assert "within 10%" in near(95, 100, rel=0.02)
    assert "wrong sign" in near(-100, 100, rel=0.1) and "zero" in near(0, 100, rel=0.1)


@pytest.mark.parametrize("answer", [True, "100", float("nan"), None])
def test_near_rejects_non_numbers(answer):
    assert "finite number" in near(answer, 100, rel=0.1)


@pytest.mark.parametrize("answer", [np.int64(100), np.float32(100.0), np.int32(95)])
def test_near_accepts_numpy_scalars_learners_compute(answer):
    assert near(answer, 100, rel=0.1) is None
    assert "too low" in near(answer // 2, 100, rel=0.1)


def test_unknown_set_and_unknown_question_are_clear_errors():
    with pytest.raises(NotFoundError, match="no exercise set named 'nope'"):
        Checker("nope")
    with pytest.raises(ValidationError, match="has no question 'q99'"):
        Checker("start_here")("q99", 1)


def test_an_answer_that_crashes_the_check_gives_feedback_not_a_traceback():
    def broken(paise):
        raise ZeroDivisionError("division by zero")

    result = Checker("start_here")("q1", broken)
    assert not result.passed and "ZeroDivisionError" in result.message


def test_hidden_tests_are_described_in_words():
    text = Checker("start_here").hidden_tests()
    assert text.startswith("Hidden tests") and "- q1: zero" in text and "assert" not in text
