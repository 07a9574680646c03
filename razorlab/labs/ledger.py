"""Lab 3, a double-entry ledger: the interface the learner implements and the workload it faces.

Scenario: a wallet service moves money between accounts. Every transfer debits one account and
credits another by the same amount, under an id the client chose. Some payments are two-phase:
a *pending* transfer reserves the money first (a card authorisation), and later a *post*
captures all or part of it or a *void* gives it back; a pending nobody resolves *expires* after
its timeout and releases its reservation. Clients retry with the same id when a reply is lost,
the network delivers a request twice, two clients spend from one account — or resolve one
pending — at the same moment, and the service crashes at any store call and restarts from its
store. A correct ledger applies each id at most once, never creates or destroys money, never
lets an account below its limit (reservations included), resolves a pending at most once,
never forgets an acknowledged transfer, and answers a retried id with its first answer — a
refusal included.

**The interface** (any class with this shape; a fresh instance is built after every crash, so
nothing in ``self`` survives one)::

    class MyLedger:
        def __init__(self, store, accounts): ...
        async def transfer(self, transfer_id: str, debit: str, credit: str,
                           amount_paise: int) -> TransferResult: ...   # posted | refused
        async def pending(self, transfer_id: str, debit: str, credit: str, amount_paise: int,
                          timeout_s: int) -> TransferResult: ...      # pending | refused
        async def post_pending(self, transfer_id: str, pending_id: str,
                               amount_paise: int) -> TransferResult: ...   # posted | refused
        async def void_pending(self, transfer_id: str,
                               pending_id: str) -> TransferResult: ...     # voided | refused
        async def lookup(self, transfer_id: str) -> TransferResult | None: ...
        async def balances(self) -> dict[str, AccountBalance]: ...

* ``store``: :class:`~razorlab.labs.store.Store` — the only thing that survives a crash. Its
  single-key calls answer after a simulated round trip (:class:`RoundTripStore`), so other
  requests run between a read and the write that depends on it. ``store.clock.now()`` is the
  database's clock (epoch seconds), the one that times pending transfers out.
* ``accounts``: account name -> the lowest balance it may reach, in paise (``0``: no
  overdraft; ``-50_000``: ₹500 of overdraft; ``None``: no limit — the operator's cash account
  that funds the others). Every account starts with no debits and no credits.
* ``TransferResult(transfer_id, status, reason)``: ``posted``/``pending``/``voided`` or
  ``refused`` (an unknown account, the same account on both sides, a debit that would take the
  account below its limit; a post or void of a pending that does not exist, is already
  resolved or has expired; a post of more than was reserved). A pending transfer's own record
  stays ``pending`` after it is resolved: the post or void is a transfer of its own.
* ``AccountBalance(debits_paise, credits_paise, debits_pending_paise, credits_pending_paise)``:
  posted totals and reserved (pending) totals; the balance is ``credits - debits`` and the limit
  applies to ``credits - debits - debits_pending``.

Design note (TigerBeetle's transfer semantics, from its documentation's "Transfers",
"Two-phase transfers" and "create_transfers" pages): an account keeps posted and pending
debits and credits; a transfer is an immutable record applied once per id;
``debits_must_not_exceed_credits`` becomes a per-account floor that pending debits count
against; a post names its pending by ``pending_id`` and may capture less than the pending
amount, never more (``exceeds_pending_transfer_amount``); a pending is posted, voided or expires
once (``pending_transfer_already_posted`` / ``_already_voided`` / ``_expired``); its timeout is
measured by the cluster's clock, not the client's. As TigerBeetle does since 0.16 for transient
failures such as ``exceeds_credits``, a refused id stays refused. We simplify to one currency, no
linked chains, a balance floor instead of flags, a timeout always set (TigerBeetle's ``0`` means
none), a post always naming its amount, and a ``transfer_id`` of its own for every post or void
(TigerBeetle's ``exists`` answer for a retried id is our first answer again). The checker judges
what clients were told and what a fresh instance reports at the end, never the learner's storage
layout; there is no restart hook, because a correct ledger has nothing to resume.

Clock jumps: in some runs the database's clock steps 5–20 s forwards or backwards (an NTP step;
:mod:`~razorlab.labs.harness`). Money must not depend on it: a pending that has expired once
stays expired (an expiry is a state change written to the store, not a comparison redone at
every read), so a backward step cannot revive a reservation whose money was spent. Expiry itself
is judged by the service's clock, with the backward steps' total as slack.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from razorlab.labs.harness import SimClock, World
from razorlab.labs.history import inr
from razorlab.labs.plan import Fault, Op, Plan, maybe_clock_jump
from razorlab.labs.process import Process
from razorlab.labs.store import DurableStore, Store
from razorlab.rand import py_random

__all__ = [
    "ACCOUNTS",
    "LEDGER_LAB",
    "AccountBalance",
    "LedgerFinal",
    "LedgerLab",
    "LedgerWorld",
    "RoundTripWorld",
    "RoundTripStore",
    "TransferResult",
    "generate",
    "signed_inr",
]

#: The chart of accounts of every run: name -> lowest balance allowed (paise; None: no limit).
ACCOUNTS: Mapping[str, int | None] = {"cash": None, "a": 0, "b": 0, "c": -50_000}
AMOUNTS_PAISE = (20_000, 30_000, 40_000, 60_000)  # ₹200 … ₹600: two spends exceed a limit
PAYER_WEIGHTS = (25, 10, 10, 55)  # cash, a, b, c: c (the overdraft) is the contended payer
STORE_MS = (2, 10)  # one store call's round trip, milliseconds of virtual time
TIMEOUT_S = (10, 20)  # a pending transfer's timeout: well inside the harness's final settle
QUICK_MS = (200, 3_000)  # a merchant who captures promptly waits this long, milliseconds
SLOW_MS = (25_000, 35_000)  # one who comes back after the pending's timeout, milliseconds
TWO_PHASE_ODDS = (0.7, 0.3)  # a run's first and second pending → post/void session
CLOCK_JUMP_ODDS = 0.3  # runs whose database clock steps (see harness: clock jumps)
METHODS = ("transfer", "pending", "post_pending", "void_pending", "lookup", "balances")
ANSWERS = {
    "transfer": ("posted", "refused"),
    "pending": ("pending", "refused"),
    "post_pending": ("posted", "refused"),
    "void_pending": ("voided", "refused"),
}


def signed_inr(paise: int) -> str:
    """``-65000`` -> ``'−₹650.00'``: a balance may be negative (an overdraft, ``cash``)."""
    return ("−" if paise < 0 else "") + inr(abs(paise))


@dataclass(frozen=True)
class TransferResult:
    """What the ledger answers for a transfer id: ``posted`` or ``refused``, and why."""

    transfer_id: str
    status: str
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.status} {self.transfer_id}" + (f": {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class AccountBalance:
    """An account's posted and pending (reserved) totals, TigerBeetle's four counters.

    Its balance is ``credits_paise - debits_paise``; its limit applies to
    :attr:`available_paise`, which also takes off what pending debits reserve.
    """

    debits_paise: int
    credits_paise: int
    debits_pending_paise: int = 0
    credits_pending_paise: int = 0

    @property
    def balance_paise(self) -> int:
        return self.credits_paise - self.debits_paise

    @property
    def available_paise(self) -> int:
        return self.balance_paise - self.debits_pending_paise


@dataclass(frozen=True)
class LedgerFinal:
    """Judged after the final crash, settle and restart, from a fresh instance.

    ``balances``: its ``balances()``; ``transfers``: its ``lookup`` of every id the clients
    used; ``asked``: id -> the arguments the clients sent (``(debit, credit, amount_paise)``
    for a transfer, then ``timeout_s`` for a pending, ``(pending_id, amount_paise)`` for a
    post, ``(pending_id,)`` for a void); ``methods``: id -> its method, ``transfer`` if absent.
    """

    balances: Mapping[str, AccountBalance]
    transfers: Mapping[str, TransferResult | None]
    asked: Mapping[str, tuple[Any, ...]]
    methods: Mapping[str, str] = field(default_factory=dict)

    def method(self, key: str) -> str:
        return self.methods.get(key, "transfer")


def generate(seed: int, run: int) -> Plan:
    """Run ``run`` of a check seeded with ``seed``: 2–3 clients with 1–3 transfers each over
    four accounts — a quarter funding from ``cash``, half spending ``c``'s overdraft, so clients
    collide on ``c`` — plus duplicates, lost replies and crashes; then, from a stream of their
    own (so the single-phase part is unchanged), two-phase sessions and a clock jump."""
    r = py_random(seed, f"labs/ledger/plan/{run}")
    ops: list[Op] = []
    customers = [name for name, floor in ACCOUNTS.items() if floor is not None]

    def add(client: int, method: str, args: tuple[object, ...], replays: int = 0) -> Op:
        ops.append(Op(len(ops) + 1, client, method, f"k{len(ops) + 1}", args, replays))
        return ops[-1]

    def parties(r: random.Random) -> tuple[str, str]:
        debit = r.choices(("cash", *customers), PAYER_WEIGHTS)[0]
        return debit, r.choice([n for n in customers if n != debit])

    clients = range(1, r.randint(2, 3) + 1)
    for client in clients:
        for _ in range(r.randint(1, 3)):
            debit, credit = parties(r)
            replays = 1 if r.random() < 0.15 else 0
            add(client, "transfer", (debit, credit, r.choice(AMOUNTS_PAISE)), replays)
    faults = _network_faults(r, ops)
    for odds in (0.5, 0.2):
        if r.random() < odds:
            faults.append(Fault("crash", r.randint(1, 8 * len(ops))))
    plan_seed = r.randrange(2**32)
    r = py_random(seed, f"labs/ledger/two-phase/{run}")
    first_two_phase = len(ops)
    for odds in TWO_PHASE_ODDS:
        if r.random() < odds:
            pay = (*parties(r), r.choice(AMOUNTS_PAISE))
            _two_phase_session(r, add, pay, r.choice(clients), len(clients))
    faults += _network_faults(r, ops[first_two_phase:])
    faults += maybe_clock_jump(r, CLOCK_JUMP_ODDS, 60_000)
    return Plan(plan_seed, tuple(ops), tuple(faults))


def _network_faults(r: random.Random, ops: list[Op]) -> list[Fault]:
    """Duplicated deliveries and lost replies of the first two attempts of ``ops``."""
    faults: list[Fault] = []
    for op in ops:
        for attempt in (0, 1) if op.method != "wait" else ():
            if r.random() < 0.12:
                faults.append(Fault("duplicate", op.id, attempt))
            if r.random() < 0.12:
                faults.append(Fault("lose_reply", op.id, attempt))
    return faults


def _two_phase_session(
    r: random.Random, add: Callable[..., Op], pay: tuple[str, str, int], client: int, clients: int
) -> None:
    """``client`` reserves, thinks (sometimes past the timeout), then posts all, part or too
    much of it, or voids it; now and then another of the ``clients`` resolves it too."""
    reserved = add(client, "pending", (*pay, r.randint(*TIMEOUT_S)), 1 if r.random() < 0.1 else 0)
    low, high = SLOW_MS if r.random() < 0.3 else QUICK_MS
    add(client, "wait", (r.randint(low, high),))
    others = [c for c in range(1, clients + 1) if c != client]
    resolvers = [client] + ([r.choice(others)] if r.random() < 0.3 else [])
    for who in resolvers:
        if r.random() < 0.25:
            add(who, "void_pending", (reserved.key,), 1 if r.random() < 0.1 else 0)
        else:
            share = r.choice((1.0, 1.0, 0.5, 1.5))  # full, full, part, more than reserved
            amount = int(pay[2] * share)
            add(who, "post_pending", (reserved.key, amount), 1 if r.random() < 0.1 else 0)


class LedgerService:
    """The learner's instance as the harness sees it: nothing to reconcile after a restart."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def reconcile(self) -> None:
        return None


class RoundTripStore(Store):
    """The lab's store, where the answer to every single-key call takes virtual time to return.

    The shared store answers in zero virtual time, so two requests interleave only when they
    arrive in the same instant. A ledger's classic bug — read a balance, decide, write it back —
    needs the gap a real database's round trip gives: the value is read (or written) when the
    call reaches the database, and the caller learns it a little later, while others go on.
    A transaction's reads and writes stay instant: it holds the write lock throughout anyway.
    ``clock`` is the database's clock: TigerBeetle times a pending transfer out by the
    cluster's time, never the client's.
    """

    def __init__(
        self, disk: DurableStore, process: Process, latency: Callable[[], float], clock: SimClock
    ) -> None:
        super().__init__(disk, process)
        self._latency = latency
        self.clock = clock

    async def _reply(self, value: Any) -> Any:
        await asyncio.sleep(self._latency())
        self._process.ensure_alive()
        return value

    async def get(self, key: str) -> Any | None:
        return await self._reply(await super().get(key))

    async def scan(self, prefix: str = "") -> list[tuple[str, Any]]:
        return await self._reply(await super().scan(prefix))

    async def put(self, key: str, value: Any) -> None:
        await self._reply(await super().put(key, value))

    async def put_if_absent(self, key: str, value: Any) -> bool:
        return await self._reply(await super().put_if_absent(key, value))

    async def compare_and_set(self, key: str, expected: Any, new: Any) -> bool:
        return await self._reply(await super().compare_and_set(key, expected, new))


class RoundTripWorld(World):
    """The shared harness building the service as ``Impl(store, *lab_args)`` over a
    :class:`RoundTripStore` whose latencies come from the plan's seed (``store_salt``)."""

    store_salt = "labs/ledger/store"

    def lab_args(self) -> tuple[tuple[Any, ...], str]:
        """What the learner's constructor gets after the store, and how to name it."""
        raise NotImplementedError

    def __post_init__(self) -> None:
        super().__post_init__()
        self.store_net = py_random(self.plan.seed, self.store_salt)

    def start(self) -> Process | None:
        process = Process(len(self.processes) + 1, self._on_effect)
        self.processes.append(process)
        ctx = self._context(process)
        latency = lambda: self.store_net.randint(*STORE_MS) / 1000  # noqa: E731
        store = RoundTripStore(self.disk, process, latency, self.clock)
        args, signature = self.lab_args()
        try:
            inner = ctx.run(self.impl, store, *args)
        except Exception as exc:  # the learner's constructor
            self._raised(f"{getattr(self.impl, '__name__', 'service')}({signature})", exc)
            return None
        self.services[process.number] = LedgerService(inner)
        self.process = process
        return process


class LedgerWorld(RoundTripWorld):
    """The shared harness with three changes: the service is built as ``Impl(store, accounts)``,
    over a :class:`RoundTripStore` whose latencies come from the plan's seed; and a ``wait``
    operation is a client thinking before it resolves its pending (virtual time passes)."""

    def lab_args(self) -> tuple[tuple[Any, ...], str]:
        return (dict(ACCOUNTS),), "store, accounts"

    async def _call(self, lane: str, op: Op, attempt: int) -> str:
        if op.method != "wait":
            return await super()._call(lane, op, attempt)
        (ms,) = op.args
        self.recorder.record(lane, "wait", f"waits {ms / 1000:g} s before resolving its pending",
                             op=op.id)  # fmt: skip
        await asyncio.sleep(ms / 1000)  # type: ignore[operator]
        return "ok"


class LedgerLab:
    """The harness's view of the ledger lab (see :class:`~razorlab.labs.harness.LabSpec`)."""

    name = "ledger"
    methods = METHODS
    constructor = ("store", "accounts")
    world = LedgerWorld
    generate = staticmethod(generate)

    def call(self, service: Any, op: Op) -> Awaitable[Any]:
        return getattr(service.inner, op.method)(op.key, *op.args)

    def check_result(self, op: Op, result: Any) -> str | None:
        if not isinstance(result, TransferResult):
            return f"must return a TransferResult, got {type(result).__name__} {result!r}"
        allowed = ANSWERS[op.method]
        if result.status not in allowed:
            return f"{op.method} must answer one of {allowed}, got {result.status!r}"
        if result.transfer_id != op.key:
            return f"answered for transfer {result.transfer_id!r}, asked about {op.key!r}"
        return None

    def describe_op(self, op: Op) -> str:
        if op.method == "post_pending":
            pending_id, amount = op.args
            return f"post {op.key} of pending {pending_id}: {inr(amount)}"  # type: ignore[arg-type]
        if op.method == "void_pending":
            return f"void {op.key} of pending {op.args[0]}"
        debit, credit, amount, *timeout = op.args
        shown = f"{op.method} {op.key}: {debit} → {credit} {inr(amount)}"  # type: ignore[arg-type]
        return shown + "".join(f", timeout {t} s" for t in timeout)

    def describe_result(self, result: Any) -> str:
        return str(result)

    async def read_back(self, world: World, service: Any) -> LedgerFinal:
        process = world.process
        assert process is not None
        ledger = service.inner
        transfers: dict[str, TransferResult | None] = {}
        ops = [op for op in world.plan.ops if op.method != "wait"]
        for op in ops:
            label = f"lookup({op.key}) after the final restart"
            got = await world.guarded(process, label, lambda k=op.key: ledger.lookup(k))
            if got is not None and not isinstance(got, TransferResult):
                world.fail_interface(label, f"must return a TransferResult or None, got {got!r}")
            transfers[op.key] = got
        label = "balances() after the final restart"
        balances = await world.guarded(process, label, ledger.balances)
        if not isinstance(balances, Mapping) or not all(
            isinstance(v, AccountBalance) for v in balances.values()
        ):
            world.fail_interface(label, f"must return a dict of account -> AccountBalance, "
                                        f"got {balances!r}")  # fmt: skip
            balances = {}
        shown = ", ".join(f"{k} {signed_inr(v.balance_paise)}"
                          + (f" ({signed_inr(v.debits_pending_paise)} reserved)"
                             if v.debits_pending_paise else "")
                          for k, v in sorted(balances.items()))  # fmt: skip
        world.recorder.record("harness", "final", f"final crash, settle, restart: balances "
                                                  f"{shown or 'none'}")  # fmt: skip
        asked = {op.key: op.args for op in ops}
        methods = {op.key: op.method for op in ops}
        return LedgerFinal(dict(balances), transfers, asked, methods)


LEDGER_LAB = LedgerLab()
