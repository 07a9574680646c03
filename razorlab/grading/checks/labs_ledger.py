"""Self-checks for the double-entry ledger lab (``solutions/labs/03_ledger_lab``).

Scenario: the learner hands in a ledger class; razorlab's lab checker attacks it with
concurrent transfers from one account, two-phase transfers (reserve, then post, void or let
expire; posts and voids that race), retried and duplicated transfer ids, lost replies, crashes at
any store call and clock jumps, over a modest number of seeded runs. The self-check passes when
every invariant held; a failure names the invariant and the seed and run that replay it, never
the fix (see :func:`~razorlab.grading.checks.labs_payments.lab_feedback`, shared by the labs).
The ledger lab's own classes are refused here, since the shared helper predates them.
"""

from __future__ import annotations

from razorlab.grading import question
from razorlab.grading.checks.labs_payments import SELF_CHECK_RUNS, SELF_CHECK_SEED, lab_feedback
from razorlab.labs import ReferenceLedger, SeedLedger

__all__ = ["SET"]

SET = "labs_ledger"


@question(
    SET,
    "q1",
    covers=(
        "1,000 more runs over five other seeds, two of them drawn at grading time: other "
        "mixes of concurrent transfers from one account, pending transfers posted, voided or "
        "left to expire (with racing posts and voids), retried and duplicated transfer ids, "
        "lost replies, crashes at any store call and clock jumps; every invariant must hold in "
        "every run; and the class must be your own, not built on razorlab's"
    ),
)
def _q1(answer: object) -> str | None:
    if answer is ReferenceLedger or answer is SeedLedger:
        return f"{answer.__name__} is razorlab's own class; pass the class you wrote."
    return lab_feedback(answer, "ledger", SELF_CHECK_RUNS, SELF_CHECK_SEED)
