"""Lab 3, a double-entry ledger: the interface the learner implements and the workload it faces.

Scenario: a wallet service moves money between accounts. Every transfer debits one account and
credits another by the same amount, under an id the client chose. Clients retry with the same
id when a reply is lost, the network delivers a request twice, two clients spend from one
account at the same moment, and the service crashes at any store call and restarts from its
store. A correct ledger applies each id at most once, never creates or destroys money, never
lets an account below its limit, never forgets an acknowledged transfer, and answers a retried
id with its first answer — a refusal included.

**The interface** (any class with this shape; a fresh instance is built after every crash, so
nothing in ``self`` survives one)::

    class MyLedger:
        def __init__(self, store, accounts): ...
        async def transfer(self, transfer_id: str, debit: str, credit: str,
                           amount_paise: int) -> TransferResult: ...   # posted | refused
        async def lookup(self, transfer_id: str) -> TransferResult | None: ...
        async def balances(self) -> dict[str, AccountBalance]: ...

* ``store``: :class:`~razorlab.labs.store.Store` — the only thing that survives a crash. Its
  single-key calls answer after a simulated round trip (:class:`RoundTripStore`), so other
  requests run between a read and the write that depends on it.
* ``accounts``: account name -> the lowest balance it may reach, in paise (``0``: no
  overdraft; ``-50_000``: ₹500 of overdraft; ``None``: no limit — the operator's cash account
  that funds the others). Every account starts with no debits and no credits.
* ``TransferResult(transfer_id, status, reason)``: ``posted`` or ``refused`` (an unknown
  account, the same account on both sides, or a debit that would take the account below its
  limit).
* ``AccountBalance(debits_paise, credits_paise)``: posted totals; the balance is
  ``credits - debits``.

Design note (TigerBeetle's transfer semantics, docs.tigerbeetle.com, "Transfers" and
"create_transfers"): an account keeps posted debits and credits, a transfer is an immutable
record applied once per id, ``debits_must_not_exceed_credits`` becomes a per-account floor,
and — as TigerBeetle does since 0.16 for transient failures such as ``exceeds_credits`` — a
refused id stays refused: a retry gets the refusal back rather than a second chance. We
simplify to single-phase transfers in one currency (no pending/post/void, no linked chains)
and to a balance floor instead of flags. The checker judges what clients were told and what
a fresh instance reports at the end, never the learner's storage layout; there is no restart
hook, because a correct ledger has nothing to resume.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from razorlab.labs.harness import World
from razorlab.labs.history import inr
from razorlab.labs.plan import Fault, Op, Plan
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
METHODS = ("transfer", "lookup", "balances")
STATUSES = ("posted", "refused")


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
    """An account's posted totals; its balance is ``credits_paise - debits_paise``."""

    debits_paise: int
    credits_paise: int

    @property
    def balance_paise(self) -> int:
        return self.credits_paise - self.debits_paise


@dataclass(frozen=True)
class LedgerFinal:
    """Judged after the final crash, settle and restart, from a fresh instance.

    ``balances``: its ``balances()``; ``transfers``: its ``lookup`` of every id the clients
    used; ``asked``: id -> ``(debit, credit, amount_paise)`` as the clients sent it.
    """

    balances: Mapping[str, AccountBalance]
    transfers: Mapping[str, TransferResult | None]
    asked: Mapping[str, tuple[str, str, int]]


def generate(seed: int, run: int) -> Plan:
    """Run ``run`` of a check seeded with ``seed``: 2–3 clients with 1–3 transfers each over
    four accounts — a quarter funding from ``cash``, half spending ``c``'s overdraft, so clients
    collide on ``c`` — plus duplicates, lost replies and crashes."""
    r = py_random(seed, f"labs/ledger/plan/{run}")
    ops: list[Op] = []
    customers = [name for name, floor in ACCOUNTS.items() if floor is not None]
    for client in range(1, r.randint(2, 3) + 1):
        for _ in range(r.randint(1, 3)):
            debit = r.choices(("cash", *customers), PAYER_WEIGHTS)[0]
            credit = r.choice([name for name in customers if name != debit])
            n = len(ops) + 1
            replays = 1 if r.random() < 0.15 else 0
            ops.append(Op(n, client, "transfer", f"k{n}",
                          (debit, credit, r.choice(AMOUNTS_PAISE)), replays))  # fmt: skip
    faults: list[Fault] = []
    for op in ops:
        for attempt in (0, 1):
            if r.random() < 0.12:
                faults.append(Fault("duplicate", op.id, attempt))
            if r.random() < 0.12:
                faults.append(Fault("lose_reply", op.id, attempt))
    for odds in (0.5, 0.2):
        if r.random() < odds:
            faults.append(Fault("crash", r.randint(1, 8 * len(ops))))
    return Plan(r.randrange(2**32), tuple(ops), tuple(faults))


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
    """

    def __init__(self, disk: DurableStore, process: Process, latency: Callable[[], float]):
        super().__init__(disk, process)
        self._latency = latency

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


class LedgerWorld(World):
    """The shared harness with two changes: the service is built as ``Impl(store, accounts)``,
    over a :class:`RoundTripStore` whose latencies come from the plan's seed."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.store_net = py_random(self.plan.seed, "labs/ledger/store")

    def start(self) -> Process | None:
        process = Process(len(self.processes) + 1, self._on_effect)
        self.processes.append(process)
        ctx = self._context(process)
        store = RoundTripStore(self.disk, process, lambda: self.store_net.randint(*STORE_MS) / 1000)
        try:
            inner = ctx.run(self.impl, store, dict(ACCOUNTS))
        except Exception as exc:  # the learner's constructor
            self._raised(f"{getattr(self.impl, '__name__', 'service')}(store, accounts)", exc)
            return None
        self.services[process.number] = LedgerService(inner)
        self.process = process
        return process


class LedgerLab:
    """The harness's view of the ledger lab (see :class:`~razorlab.labs.harness.LabSpec`)."""

    name = "ledger"
    methods = METHODS
    constructor = ("store", "accounts")
    world = LedgerWorld
    generate = staticmethod(generate)

    def call(self, service: Any, op: Op) -> Awaitable[Any]:
        return service.inner.transfer(op.key, *op.args)

    def check_result(self, op: Op, result: Any) -> str | None:
        if not isinstance(result, TransferResult):
            return f"must return a TransferResult, got {type(result).__name__} {result!r}"
        if result.status not in STATUSES:
            return f"status must be one of {STATUSES}, got {result.status!r}"
        if result.transfer_id != op.key:
            return f"answered for transfer {result.transfer_id!r}, asked about {op.key!r}"
        return None

    def describe_op(self, op: Op) -> str:
        debit, credit, amount = op.args
        return f"transfer {op.key}: {debit} → {credit} {inr(amount)}"  # type: ignore[arg-type]

    def describe_result(self, result: Any) -> str:
        return str(result)

    async def read_back(self, world: World, service: Any) -> LedgerFinal:
        process = world.process
        assert process is not None
        ledger = service.inner
        transfers: dict[str, TransferResult | None] = {}
        for op in world.plan.ops:
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
        shown = ", ".join(f"{k} {signed_inr(v.balance_paise)}" for k, v in sorted(balances.items()))
        world.recorder.record("harness", "final", f"final crash, settle, restart: balances "
                                                  f"{shown or 'none'}")  # fmt: skip
        asked = {op.key: op.args for op in world.plan.ops}
        return LedgerFinal(dict(balances), transfers, asked)  # type: ignore[arg-type]


LEDGER_LAB = LedgerLab()
