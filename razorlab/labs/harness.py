"""The deterministic simulation harness: one seeded run of a learner's service under faults.

Scenario: three clients send payments with idempotency keys through a network that
delays, duplicates and loses replies; they time out and retry with the same key; the
service crashes after its 7th store or bank call and is rebuilt from the durable store; the
bank is slow, down or says "pending"; the service's wall clock steps (an NTP step). At the
end the harness crashes the service once more, lets the bank settle, restarts it, asks it to
reconcile and reads every key back. The
recorded :class:`~razorlab.labs.history.History` and that final state are what the
invariants judge.

Design note (after FoundationDB's simulator and TigerBeetle's VOPR): everything
nondeterministic goes through the harness — the interleaving (:class:`SimLoop`'s seeded
ready queue), time (virtual), latencies and bank outcomes (seeded streams of the plan's
seed), the store's durability point (:mod:`~razorlab.labs.store`) and the faults (the
:class:`~razorlab.labs.plan.Plan`). So the same plan gives the same history, bit for bit,
and a failing seed replays exactly. A crash marks the process dead, kills its tasks, drops
its locks and uncommitted writes, and after :data:`RESTART_DELAY_S` builds a *new*
instance of the learner's class from the durable store (in-memory caches are gone), then
calls its ``reconcile()``. Requests that arrive while it is down are refused.

Clock jumps (the ``clock_jump`` fault): at ``t=a`` ms of virtual time the service's wall
clock, :meth:`SimClock.now` (the seats lab's ``clock``, the ledger lab's ``store.clock``),
steps by ``b`` seconds, forwards or backwards, as an NTP step does, and stays stepped across
restarts (the machine's clock, not the process's). Nothing
else moves: the loop's time, sleeps, client timeouts and the checker's true time are
virtual time. What a correct service must guarantee under a jump: **safety never reads the
clock** — a seat is confirmed for one user, a stale token is fenced, an account never goes
below its limit, a pending transfer is resolved once — so those rules are judged as always.
**Time-based promises are the service's own clock's**: a hold or a pending transfer expires
when *the service's* clock says so. The checker cannot know which reading a service used, so
it judges those rules on true time widened by :func:`clock_slack`, the total of the backward
steps so far (a backward step is the only one that lets a deadline pass later than true time
says; a forward one only makes it come sooner, which no rule forbids). The alternative —
hand the service a clock that never jumps — would hide the bug the fault exists to show: a
design that trusts ``now < until`` to decide who owns a seat.

Bad input never hangs the caller: each learner call has a simulated-time budget
(:data:`OP_BUDGET_S`), the run a step budget and a real-time cap; an exception other
than the lab's ``TryAgain`` stops the run. Each becomes a :class:`LabError` naming the
operation.
"""

from __future__ import annotations

import asyncio
import contextvars
import traceback
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from razorlab.labs.bank import CURRENT_KEY, SimBank
from razorlab.labs.history import History, Recorder
from razorlab.labs.loop import OWNER, Deadlock, SimLoop, StepBudgetExceeded
from razorlab.labs.plan import Op, Plan
from razorlab.labs.process import Crashed, Process
from razorlab.labs.store import DurableStore
from razorlab.labs.watchdog import WALL_CAP_S, WallClockExceeded, Watchdog
from razorlab.rand import py_random

__all__ = [
    "LabError",
    "LabSpec",
    "RunResult",
    "SimClock",
    "TryAgain",
    "World",
    "clock_slack",
    "run_plan",
    "CLIENT_TIMEOUT_S",
    "MAX_ATTEMPTS",
    "OP_BUDGET_S",
    "RESTART_DELAY_S",
    "SETTLE_S",
]

CLIENT_TIMEOUT_S = 10.0  # a client gives up on an attempt after this many seconds
MAX_ATTEMPTS = 4  # attempts per operation before the client gives up on it
RETRY_BACKOFF_S = 1.0  # first retry delay; doubles each attempt
REPLAY_AFTER_S = 20.0  # a re-send of a completed key comes this long after its answer
RESTART_DELAY_S = 1.0  # a crashed service is back after this long
SETTLE_S = 60.0  # before the final read-back: every bank charge applied or resolved
OP_BUDGET_S = 30.0  # simulated seconds one call into learner code may take (bank timeout: 5)
NET_MS = (1, 20)  # one-way network latency range, milliseconds


class TryAgain(Exception):
    """What a service raises to say "not now, retry" (HTTP 409/503): the client retries."""


@dataclass(frozen=True)
class LabError:
    """Why a run could not be judged: the learner's code raised, hung, blocked or misfit."""

    kind: str  # raised | hang | blocked | livelock | interface
    operation: str
    message: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.kind}: {self.operation}: {self.message}"


class SimClock:
    """The service's clock: the run's virtual time (``now()`` in epoch seconds) and sleep.

    ``now()`` is the machine's wall clock, so a ``clock_jump`` fault steps it (:meth:`step`);
    ``sleep`` is a monotonic wait and never jumps.
    """

    EPOCH_S = 1_767_225_600.0  # 2026-01-01T00:00:00Z, like razorlab.clock.EPOCH_2026

    def __init__(self) -> None:
        self.offset_s = 0.0  # the sum of the steps so far

    def now(self) -> float:
        return self.EPOCH_S + asyncio.get_running_loop().time() + self.offset_s

    def step(self, seconds: float) -> None:
        """Step the wall clock by ``seconds`` (negative: backwards), as NTP's step does."""
        self.offset_s += seconds

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def clock_slack(history: History, until: float = float("inf")) -> float:
    """How far the service's clock may lag true time by ``until``: its backward steps' total."""
    steps = [e.get("step_s") for e in history.of_kind("clock_jump") if e.t <= until]
    return float(-sum(s for s in steps if isinstance(s, int | float) and s < 0))


class LabSpec(Protocol):
    """What a lab tells the harness: how to call the service and read its final state."""

    name: str

    def call(self, service: Any, op: Op) -> Awaitable[Any]: ...

    def check_result(self, op: Op, result: Any) -> str | None: ...

    def describe_result(self, result: Any) -> str: ...

    def describe_op(self, op: Op) -> str: ...

    async def read_back(self, world: World, service: Any) -> Any: ...


@dataclass
class RunResult:
    """One run: its plan, history, final state (``None`` if the run stopped) and any error."""

    plan: Plan
    history: History
    final: Any = None
    error: LabError | None = None
    steps: int = 0


@dataclass
class World:
    """The simulated universe of one run (built by :func:`run_plan`)."""

    lab: LabSpec
    impl: Callable[..., Any]
    plan: Plan
    loop: SimLoop = field(init=False)

    def __post_init__(self) -> None:
        seed = self.plan.seed
        self.loop = SimLoop(py_random(seed, "labs/schedule"))
        self.loop.set_exception_handler(lambda loop, context: None)  # errors are reported
        self.net = py_random(seed, "labs/network")
        self.recorder = Recorder(self.loop.time)
        self.disk = DurableStore()
        bank_faults = {f.a: f.kind[5:] for f in self.plan.faults if f.kind.startswith("bank_")}
        bank_faults.pop("down", None)
        down = tuple((f.a / 1000, f.b / 1000) for f in self.plan.faults if f.kind == "bank_down")
        self.bank = SimBank(
            self.recorder, py_random(seed, "labs/bank"),
            faults={k: v for k, v in bank_faults.items() if v != "down"}, down=down,
        )  # fmt: skip
        self.clock = SimClock()
        for f in self.plan.faults:
            if f.kind == "clock_jump":
                self.loop.call_at(f.a / 1000, self._clock_jump, f.b)
        self.crash_after = {f.a for f in self.plan.faults if f.kind == "crash"}
        self.duplicated = {(f.a, f.b) for f in self.plan.faults if f.kind == "duplicate"}
        self.lost_replies = {(f.a, f.b) for f in self.plan.faults if f.kind == "lose_reply"}
        self.effects = 0
        self.processes: list[Process] = []
        self.process: Process | None = None
        self.services: dict[int, Any] = {}
        self.fatal: LabError | None = None
        self.final_phase = False
        self._restart_handle: asyncio.TimerHandle | None = None

    # -- time and randomness ------------------------------------------------------------
    def _net_latency(self) -> float:
        return self.net.randint(*NET_MS) / 1000

    def _clock_jump(self, seconds: int) -> None:
        self.clock.step(seconds)
        text = f"the service's wall clock steps {seconds:+d} s (an NTP step); true time does not"
        self.recorder.record("harness", "clock_jump", text, step_s=seconds)

    # -- failures of learner code ---------------------------------------------------------
    def fail(self, error: LabError) -> None:
        if self.fatal is None:
            self.fatal = error
        self.loop.stop()

    def fail_interface(self, operation: str, message: str) -> None:
        self.fail(LabError("interface", operation, message))

    def _answer_to(self, op: Op) -> Any:
        """The answer this op's client last received (``None`` if it never got one)."""
        for event in reversed(self.recorder.events):
            if event.op == op.id and event.kind == "ok":
                return event.get("result")
        return None

    def _raised(self, operation: str, exc: BaseException) -> None:
        lines = traceback.format_exception(type(exc), exc, exc.__traceback__)
        detail = "".join(lines[-6:]).rstrip()
        self.fail(LabError("raised", operation, f"{type(exc).__name__}: {exc}", detail))

    # -- the process: start, crash, restart -----------------------------------------------
    def _context(self, process: Process, key: str | None = None) -> contextvars.Context:
        ctx = contextvars.copy_context()
        ctx.run(OWNER.set, process)
        ctx.run(CURRENT_KEY.set, key)
        return ctx

    def spawn(
        self, process: Process, coro: Coroutine[Any, Any, Any], name: str, key: str | None = None
    ) -> asyncio.Task[Any]:
        """Run ``coro`` as a task of ``process`` (killed with it), serving ``key``."""
        return self._context(process, key).run(self.loop.create_task, coro, name=name)

    def start(self) -> Process | None:
        """Build a new incarnation of the learner's service from the durable store."""
        process = Process(len(self.processes) + 1, self._on_effect)
        self.processes.append(process)
        ctx = self._context(process)
        try:
            service = ctx.run(
                self.impl, self.disk.handle(process), self.bank.client(process), self.clock
            )
        except Exception as exc:  # the learner's constructor
            self._raised(f"{getattr(self.impl, '__name__', 'service')}(store, bank, clock)", exc)
            return None
        self.services[process.number] = service
        self.process = process
        return process

    def _on_effect(self, process: Process, what: str) -> None:
        self.effects += 1
        if not self.final_phase and self.effects in self.crash_after:
            self.crash(process, f"CRASH right after effect #{self.effects}: {what}")

    def crash(self, process: Process, text: str | None) -> None:
        """Kill ``process`` now (``text``: the timeline line; ``None`` records nothing)."""
        process.alive = False
        self.process = None
        if text is not None:
            self.recorder.record("service", "crash", text, effect=self.effects)
        self.disk.crash()
        for task in self.loop.tasks_of(process):
            task.cancel()
        if not self.final_phase:
            self._restart_handle = self.loop.call_later(RESTART_DELAY_S, self._restart)

    def _restart(self) -> None:
        process = self.start()
        if process is None:
            return
        self.recorder.record(
            "service", "restart", f"restarts (process #{process.number}) from the durable store"
        )
        service = self.services[process.number]
        self.spawn(process, self.guarded(process, "reconcile() after a restart", service.reconcile),
                   "reconcile")  # fmt: skip

    async def guarded(
        self, process: Process, label: str, call: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Await learner code with a simulated-time budget; its errors stop the run."""
        timer = self.loop.call_later(OP_BUDGET_S, self._over_budget, process, label)
        try:
            awaitable = call()
            if not isinstance(awaitable, Awaitable):
                self.fail(LabError("interface", label, "must be an `async def` method"))
                return None
            return await awaitable
        except (Crashed, asyncio.CancelledError, TryAgain):
            raise
        except Exception as exc:
            if process.alive:
                self._raised(label, exc)
            raise Crashed("stopped") from None
        finally:
            timer.cancel()

    def _over_budget(self, process: Process, label: str) -> None:
        if process.alive:
            self.fail(LabError(
                "hang", label,
                f"did not finish within {OP_BUDGET_S:g} s of simulated time "
                "(awaiting something that never happens, or sleeping in a loop?)",
            ))  # fmt: skip

    # -- clients and the network ----------------------------------------------------------
    async def _client(self, number: int, ops: list[Op]) -> None:
        lane = f"client {number}"
        for op in ops:
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

    async def _call(self, lane: str, op: Op, attempt: int) -> str:
        text = self.lab.describe_op(op) + (f"  (attempt {attempt + 1})" if attempt else "")
        self.recorder.record(lane, "invoke", text, key=op.key, op=op.id, attempt=attempt,
                             to="service", args=op.args)  # fmt: skip
        reply: asyncio.Future[tuple[str, Any]] = self.loop.create_future()
        copies = 2 if (op.id, attempt) in self.duplicated else 1
        for copy in range(copies):
            self.loop.call_later(self._net_latency(), self._deliver, lane, op, attempt, copy, reply)
        try:
            kind, value = await asyncio.wait_for(reply, CLIENT_TIMEOUT_S)
        except asyncio.TimeoutError:
            self.recorder.record(
                lane, "info", f"no answer within {CLIENT_TIMEOUT_S:g}s: outcome unknown",
                key=op.key, op=op.id, attempt=attempt,
            )  # fmt: skip
            return "info"
        if kind == "ok":
            self.recorder.record(lane, "ok", "← " + self.lab.describe_result(value), key=op.key,
                                 op=op.id, attempt=attempt, result=value)  # fmt: skip
        else:
            self.recorder.record(lane, "fail", f"← {value}", key=op.key, op=op.id,
                                 attempt=attempt)  # fmt: skip
        return kind

    def _deliver(self, lane: str, op: Op, attempt: int, copy: int, reply: asyncio.Future) -> None:
        process = self.process
        if process is None:
            self.loop.call_later(
                self._net_latency(), self._answer, reply, ("fail", "refused: service is down")
            )
            return
        dup = "  (duplicate delivery)" if copy else ""
        self.recorder.record("service", "deliver", f"receives {op.method}({op.key}){dup}",
                             key=op.key, op=op.id, attempt=attempt)  # fmt: skip
        name = f"{op.method}({op.key}) attempt {attempt + 1}" + (" duplicate" if copy else "")
        self.spawn(process, self._handle(process, lane, op, attempt, copy, reply, name), name,
                   op.key)  # fmt: skip

    async def _handle(
        self, process: Process, lane: str, op: Op, attempt: int, copy: int,
        reply: asyncio.Future, name: str,
    ) -> None:  # fmt: skip
        service = self.services[process.number]
        try:
            result = await self.guarded(process, name, lambda: self.lab.call(service, op))
        except (Crashed, asyncio.CancelledError):
            return
        except TryAgain as exc:
            answer: tuple[str, Any] = ("fail", f"try again: {exc}")
        else:
            problem = self.lab.check_result(op, result)
            if problem:
                self.fail(LabError("interface", name, problem))
                return
            answer = ("ok", result)
        if not process.alive:
            return
        if copy == 0 and (op.id, attempt) in self.lost_replies:
            self.recorder.record("service", "reply_lost", f"reply to {op.key} lost in the network",
                                 key=op.key, op=op.id, attempt=attempt)  # fmt: skip
            return
        if reply.done():
            shown = self.lab.describe_result(answer[1]) if answer[0] == "ok" else answer[1]
            self.recorder.record("service", "reply_ignored",
                                 f"answers {op.key} ({shown}); nobody is waiting", key=op.key,
                                 op=op.id, attempt=attempt)  # fmt: skip
            return
        self.loop.call_later(self._net_latency(), self._answer, reply, answer)

    @staticmethod
    def _answer(reply: asyncio.Future, answer: tuple[str, Any]) -> None:
        if not reply.done():
            reply.set_result(answer)

    # -- the run ----------------------------------------------------------------------------
    async def main(self) -> Any:
        if self.start() is None:
            return None
        by_client: dict[int, list[Op]] = {}
        for op in self.plan.ops:
            by_client.setdefault(op.client, []).append(op)
        await asyncio.gather(*(self._client(c, ops) for c, ops in sorted(by_client.items())))
        # The final check: crash once more, let the bank settle, restart, reconcile, read back.
        self.final_phase = True
        if self._restart_handle is not None:
            self._restart_handle.cancel()
        if self.process is not None:
            self.crash(self.process, None)  # the read-back line says so
        await asyncio.sleep(SETTLE_S)
        self.bank.healthy = True
        process = self.start()
        if process is None:
            return None
        service = self.services[process.number]
        await self.spawn(process, self.guarded(process, "final reconcile()", service.reconcile),
                         "final reconcile")  # fmt: skip
        return await self.spawn(process, self.lab.read_back(self, service), "read back")

    def drain(self) -> None:
        """Cancel every task left and let them unwind, so nothing leaks out of the run."""
        loop = self.loop
        loop.max_steps = loop.steps + 20_000
        for _ in range(3):
            tasks = [t for ts in loop.owned.values() for t in ts if not t.done()]
            tasks += [t for t in loop.unowned if not t.done()]
            if not tasks:
                break
            for task in tasks:
                task.cancel()
            try:
                loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
            except (Exception, WallClockExceeded):
                break
        for ts in [*loop.owned.values(), loop.unowned]:
            for task in ts:
                if task.done() and not task.cancelled():
                    task.exception()  # mark retrieved: no "never retrieved" noise


def run_plan(
    lab: LabSpec, impl: Callable[..., Any], plan: Plan, *, wall_cap_s: float = WALL_CAP_S
) -> RunResult:
    """Run ``plan`` against the learner's class ``impl``; never hangs, never raises for bad code."""
    world = getattr(lab, "world", World)(lab, impl, plan)  # a lab may bring its own clients
    loop = world.loop
    final, error = None, None
    dog = Watchdog(wall_cap_s, loop)
    try:
        with dog:
            loop.on_step = dog.check
            try:
                final = loop.run_until_complete(world.main())
            finally:
                loop.on_step = None
    except WallClockExceeded:
        error = LabError(
            "blocked", dog.blamed or "the service",
            f"blocked the event loop for more than {wall_cap_s:g} s of real time "
            "(time.sleep, a blocking call or a loop that never awaits?)",
        )  # fmt: skip
    except StepBudgetExceeded as exc:
        error = LabError("livelock", "the service", f"{exc}: something spins without "
                         "advancing time (a loop around `await asyncio.sleep(0)`?)")  # fmt: skip
    except Deadlock as exc:
        error = LabError("hang", "the service", str(exc))
    except RuntimeError:  # loop.stop() from World.fail
        if world.fatal is None:
            raise
        error = world.fatal
    error = world.fatal or error
    steps = loop.steps
    try:
        with Watchdog(wall_cap_s, loop):
            world.drain()
    except WallClockExceeded:
        pass
    finally:
        loop.close()
    history = world.recorder.history()
    return RunResult(plan, history, None if error else final, error, steps)
