"""Self-checks for the ``migration`` exercises (Round 3, "Leading a migration").

Expected values come from ``razorlab.ops.migration``: the planner orders phases, the
simulator says when a guard fired and how many requests failed. Messages say what is
off and hint at why; they never state the answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from razorlab.grading import near, question
from razorlab.ops.migration import (
    DependencyCycle,
    Endpoint,
    MigrationSimulator,
    NewService,
    demo_monolith,
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


# ---- engine oracles ---------------------------------------------------------------------
def phase_lists(endpoints: Sequence[Endpoint]) -> list[list[str]]:
    return [list(p.endpoints) for p in plan_phases(endpoints)]


def breach_minute(services: dict[str, NewService], seed: int) -> int | None:
    run = MigrationSimulator(demo_monolith(), services, seed=seed).run()
    breaches = run.timeline[run.timeline["event"] == "breach"]
    return None if breaches.empty else int(breaches["minute"].iloc[0])


def failed_new_requests(services: dict[str, NewService], ramp: Sequence[float], seed: int) -> int:
    return (
        MigrationSimulator(demo_monolith(), services, ramp=ramp, seed=seed).run().failed_requests()
    )


def blast_ratio() -> float:
    hasty = failed_new_requests(Q3_SERVICES, Q3_RAMPS["hasty"], Q3_SEED)
    return hasty / failed_new_requests(Q3_SERVICES, Q3_RAMPS["cautious"], Q3_SEED)


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
    want = phase_lists(Q1_ENDPOINTS)
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
    want = breach_minute(Q2_SERVICES, Q2_SEED)
    if isinstance(answer, bool) or not isinstance(answer, int):
        return "answer with the minute as an int (the timeline's `minute` column)."
    if answer == want:
        return None
    return ("too early: " if answer < want else "too late: ") + (
        "find the row whose event says the guard was breached, not the rollback after it."
    )


@question(SET, "q3", covers="the ratio, computed with the simulator on the given services and seed")
def _q3(answer: object) -> str | None:
    return near(answer, blast_ratio(), rel=0.01, what="the hasty/cautious failed-request ratio")


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
