"""Instant, tutor-like feedback for learners: ``check("q3", answer)``.

A check says *what* is wrong and gives a hint, never the answer. Numeric estimates
pass within a stated tolerance and otherwise say "too high" or "too low" and by
roughly how much. Each question also declares, in words, what its hidden tests
cover, so learners know they exist and what they probe (otter-grader users are
often surprised by hidden-test failures after passing every public check).

Checks live in ``razorlab/grading/checks/<set>.py``; notebooks only call them. A check is
for the learner only: the grader never reads its result (code in the learner's kernel could
rewrite it); it judges the hidden cells' observations outside the kernel (``judge.py``).
"""

from __future__ import annotations

import hashlib
import importlib
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

from razorlab.errors import NotFoundError, ValidationError

__all__ = [
    "Checker",
    "Feedback",
    "question",
    "require_callable",
    "near",
    "call_answer",
    "size_class",
    "digest",
    "answer_digest",
    "QUESTIONS",
]

#: A check returns ``None`` when the answer is right, else a message with a hint.
CheckFn = Callable[[object], str | None]


@dataclass(frozen=True)
class Question:
    exercise_set: str
    qid: str
    fn: CheckFn
    covers: str  # what the hidden tests for this question cover, in words


#: (exercise_set, qid) -> Question, filled by the ``@question`` decorator.
QUESTIONS: dict[tuple[str, str], Question] = {}


def question(exercise_set: str, qid: str, *, covers: str) -> Callable[[CheckFn], CheckFn]:
    """Register ``fn`` as the self-check of question ``qid`` of ``exercise_set``."""

    def register(fn: CheckFn) -> CheckFn:
        QUESTIONS[(exercise_set, qid)] = Question(exercise_set, qid, fn, covers)
        return fn

    return register


def near(answer: object, target: float, *, rel: float, what: str = "your estimate") -> str | None:
    """Tolerance check for estimates: ``None`` if within ``rel`` (e.g. 0.1 = ±10%), else a hint."""
    # numbers.Real also admits numpy scalars (np.int64 is not an int), common in answers
    if (
        isinstance(answer, bool)
        or not isinstance(answer, numbers.Real)
        or not math.isfinite(answer)
    ):
        return f"{what} should be a finite number, got {answer!r}."
    if target == 0:
        return None if answer == 0 else f"{what} should be zero."
    ratio = answer / target
    if abs(ratio - 1) <= rel:
        return None
    if ratio <= 0:
        sign = "zero" if ratio == 0 else "the wrong sign"
        return f"{what} is {sign}; re-check the formula and each input."
    direction = "too high" if ratio > 1 else "too low"
    return f"{what} is {direction} {size_class(ratio)}."


def size_class(ratio: float) -> str:
    """How far off ``ratio`` (answer / expected, > 0) is, in rough classes, never the factor.

    Saying "off by a factor of 805" hands the learner the answer; a class and a hint do not.
    """
    factor = ratio if ratio >= 1 else 1 / ratio
    if factor >= 10:
        return (
            "by an order of magnitude or more: check your units (bytes vs bits, KiB vs GiB, "
            "per second vs per day, percent vs fraction)"
        )
    if factor >= 2:
        return (
            "by several times: a factor is missing, extra or inverted "
            "(replication, peak vs average, bits vs bytes?)"
        )
    if abs(ratio - 1) > 0.1:
        return "by more than 10% but less than double: is a term missing or counted twice?"
    return "but within 10%: check rounding, decimal vs binary units, or an approximation"


def digest(text: str) -> str:
    """The salted SHA-256 every sealed answer uses (first 32 hex digits)."""
    return hashlib.sha256(f"razorlab/{text}".encode()).hexdigest()[:32]


def answer_digest(exercise_set: str, qid: str, *parts: object) -> str:
    """Digest of an answer (or one part of it): a check compares digests, so the module a
    learner can import holds no answer to read. It hides nothing a learner could not get by
    asking the check, for questions with few possible answers."""
    return digest(f"{exercise_set}/{qid}|" + "|".join(str(p) for p in parts))


def call_answer(fn: object, *args: object) -> tuple[object, str | None]:
    """Call a learner's function answer: ``(result, None)``, or ``(None, hint)`` if not callable."""
    if not callable(fn):
        return None, f"pass your function itself (check(..., my_function)), got {fn!r}."
    return fn(*args), None


def require_callable(answer: object, name: str) -> str | None:
    """A hint when a learner passed a result (``f()``) where the function ``f`` was wanted."""
    return None if callable(answer) else f"pass your function {name} itself (no parentheses)."


@dataclass(frozen=True)
class Feedback:
    """What a learner sees after a check; a one-line text so notebooks store it compactly."""

    qid: str
    passed: bool
    message: str

    def __repr__(self) -> str:
        mark = "✅" if self.passed else "❌"
        return f"{mark} {self.qid}: {self.message}"


class Checker:
    """The ``check`` callable of one exercise set: ``check = Checker("payment_gateway")``."""

    def __init__(self, exercise_set: str):
        try:
            importlib.import_module(f"razorlab.grading.checks.{exercise_set}")
        except ModuleNotFoundError as exc:
            if exc.name != f"razorlab.grading.checks.{exercise_set}":
                raise  # the set exists but imports something missing: show the real error
            raise NotFoundError(
                f"no exercise set named {exercise_set!r}", field="exercise_set"
            ) from None
        self.exercise_set = exercise_set

    def __call__(self, qid: str, answer: object) -> Feedback:
        q = QUESTIONS.get((self.exercise_set, qid))
        if q is None:
            raise ValidationError(f"{self.exercise_set} has no question {qid!r}", field="qid")
        try:
            problem = q.fn(answer)
        except NotImplementedError:  # the generated stub is still in place
            problem = (
                "not answered yet: replace the `raise NotImplementedError` line with your code."
            )
        except Exception as exc:  # a learner's odd answer must give feedback, not a traceback
            problem = f"could not check this answer ({type(exc).__name__}: {exc})."
        return Feedback(qid, problem is None, "correct." if problem is None else problem)

    def hidden_tests(self) -> str:
        """Plain words on what the hidden tests of each question cover."""
        lines = [
            f"- {q.qid}: {q.covers}" for (s, _), q in QUESTIONS.items() if s == self.exercise_set
        ]
        return "Hidden tests (run by your instructor's grader) also check:\n" + "\n".join(lines)
