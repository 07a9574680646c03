"""The messaging self-checks accept right answers and hint at wrong ones without revealing them."""

from razorlab.grading import Checker
from razorlab.grading.checks.messaging import q1_expected, q5_expected

check = Checker("messaging")
ORDER = ["sent", "delivered", "read"]


def shown_once(frames):
    seen, texts = set(), []
    for f in frames:
        if (f["chat"], f["seq"]) not in seen:
            seen.add((f["chat"], f["seq"]))
            texts.append(f["text"])
    return texts


def test_right_answers_pass():
    assert check("q1", q1_expected()).passed
    assert check("q2", shown_once).passed
    assert check("q3", lambda a, b: max(a, b, key=ORDER.index)).passed
    assert check("q4", lambda s: min(s.values(), key=ORDER.index)).passed
    assert check("q5", q5_expected() * 1.01).passed


def test_wrong_answers_fail_with_a_hint_not_the_answer():
    everyone = check("q1", 750)
    assert not everyone.passed and "connected share" in everyone.message
    unrounded = check("q1", float(q1_expected()))
    assert not unrounded.passed and "round up" in unrounded.message
    by_seq = check("q2", lambda frames: shown_once([{**f, "chat": "x"} for f in frames]))
    assert not by_seq.passed and "per chat" in by_seq.message
    by_text = check("q2", lambda frames: list(dict.fromkeys(f["text"] for f in frames)))
    assert not by_text.passed and "same text" in by_text.message
    last_wins = check("q3", lambda current, incoming: incoming)
    assert not last_wins.passed and "only move forward" in last_wins.message
    optimistic = check("q4", lambda s: max(s.values(), key=ORDER.index))
    assert not optimistic.passed and "every" in optimistic.message
    low = check("q5", q5_expected() / 5)
    assert not low.passed and "too low" in low.message
    for feedback in (everyone, unrounded, low):
        assert f"{q1_expected()}" not in feedback.message.replace(",", "")
        assert f"{q5_expected():,.0f}" not in feedback.message


def test_a_crashing_answer_gets_feedback_not_a_traceback():
    result = check("q2", lambda frames: 1 / 0)
    assert not result.passed and "ZeroDivisionError" in result.message
