"""Shrinking: cut a failing run down to the smallest one that still breaks the same rule.

Scenario: run 137 double-charged with three clients, seven payments and nine faults; its
history has 80 lines. The bug needs one client, one payment and one duplicated request.
A learner understands the 9-line version in a minute and the 80-line one never.

Design note (Zeller's delta debugging, Hypothesis' shrinker). The plan is data — clients,
operations, re-sends, faults — so we repeatedly try removing pieces: a whole client, one
operation (with the faults aimed at it), its re-sends, a chunk of faults (halves, then
quarters, … then single faults), and finally renumber what is left as client 1, op 1,
key ``k1`` (an argument naming another op's key — a post's pending — is renamed with it).
A candidate is kept when it still breaks the *same invariant*. Removing a piece changes how
the scheduler's random draws line up, so each candidate is tried with a small *family* of
seeds — the failing seed and a few derived from it — and the winning seed travels with the
plan. The loop stops at a fixpoint (no single removal keeps the failure) or after
``max_runs`` runs; the result is minimal in that local sense, not globally shortest. Among the family, the shortest failing history is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from razorlab.labs.plan import Fault, Op, Plan
from razorlab.rand import py_random

__all__ = ["ShrinkResult", "shrink", "seed_family", "FAMILY_SIZE", "MAX_SHRINK_RUNS"]

FAMILY_SIZE = 4  # seeds tried per candidate plan
MAX_SHRINK_RUNS = 600  # runs one shrink may spend

#: ``attempt(plan) -> history length if it fails the same invariant, else None``.
Attempt = Callable[[Plan], "int | None"]


def seed_family(seed: int, size: int = FAMILY_SIZE) -> list[int]:
    """``seed`` first, then ``size - 1`` seeds derived from it (the same for every caller)."""
    derived = py_random(seed, "labs/shrink-family")
    return [seed] + [derived.randrange(2**32) for _ in range(size - 1)]


@dataclass(frozen=True)
class ShrinkResult:
    """The smallest failing plan found, and how many runs it took."""

    plan: Plan
    runs: int


def _without_ops(plan: Plan, gone: set[int]) -> Plan:
    ops = tuple(op for op in plan.ops if op.id not in gone)
    faults = tuple(
        f for f in plan.faults if not (f.kind in ("duplicate", "lose_reply") and f.a in gone)
    )
    return replace(plan, ops=ops, faults=faults)


def _renumbered(plan: Plan) -> Plan:
    clients = {c: i for i, c in enumerate(plan.clients(), 1)}
    ids = {op.id: i for i, op in enumerate(plan.ops, 1)}
    keys = {op.key: f"k{ids[op.id]}" for op in plan.ops}  # an op may name another (a pending)
    ops = tuple(
        replace(op, id=ids[op.id], client=clients[op.client], key=keys[op.key],
                args=tuple(keys.get(a, a) if isinstance(a, str) else a for a in op.args))
        for op in plan.ops
    )  # fmt: skip
    faults = tuple(
        replace(f, a=ids[f.a]) if f.kind in ("duplicate", "lose_reply") else f for f in plan.faults
    )
    return replace(plan, ops=ops, faults=faults)


def _fault_chunks(faults: tuple[Fault, ...]) -> Iterator[tuple[Fault, ...]]:
    """Fault tuples with a chunk removed: all, then halves, quarters, … single faults."""
    n = len(faults)
    size = n
    while size >= 1:
        for start in range(0, n, size):
            yield faults[:start] + faults[start + size :]
        size //= 2


def _candidates(plan: Plan) -> Iterator[Plan]:
    for client in plan.clients():
        if len(plan.clients()) > 1:
            yield _without_ops(plan, {op.id for op in plan.ops if op.client == client})
    if len(plan.ops) > 1:
        for op in plan.ops:
            yield _without_ops(plan, {op.id})
    for i, op in enumerate(plan.ops):
        if op.replays:
            ops: list[Op] = list(plan.ops)
            ops[i] = replace(op, replays=0)
            yield replace(plan, ops=tuple(ops))
    for faults in _fault_chunks(plan.faults):
        yield replace(plan, faults=faults)
    for i, fault in enumerate(plan.faults):  # earlier crash points: shorter histories
        if fault.kind == "crash" and fault.a > 1:
            for a in (fault.a // 2, fault.a - 1):
                yield replace(
                    plan, faults=plan.faults[:i] + (replace(fault, a=a),) + plan.faults[i + 1 :]
                )


def shrink(plan: Plan, attempt: Attempt, *, max_runs: int = MAX_SHRINK_RUNS) -> ShrinkResult:
    """Shrink ``plan`` (which fails) while ``attempt`` still reports the same failure."""
    family = seed_family(plan.seed)
    runs = 0

    def fails(candidate: Plan) -> Plan | None:
        nonlocal runs
        seeds = [candidate.seed] + [s for s in family if s != candidate.seed]
        for seed in seeds:
            if runs >= max_runs:
                return None
            runs += 1
            trial = replace(candidate, seed=seed)
            if attempt(trial) is not None:
                return trial
        return None

    current = plan
    changed = True
    while changed and runs < max_runs:
        changed = False
        for candidate in _candidates(current):
            if candidate.size() >= current.size() and candidate.faults == current.faults:
                continue
            found = fails(candidate)
            if found is not None:
                current, changed = found, True
                break
    renumbered = _renumbered(current)
    if renumbered != current:
        current = fails(renumbered) or current
    # Among the seed family, keep the shortest failing history.
    best, best_len = current, attempt(current)
    runs += 1
    for seed in family:
        if seed == current.seed or runs >= max_runs:
            continue
        runs += 1
        length = attempt(replace(current, seed=seed))
        if length is not None and (best_len is None or length < best_len):
            best, best_len = replace(current, seed=seed), length
    return ShrinkResult(best, runs)
