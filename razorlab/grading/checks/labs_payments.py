"""Self-checks for the idempotent-payments lab (``solutions/labs/01_idempotent_payments_lab``).

Scenario: the learner hands in a class; razorlab's lab checker (:func:`razorlab.labs.check`)
attacks it with duplicate deliveries, lost replies, crashes and a moody bank over a modest
number of seeded runs. The self-check passes when every invariant held.

Design note. The verdict is the feedback: a failure names the broken invariant, its rule in
one sentence, and the seed and run that replay it, so the learner can draw the shortest
history themselves with ``lab.check(...)``. It never says how to fix the class. Shrinking is
skipped here (the learner asks for it when they replay), which keeps a check under a second.
The hidden tests run more seeds; :func:`lab_feedback` is shared with the seats lab's checks.
"""

from __future__ import annotations

import inspect

from razorlab.grading import question
from razorlab.labs import ReferencePayments, ReferenceSeats, SeedPayments, SeedSeats, check

__all__ = ["SET", "SELF_CHECK_RUNS", "SELF_CHECK_SEED", "lab_feedback"]

SET = "labs_payments"
SELF_CHECK_RUNS = 100  # seeded runs per self-check: well under a second for a correct class
SELF_CHECK_SEED = 1  # not the seed the notebook runs the seed's design with
_NOT_YOURS = {ReferencePayments, ReferenceSeats, SeedPayments, SeedSeats}


def lab_feedback(answer: object, lab: str, runs: int, seed: int) -> str | None:
    """``None`` when ``answer`` passes ``runs`` runs of ``lab``; otherwise what broke, in words."""
    if not inspect.isclass(answer):
        return (
            f'pass your class itself (check("q1", MyClass)), not an instance or a result; '
            f"got {type(answer).__name__}."
        )
    if answer in _NOT_YOURS:
        return f"{answer.__name__} is razorlab's own class; pass the class you wrote."
    verdict = check(answer, lab=lab, runs=runs, seed=seed, shrink=False)
    if verdict.passed:
        return None
    replay = f"lab.check({answer.__name__}, lab={lab!r}, runs={runs}, seed={seed})"
    if verdict.status == "failed":
        return (
            f"run {verdict.failing_run} broke `{verdict.invariant}`: {verdict.rule} "
            f"Replay it with {replay} and read the shortest history it prints."
        )
    error = verdict.error
    assert error is not None
    if verdict.failing_run is None:  # the class does not fit the interface: no run happened
        return f"the checker could not run your class: {error.message}"
    return (
        f"run {verdict.failing_run}: {error.kind} in {error.operation}: {error.message} "
        f"Replay it with {replay}."
    )


@question(
    SET,
    "q1",
    covers=(
        "1,000 more runs over five other seeds, two of them drawn at grading time: other "
        "mixes of concurrent retries, duplicate "
        "deliveries, lost replies, crashes at any store or bank call, and a slow, down or "
        "pending bank; every invariant must hold in every run; and the class must be your own, not "
        "built on razorlab's"
    ),
)
def _q1(answer: object) -> str | None:
    return lab_feedback(answer, "payments", SELF_CHECK_RUNS, SELF_CHECK_SEED)
