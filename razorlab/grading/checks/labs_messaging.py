"""Self-checks for the message-delivery lab (``solutions/labs/04_message_delivery_lab``).

Scenario: the learner hands in a delivery service; razorlab's lab checker attacks it with
retried and duplicated sends, devices that fetch, lose the answer and skip or overstate their
acks, linked devices of one user, and crashes at any store call, over a modest number of seeded
runs. The self-check passes when every invariant held; a failure names the invariant and the
seed and run that replay it, never the fix (see
:func:`~razorlab.grading.checks.labs_payments.lab_feedback`, shared by the labs). The lab's own
classes are refused here, since the shared helper predates them.
"""

from __future__ import annotations

from razorlab.grading import question
from razorlab.grading.checks.labs_payments import SELF_CHECK_RUNS, SELF_CHECK_SEED, lab_feedback
from razorlab.labs import ReferenceMessages, SeedMessages

__all__ = ["SET"]

SET = "labs_messaging"


@question(
    SET,
    "q1",
    covers=(
        "1,000 more runs over five other seeds, two of them drawn at grading time: other "
        "mixes of retried and duplicated sends, devices that fetch, lose the answer and skip or "
        "overstate their acks, linked devices, and crashes at any store call; every invariant "
        "must hold in every run; and the class must be your own, not built on razorlab's"
    ),
)
def _q1(answer: object) -> str | None:
    if answer is ReferenceMessages or answer is SeedMessages:
        return f"{answer.__name__} is razorlab's own class; pass the class you wrote."
    return lab_feedback(answer, "messaging", SELF_CHECK_RUNS, SELF_CHECK_SEED)
