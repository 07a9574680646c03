"""The lab's durable store: a small key-value database whose durability point the harness owns.

Scenario: the seed's payment service opens a database transaction, calls the bank inside
it, then commits. If the process dies between the bank's answer and ``COMMIT``, the
rollback erases the only record of a charge the bank made. To show that, a lab needs a
store where "committed" and "lost in a crash" are exact, replayable facts — which a real
SQLite file behind ``aiosqlite``'s thread is not (its thread escapes the seeded loop).

What the learner gets (:class:`Store`, bound to one process incarnation):

* ``await get(key)`` — the committed value or ``None``;
* ``await put(key, value)``, ``await put_if_absent(key, value) -> bool`` and
  ``await compare_and_set(key, expected, new) -> bool`` — single-key atomic writes,
  durable when they return;
* ``await scan(prefix)`` — committed ``(key, value)`` pairs in key order;
* ``async with store.transaction() as tx`` — ``await tx.get``/``tx.put``; writes are
  buffered and become durable together at a clean exit (commit), or vanish on an
  exception or a crash.

Design note. Invariants: only committed data survives :meth:`DurableStore.crash`; values
are deep-copied in and out, so mutating a returned dict changes nothing stored; one writer
at a time (a store-wide lock, like SQLite's ``BEGIN IMMEDIATE``) — a transaction holds it
from begin to commit, single-key writes take it briefly, reads never wait (they see the
last commit, like WAL readers). Locks belong to the process: a crash releases them.
Every operation first yields to the scheduler (so other tasks can interleave there) and
then counts as an *effect*, after which the harness may crash the process.
Trade-off: one global write lock is simpler than row locks and still shows why holding a
transaction across a slow bank call serialises every payment.
"""

from __future__ import annotations

import asyncio
import copy
from types import TracebackType
from typing import Any

from razorlab.labs.process import Process

__all__ = ["DurableStore", "Store", "Transaction"]


class DurableStore:
    """The disk: committed data only. The harness builds one per run and hands out handles."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    def crash(self) -> None:
        """The process died: its locks go with it (uncommitted writes were never here)."""
        self._lock = None

    def handle(self, process: Process) -> Store:
        return Store(self, process)

    def snapshot(self) -> dict[str, Any]:
        """A copy of everything committed, in key order."""
        return {k: copy.deepcopy(self.data[k]) for k in sorted(self.data)}


class Store:
    """A process's connection to the durable store (see the module docstring)."""

    def __init__(self, disk: DurableStore, process: Process) -> None:
        self._disk = disk
        self._process = process

    async def _enter(self) -> None:
        self._process.ensure_alive()
        await asyncio.sleep(0)  # a scheduling point: another task may run first
        self._process.ensure_alive()

    async def get(self, key: str) -> Any | None:
        await self._enter()
        value = copy.deepcopy(self._disk.data.get(key))
        self._process.effect(f"read {key}")
        return value

    async def scan(self, prefix: str = "") -> list[tuple[str, Any]]:
        await self._enter()
        data = self._disk.data
        found = [(k, copy.deepcopy(data[k])) for k in sorted(data) if k.startswith(prefix)]
        self._process.effect(f"scan {prefix}*")
        return found

    async def _write(self, key: str, apply: Any) -> bool:
        await self._enter()
        async with self._disk.lock:
            self._process.ensure_alive()
            done = bool(apply())
        self._process.effect(f"write {key}")
        return done

    async def put(self, key: str, value: Any) -> None:
        stored = copy.deepcopy(value)
        await self._write(key, lambda: self._disk.data.__setitem__(key, stored) or True)

    async def put_if_absent(self, key: str, value: Any) -> bool:
        """Insert ``value`` only if ``key`` has no value; ``True`` if this call inserted it."""
        stored = copy.deepcopy(value)
        data = self._disk.data

        def apply() -> bool:
            if key in data:
                return False
            data[key] = stored
            return True

        return await self._write(key, apply)

    async def compare_and_set(self, key: str, expected: Any, new: Any) -> bool:
        """Replace the value only if it still equals ``expected`` (``None``: absent)."""
        stored = copy.deepcopy(new)
        data = self._disk.data

        def apply() -> bool:
            if data.get(key) != expected:
                return False
            data[key] = stored
            return True

        return await self._write(key, apply)

    def transaction(self) -> Transaction:
        return Transaction(self._disk, self._process)


class Transaction:
    """``async with store.transaction() as tx``: buffered writes, durable together at commit."""

    def __init__(self, disk: DurableStore, process: Process) -> None:
        self._disk = disk
        self._process = process
        self._writes: dict[str, Any] = {}
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> Transaction:
        self._process.ensure_alive()
        await asyncio.sleep(0)
        self._lock = self._disk.lock
        await self._lock.acquire()
        self._process.effect("begin transaction")
        return self

    async def get(self, key: str) -> Any | None:
        self._process.ensure_alive()
        await asyncio.sleep(0)
        value = self._writes[key] if key in self._writes else self._disk.data.get(key)
        value = copy.deepcopy(value)
        self._process.effect(f"read {key} (in transaction)")
        return value

    async def put(self, key: str, value: Any) -> None:
        self._process.ensure_alive()
        self._writes[key] = copy.deepcopy(value)
        self._process.effect(f"write {key} (uncommitted)")

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self._process.ensure_alive()
                await asyncio.sleep(0)
                self._process.ensure_alive()
                self._disk.data.update(self._writes)
                names = ", ".join(sorted(self._writes)) or "nothing"
                self._process.effect(f"commit ({names})")
        finally:
            if self._lock is not None and self._lock.locked():
                self._lock.release()
