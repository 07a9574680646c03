"""Self-checks for the ``migration`` exercises (Round 3, "Leading a migration").

Expected values come from ``razorlab.ops.migration``: the planner orders phases, the
simulator says when a guard fired and how many requests failed. Messages say what is
off and hint at why; they never state the answer.

The notebook imports this module, so it holds only the questions' inputs and the values
for those inputs of questions answered with a function (``qN_expected``); the values of
q2 and q3, answered with a value, are sealed digests (the tests recompute them from the
simulator and say when they go stale). The hidden tests compare with the solution's run.
"""

from __future__ import annotations

from collections.abc import Sequence

from razorlab.grading import question
from razorlab.grading.checks._sealed import int_offset, near_sealed
from razorlab.ops.migration import (
    DependencyCycle,
    Endpoint,
    NewService,
    plan_phases,
)

SET = "migration"

# ---- the numbers each question is about (the notebook imports them, never retypes) ----
Q1_ENDPOINTS = (
    Endpoint("kyc"),
    Endpoint("wallet"),
    Endpoint("merchants", ("kyc",)),
    Endpoint("payouts", ("wallet", "merchants")),
    Endpoint("disputes", ("payouts",)),
    Endpoint("reports", ("payouts", "disputes", "merchants")),
)
Q2_SERVICES = {"orders": NewService(capacity_pct=4)}
Q2_SEED = 7
Q3_SERVICES = {"payments": NewService(capacity_pct=20)}
Q3_RAMPS = {"cautious": (1, 5, 25, 100), "hasty": (50, 100)}
Q3_SEED = 42
Q4_ENDPOINTS = (
    Endpoint("orders", ("payments",)),
    Endpoint("payments", ("ledger", "orders")),
    Endpoint("ledger"),
    Endpoint("refunds", ("payments",)),
)


# ---- expected values for the question's own inputs, from the engine -----------------
# (values, not functions with the answers' signatures: ``ex`` is imported by the notebook)
def q1_expected() -> list[list[str]]:
    """The planner's phases for ``Q1_ENDPOINTS``."""
    return [list(p.endpoints) for p in plan_phases(Q1_ENDPOINTS)]


# q2 and q3 are answered with a value, so their values are sealed (see ``_sealed``): the
# minute of the first "breach" event of the q2 run, and the hasty/cautious ratio of failed
# requests in the q3 runs (rel 1%), both from ``MigrationSimulator``.
_Q2_SEALED = "22e979bc3de64a9ad046a6de1cdb257e"
_Q3_REL = 0.01
_Q3_SEALED = "105a23a6ac01f182ad5b0ae422e3f1f7"
_Q2_SPAN = 24 * 60  # minutes searched either side of an answer


def _edges(endpoints: Sequence[Endpoint]) -> set[tuple[str, str]]:
    return {(e.name, d) for e in endpoints for d in e.depends_on}


# ---- the checks -------------------------------------------------------------------------
@question(
    SET, "q1", covers="graphs with a single endpoint, a chain, a diamond, a cycle; drawn graphs"
)
def _q1(answer: object) -> str | None:
    if not callable(answer):
        return "answer with your function, extraction_order(endpoints)."
    got = answer(list(Q1_ENDPOINTS))
    if not isinstance(got, list) or not all(isinstance(p, list) for p in got):
        return "return a list of phases, each a list of endpoint names."
    want = q1_expected()
    if sorted(n for p in got for n in p) != sorted(n for p in want for n in p):
        return "every endpoint must appear in exactly one phase."
    position = {n: i for i, p in enumerate(got) for n in p}
    for name, dep in _edges(Q1_ENDPOINTS):
        if position[dep] >= position[name]:
            return f"{name!r} is extracted no later than something it calls; check its phase."
    if len(got) != len(want):
        return "the order is valid but not level by level: put everything that is ready together."
    if [sorted(p) for p in got] != [sorted(p) for p in want]:
        return "an endpoint is waiting a phase longer than its dependencies require."
    return None


@question(SET, "q2", covers="the minute of the first breach in the given run")
def _q2(answer: object) -> str | None:
    if isinstance(answer, bool) or not isinstance(answer, int):
        return "answer with the minute as an int (the timeline's `minute` column)."
    off = int_offset(answer, _Q2_SEALED, f"{SET}/q2", _Q2_SPAN)
    if off == 0:
        return None
    where = "far off: " if off is None else "too early: " if off > 0 else "too late: "
    return where + (
        "find the row whose event says the guard was breached, not the rollback after it."
    )


@question(SET, "q3", covers="the ratio, computed with the simulator on the given services and seed")
def _q3(answer: object) -> str | None:
    what = "the hasty/cautious failed-request ratio"
    return near_sealed(answer, _Q3_SEALED, f"{SET}/q3", rel=_Q3_REL, what=what)


@question(
    SET, "q4", covers="every endpoint kept, exactly one call removed and none added, ledger first"
)
def _q4(answer: object) -> str | None:
    if not isinstance(answer, list | tuple) or not all(isinstance(e, Endpoint) for e in answer):
        return "answer with a list of Endpoint objects."
    if sorted(e.name for e in answer) != sorted(e.name for e in Q4_ENDPOINTS):
        return "keep every endpoint; break the cycle by removing a call, not an endpoint."
    try:
        plan_phases(answer)
    except DependencyCycle:
        return "there is still a cycle; plan_phases names it."
    removed = _edges(Q4_ENDPOINTS) - _edges(answer)
    if _edges(answer) - _edges(Q4_ENDPOINTS):
        return "you added a call that was not there."
    if len(removed) != 1:
        return "remove exactly one call: the smallest change that breaks the loop."
    return None
