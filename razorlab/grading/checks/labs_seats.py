"""Self-checks for the seat-holds lab (``solutions/labs/02_seat_holds_lab``).

Scenario: the learner hands in a seat-hold class; razorlab's lab checker attacks it with
colliding users, users who dawdle past the hold's TTL, duplicate deliveries, lost replies
and crashes over a modest number of seeded runs. The self-check passes when every
invariant held; a failure names the invariant and the seed and run that replay it, never
the fix (see :func:`~razorlab.grading.checks.labs_payments.lab_feedback`).
"""

from __future__ import annotations

from razorlab.grading import question
from razorlab.grading.checks.labs_payments import SELF_CHECK_RUNS, SELF_CHECK_SEED, lab_feedback

__all__ = ["SET"]

SET = "labs_seats"


@question(
    SET,
    "q1",
    covers=(
        "1,000 more runs over five other seeds, two of them drawn at grading time: other "
        "users, overlapping seats, holds that "
        "expire before a confirm, releases, duplicate deliveries, lost replies and crashes; "
        "every invariant must hold in every run; and the class must be your own, not "
        "built on razorlab's"
    ),
)
def _q1(answer: object) -> str | None:
    return lab_feedback(answer, "seats", SELF_CHECK_RUNS, SELF_CHECK_SEED)
