"""Tri-colour concurrent marking, and the object it loses without a write barrier.

Scenario: Go's GC marks while goroutines keep running and rewriting pointers.
Objects are white (not yet seen), grey (seen, fields not yet scanned) or black
(seen and scanned). Marking ends when no grey objects remain; white ones are freed.

The invariant that keeps this safe: *no black object points to a white object*
(strong form). A mutator can break it in two moves between mark steps:

1. store a pointer to white C into an already-black A;
2. delete the only other path to C (from a grey B).

The marker never revisits A, never reaches C, and frees C while A still uses it.
A write barrier restores the invariant: Dijkstra's insertion barrier shades the
new target (C) on store; Yuasa's deletion barrier shades the old target on
overwrite; Go (since 1.8, proposal 17503) uses a hybrid of both so it never has to
re-scan stacks.

Design note: a tiny explicit object graph and a script of mutator writes, so a
learner can replay every step; ``mark`` returns the colour of each object after
each step for display.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from razorlab.errors import ValidationError

__all__ = ["Write", "MarkResult", "BARRIERS", "mark", "lost_object_scenario"]

BARRIERS = ("none", "dijkstra", "yuasa", "hybrid")
WHITE, GREY, BLACK = "white", "grey", "black"


@dataclass(frozen=True)
class Write:
    """The mutator runs ``obj.slot = target`` (``None`` deletes) before mark step ``step``."""

    step: int
    obj: str
    slot: str
    target: str | None


@dataclass(frozen=True)
class MarkResult:
    barrier: str
    history: pd.DataFrame  # one row per step, one column per object: its colour
    freed: frozenset[str]
    reachable: frozenset[str]
    lost: frozenset[str] = field(default_factory=frozenset)  # freed yet still reachable


def _reachable(heap: dict[str, dict[str, str | None]], roots: Iterable[str]) -> set[str]:
    seen, todo = set(), list(roots)
    while todo:
        obj = todo.pop()
        if obj not in seen:
            seen.add(obj)
            todo.extend(t for t in heap[obj].values() if t is not None)
    return seen


def mark(
    heap: dict[str, dict[str, str | None]],
    roots: list[str],
    writes: Iterable[Write] = (),
    *,
    barrier: str = "none",
) -> MarkResult:
    """Mark ``heap`` from ``roots`` one grey object per step while ``writes`` happen."""
    if barrier not in BARRIERS:
        raise ValidationError(f"barrier must be one of {BARRIERS}", field="barrier")
    heap = {obj: dict(slots) for obj, slots in heap.items()}  # the mutator edits a copy
    writes = list(writes)  # read three times below: a generator would be used up by the first
    if any(isinstance(w.step, bool) or not isinstance(w.step, int) or w.step < 1 for w in writes):
        raise ValidationError("a write happens before mark step 1 or later", field="writes")
    unknown = {w.obj for w in writes} | {w.target for w in writes if w.target} | set(roots)
    if unknown - heap.keys():
        raise ValidationError(f"unknown objects {sorted(unknown - heap.keys())}", field="heap")
    colour = {obj: WHITE for obj in heap}
    grey: list[str] = []

    def shade(obj: str | None) -> None:
        if obj is not None and colour[obj] == WHITE:
            colour[obj] = GREY
            grey.append(obj)

    for r in roots:
        shade(r)
    rows = [dict(colour)]
    by_step: dict[int, list[Write]] = {}
    for w in writes:
        by_step.setdefault(w.step, []).append(w)
    step = 1
    while grey or any(s >= step for s in by_step):
        for w in by_step.pop(step, []):
            old = heap[w.obj].get(w.slot)
            if barrier in ("yuasa", "hybrid"):
                shade(old)
            if barrier in ("dijkstra", "hybrid"):
                shade(w.target)
            heap[w.obj][w.slot] = w.target
        if grey:
            obj = grey.pop(0)
            for target in heap[obj].values():
                shade(target)
            colour[obj] = BLACK
        rows.append(dict(colour))
        step += 1
    freed = frozenset(o for o, c in colour.items() if c == WHITE)
    reachable = frozenset(_reachable(heap, roots))
    history = pd.DataFrame(rows).rename_axis("step")
    return MarkResult(barrier, history, freed, reachable, freed & reachable)


def lost_object_scenario() -> tuple[dict[str, dict[str, str | None]], list[str], list[Write]]:
    """The textbook race: root A -> B -> C, then ``A.c = C; B.c = nil`` after A is black."""
    heap: dict[str, dict[str, str | None]] = {
        "A": {"b": "B", "c": None},
        "B": {"c": "C"},
        "C": {},
        "D": {},  # garbage from the start: must be freed in every case
    }
    writes = [Write(2, "A", "c", "C"), Write(2, "B", "c", None)]
    return heap, ["A"], writes
