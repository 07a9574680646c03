"""A service process as the harness sees it: alive until crashed, and every effect counted.

Scenario: the payment service has sent a charge to the bank and is about to write the
result when the machine loses power. Nothing in memory survives; the bank's charge does.
To put a crash at *any* await point, and the same point again on replay, the harness
counts the service's effects — every store operation and every bank call — and a crash
fault says "crash right after effect number ``n``".

Design note. Each incarnation of the service gets its own :class:`Process`; the store and
bank handles it receives are bound to it. After a crash, every call through a dead
handle raises :class:`Crashed` *without doing anything*, so ``finally`` blocks and
``except`` clauses that run while the dead tasks unwind cannot write to the store or
charge the bank: a real crashed process does not get to clean up. ``Crashed`` is a
``BaseException`` so ``except Exception`` in learner code cannot swallow it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Crashed", "Process"]


class Crashed(BaseException):
    """Raised into the code of a process that the harness has crashed."""


class Process:
    """Incarnation ``number`` of the service; ``on_effect`` may crash it (and then raises)."""

    def __init__(self, number: int, on_effect: Callable[[Process, str], None]) -> None:
        self.number = number
        self.alive = True
        self._on_effect = on_effect

    def ensure_alive(self) -> None:
        if not self.alive:
            raise Crashed(f"process #{self.number} has crashed")

    def effect(self, what: str) -> None:
        """Count one effect (already applied); the harness may crash the process right here."""
        self.ensure_alive()
        self._on_effect(self, what)
        self.ensure_alive()

    def __repr__(self) -> str:
        return f"Process(#{self.number}, {'alive' if self.alive else 'crashed'})"
