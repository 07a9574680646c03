"""A run plan: the clients' operations and the faults to inject, as data that can be shrunk.

Scenario: run 137 of a check double-charges with three clients, seven operations, two
crashes and a slow bank. Which of those matter? To answer, the run must be *described*
by a list of discrete choices that can be removed one at a time and replayed — not by a
random generator consulted on the fly, where removing one draw shifts all the others.

Design note. A :class:`Plan` is a seed (for the scheduler's interleaving and the
latencies) plus a tuple of :class:`Op` and a tuple of :class:`Fault`. Faults refer to
operations by their stable ``Op.id`` (not by position), to the service's effects by
number ("crash after its 7th store or bank call"), to the bank's charge requests by
number and to virtual time for a clock jump, so removing one item leaves the others meaning
the same thing. Everything is a frozen dataclass: plans hash, compare and print.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

__all__ = ["Op", "Fault", "Plan", "FAULT_KINDS", "CLOCK_STEP_S", "maybe_clock_jump"]

CLOCK_STEP_S = (5, 20)  # a generated clock jump's size, seconds, forwards or backwards

#: What each fault kind does, for timelines and docs.
FAULT_KINDS = {
    "duplicate": "the network delivers attempt {b1} of op {a} twice",
    "lose_reply": "the network loses the service's reply to attempt {b1} of op {a}",
    "crash": "the service crashes right after its effect #{a} (a store or bank call)",
    "bank_down": "the bank refuses connections from t={a}ms to t={b}ms",
    "bank_slow": "the bank answers charge #{a1} after the bank client's timeout",
    "bank_lost": "the bank charges but its answer is lost, charge #{a1}",
    "bank_pending": "the bank answers 'pending' to charge #{a1}",
    "bank_decline": "the bank declines charge #{a1}",
    "clock_jump": "at t={a}ms the service's wall clock steps by {b:+d} s (true time does not)",
}


@dataclass(frozen=True)
class Op:
    """One client operation: ``method(*args)`` on behalf of idempotency key / resource ``key``.

    The client retries it (same key) until it gets a definite answer, then re-sends it
    ``replays`` more times later, as a merchant's own retry after a restart would.
    """

    id: int
    client: int
    method: str
    key: str
    args: tuple[object, ...]
    replays: int = 0


@dataclass(frozen=True)
class Fault:
    """A fault: ``kind`` (one of :data:`FAULT_KINDS`) and its two integer parameters."""

    kind: str
    a: int = 0
    b: int = 0

    def describe(self) -> str:
        return FAULT_KINDS[self.kind].format(a=self.a, b=self.b, a1=self.a + 1, b1=self.b + 1)


def maybe_clock_jump(r: random.Random, odds: float, within_ms: int) -> tuple[Fault, ...]:
    """With probability ``odds``, one ``clock_jump`` before ``within_ms`` of :data:`CLOCK_STEP_S`.

    Labs draw it after the plan's seed, so adding it left every other draw where it was.
    """
    if r.random() >= odds:
        return ()
    step = r.choice((-1, 1)) * r.randint(*CLOCK_STEP_S)
    return (Fault("clock_jump", r.randint(1, within_ms), step),)


@dataclass(frozen=True)
class Plan:
    """Seed + operations + faults: everything a run depends on."""

    seed: int
    ops: tuple[Op, ...]
    faults: tuple[Fault, ...] = ()

    def with_(self, **changes: object) -> Plan:
        return replace(self, **changes)  # type: ignore[arg-type]

    def clients(self) -> list[int]:
        return sorted({op.client for op in self.ops})

    def size(self) -> tuple[int, int, int, int]:
        """What shrinking minimises: clients, operations + replays, faults, seed."""
        return (
            len(self.clients()),
            len(self.ops) + sum(op.replays for op in self.ops),
            len(self.faults),
            self.seed,
        )

    def describe(self) -> str:
        lines = [f"seed {self.seed}"]
        for op in self.ops:
            args = ", ".join(map(repr, op.args))
            again = f", re-sent {op.replays}x" if op.replays else ""
            lines.append(f"op {op.id}: client {op.client} {op.method}({args}){again}")
        lines += [f"fault: {f.describe()}" for f in self.faults]
        return "\n".join(lines)
