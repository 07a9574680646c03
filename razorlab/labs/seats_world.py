"""The seat-holds lab's simulated world: users who hold, think, then confirm or release.

Scenario: two users open the same show at once and grab overlapping seats. Each gets an
answer (or a timeout) and a *hold token*, spends a few seconds — or, now and then, longer
than the hold lives — at the payment page, then confirms with that token or gives up
and releases it. Meanwhile the network duplicates and loses messages and the service
crashes and restarts from its durable store.

Design note. This is the shared harness's :class:`~razorlab.labs.harness.World` with three
changes, nothing else: (1) the service is built as ``Impl(store, clock)`` — seats need no
bank — and its ``expire()`` is what runs after every restart and before the final read-back;
(2) a client remembers the token of its last hold and sends it with its next
``confirm``/``release`` (client ``n`` is user ``un``; a user without a token — the hold was
refused or never answered — has nothing to confirm and skips it), so tokens travel only
through answers the client really received; (3) a ``wait`` operation is the user thinking:
the client sleeps on virtual time, which is how the clock moves past the hold's TTL.
Everything else — the seeded scheduler, retries, crashes, budgets — is the harness's,
unchanged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from razorlab.labs.harness import MAX_ATTEMPTS, REPLAY_AFTER_S, RETRY_BACKOFF_S, World
from razorlab.labs.plan import Op
from razorlab.labs.process import Process

__all__ = ["SeatsWorld", "SeatsService"]


class SeatsService:
    """The learner's instance as the harness sees it: ``reconcile()`` is its ``expire()``."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def reconcile(self) -> Awaitable[Any]:
        return self.inner.expire()


class SeatsWorld(World):
    """One run of the seats lab (see the module docstring)."""

    def start(self) -> Process | None:
        process = Process(len(self.processes) + 1, self._on_effect)
        self.processes.append(process)
        ctx = self._context(process)
        try:
            inner = ctx.run(self.impl, self.disk.handle(process), self.clock)
        except Exception as exc:  # the learner's constructor
            self._raised(f"{getattr(self.impl, '__name__', 'service')}(store, clock)", exc)
            return None
        self.services[process.number] = SeatsService(inner)
        self.process = process
        return process

    async def guarded(
        self, process: Process, label: str, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        return await super().guarded(process, label.replace("reconcile()", "expire()"), call)

    async def _client(self, number: int, ops: list[Op]) -> None:
        lane = f"client {number}"
        token: str | None = None
        for op in ops:
            if op.method == "wait":
                (ms,) = op.args
                self.recorder.record(lane, "wait", f"thinks for {ms / 1000:g} s (checkout page)",
                                     op=op.id)  # fmt: skip
                await asyncio.sleep(ms / 1000)  # type: ignore[operator]
                continue
            if op.method in ("confirm", "release"):
                if token is None:
                    continue  # nothing to confirm: the hold was refused or never answered
                op = replace(op, args=(*op.args, token))
            op = replace(op, args=(f"u{number}", *op.args))  # client n is user un
            await self._attempts(lane, op)
            answer = self._answer_to(op)
            if op.method == "hold":
                held = getattr(answer, "status", None) == "held"
                token = getattr(answer, "token", None) if held else None
            else:
                token = None

    async def _attempts(self, lane: str, op: Op) -> None:
        """The harness's retry discipline: retry until an answer, then re-send ``replays``."""
        attempt = 0
        for send in range(1 + op.replays):
            if send:
                await asyncio.sleep(REPLAY_AFTER_S)
            while attempt < MAX_ATTEMPTS + op.replays:
                outcome = await self._call(lane, op, attempt)
                attempt += 1
                if outcome == "ok":
                    break
                await asyncio.sleep(RETRY_BACKOFF_S * 2 ** (attempt - 1))
