"""The migration's risk register: scored, owned, and updated by what happened.

A risk register is the table a lead reviews every week: each risk with a likelihood
and an impact on a 1–5 scale, their product as the score that orders the list, a
mitigation and an owner. Here impact is derived from the plan — the share of
traffic a phase carries and how many endpoints depend on it (a ledger outage stops
everything that posts money) — and each risk's status comes from a run: *retired*
once its phase completed, *materialised* when its failure mode happened, else *open*
(a phase undone by a later phase's cross-phase rollback is open again).
"""

from __future__ import annotations

import pandas as pd

from razorlab.ops.migration import MigrationRun, MigrationSimulator, dependents

__all__ = ["risk_register", "PHASE_RISKS"]

#: (risk, likelihood 1-5, mitigation, owner role, the phase outcome that means it happened)
PHASE_RISKS = [
    (
        "new service answers differently (behaviour drift)",
        3,
        "shadow traffic with response diffing before any user sees it",
        "tech lead",
        "shadow_failed",
    ),
    (
        "capacity cliff under real load",
        3,
        "ramp 1% -> 5% -> 25% -> 100% with error and p99 guards; load test first",
        "SRE",
        "rolled_back",
    ),
    (
        "dependency not ready or monolith unhealthy",
        2,
        "pre-checks gate every phase; extract in dependency order",
        "architect",
        "blocked",
    ),
]


def risk_register(sim: MigrationSimulator, run: MigrationRun | None = None) -> pd.DataFrame:
    """``sim``'s risks per phase scored likelihood × impact; statuses from ``run`` if given."""
    eps = dict(sim.endpoints)
    total_rpm = sum(e.rpm for e in eps.values())
    outcome = (
        {} if run is None else dict(zip(run.phases["phase"], run.phases["outcome"], strict=True))
    )
    if run is not None:  # undone with a later phase's rollback: its own risks did not happen
        for index, reason in zip(run.phases["phase"], run.phases["reason"], strict=True):
            if str(reason).startswith("with phase"):
                outcome[index] = "undone"
    rows = []
    for phase in sim.plan:
        share = sum(eps[n].rpm for n in phase.endpoints) / total_rpm
        fan_in = len(set().union(*(dependents(eps.values(), n) for n in phase.endpoints)))
        impact = min(5, 1 + round(4 * share) + min(fan_in, 2))
        result = outcome.get(phase.index, "not run")
        for risk, likelihood, mitigation, owner, fails_on in PHASE_RISKS:
            status = {"completed": "retired", fails_on: "materialised"}.get(result, "open")
            score = likelihood * impact
            rows.append((phase.index, risk, likelihood, impact, score, mitigation, owner, status))
    cols = ["phase", "risk", "likelihood", "impact", "score", "mitigation", "owner", "status"]
    return pd.DataFrame(rows, columns=cols).sort_values(
        ["score", "phase"], ascending=[False, True], ignore_index=True
    )
