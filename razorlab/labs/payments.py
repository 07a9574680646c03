"""Lab 1, idempotent payments: the interface the learner implements and the workload it faces.

Scenario: a merchant's checkout calls ``create_payment(key, amount_paise)``. The network
loses replies, so the merchant retries with the same idempotency key; requests arrive
twice; the service crashes mid-payment; the bank is slow, down or says "pending". A
correct service charges each key at most once, answers every retry with the same
payment, never forgets an acknowledged outcome, and — after a crash — finds out from the
bank what happened to every charge it had sent.

**The interface** (any class with this shape; the harness builds a fresh instance after
every crash, so nothing in ``self`` survives one)::

    class MyPayments:
        def __init__(self, store, bank, clock): ...
        async def create_payment(self, key: str, amount_paise: int) -> PaymentResult: ...
        async def get_payment(self, key: str) -> PaymentResult | None: ...
        async def reconcile(self) -> None: ...

* ``store``: :class:`~razorlab.labs.store.Store` — the only thing that survives a crash.
* ``bank``: :class:`~razorlab.labs.bank.BankClient` — ``charge(reference, amount_paise)``
  and ``status(reference)``; it does not deduplicate.
* ``clock``: ``now()`` (epoch seconds, simulated) and ``await sleep(s)``. Never read the
  wall clock or ``time.sleep``: the harness would report it.
* ``PaymentResult(payment_id, status, amount_paise)`` with status ``captured``,
  ``declined`` or ``pending`` (outcome not known yet; a later answer may be final).
* Raise :class:`~razorlab.labs.harness.TryAgain` for "not now" (the client retries).
* ``reconcile()`` is called after every restart and once at the end with a healthy bank:
  resolve every payment whose outcome you do not know yet.

Design note: the checker judges only what clients were told and what the bank's books
say, never the learner's storage layout, so any correct design passes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from razorlab.labs.bank import BankCharge
from razorlab.labs.harness import World
from razorlab.labs.history import inr
from razorlab.labs.plan import Fault, Op, Plan
from razorlab.rand import py_random

__all__ = [
    "PaymentResult",
    "PaymentsFinal",
    "PaymentsLab",
    "PAYMENTS",
    "STATUSES",
    "generate",
]

STATUSES = ("captured", "declined", "pending")
AMOUNTS_PAISE = (99, 2_500, 49_900, 1_00_000, 12_34_500)  # ₹0.99 … ₹12,345.00
METHODS = ("create_payment", "get_payment", "reconcile")


@dataclass(frozen=True)
class PaymentResult:
    """What the service answers: the payment's id, its status and its amount in paise."""

    payment_id: str
    status: str
    amount_paise: int

    def __str__(self) -> str:
        return f"{self.status} {self.payment_id} {inr(self.amount_paise)}"


@dataclass(frozen=True)
class PaymentsFinal:
    """The state judged after the final crash, settle, restart and reconcile.

    ``payments``: what a fresh instance's ``get_payment`` says per key; ``charges``: the
    bank's books (the truth about money).
    """

    payments: Mapping[str, PaymentResult | None]
    charges: tuple[BankCharge, ...]


def generate(seed: int, run: int) -> Plan:
    """The plan of run ``run`` of a check seeded with ``seed``: 1–3 clients, 1–2 payments each,
    and faults drawn with fixed odds (duplicates, lost replies, crashes, bank trouble)."""
    r = py_random(seed, f"labs/payments/plan/{run}")
    ops: list[Op] = []
    for client in range(1, r.randint(1, 3) + 1):
        for _ in range(r.randint(1, 2)):
            n = len(ops) + 1
            replays = 1 if r.random() < 0.25 else 0
            ops.append(
                Op(n, client, "create_payment", f"k{n}", (r.choice(AMOUNTS_PAISE),), replays)
            )
    faults: list[Fault] = []
    for op in ops:
        for attempt in (0, 1):
            if r.random() < 0.15:
                faults.append(Fault("duplicate", op.id, attempt))
            if r.random() < 0.15:
                faults.append(Fault("lose_reply", op.id, attempt))
    for odds in (0.5, 0.2):
        if r.random() < odds:
            faults.append(Fault("crash", r.randint(1, 8 * len(ops))))
    for charge in range(2 * len(ops)):
        kind = r.choices(("slow", "lost", "pending", "decline", None), (8, 8, 10, 10, 64))[0]
        if kind:
            faults.append(Fault(f"bank_{kind}", charge))
    if r.random() < 0.15:
        start = r.randint(0, 3_000)
        faults.append(Fault("bank_down", start, start + r.randint(500, 15_000)))
    return Plan(r.randrange(2**32), tuple(ops), tuple(faults))


class PaymentsLab:
    """The harness's view of the payments lab (see :class:`~razorlab.labs.harness.LabSpec`)."""

    name = "payments"
    methods = METHODS
    generate = staticmethod(generate)

    def call(self, service: Any, op: Op) -> Awaitable[Any]:
        return getattr(service, op.method)(op.key, *op.args)

    def check_result(self, op: Op, result: Any) -> str | None:
        if not isinstance(result, PaymentResult):
            return f"must return a PaymentResult, got {type(result).__name__} {result!r}"
        if result.status not in STATUSES:
            return f"status must be one of {STATUSES}, got {result.status!r}"
        if isinstance(result.amount_paise, bool) or not isinstance(result.amount_paise, int):
            return f"amount_paise must be an int, got {result.amount_paise!r}"
        return None

    def describe_op(self, op: Op) -> str:
        (amount,) = op.args
        return f"create_payment({op.key}, {inr(amount)})"  # type: ignore[arg-type]

    def describe_result(self, result: Any) -> str:
        return str(result)

    async def read_back(self, world: World, service: Any) -> PaymentsFinal:
        process = world.process
        assert process is not None
        payments: dict[str, PaymentResult | None] = {}
        for key in sorted({op.key for op in world.plan.ops}, key=lambda k: int(k[1:])):
            label = f"get_payment({key}) after the final restart"
            got = await world.guarded(process, label, lambda k=key: service.get_payment(k))
            if got is not None and not isinstance(got, PaymentResult):
                world.fail_interface(label, f"must return a PaymentResult or None, got {got!r}")
            payments[key] = got
        shown = "; ".join(f"{k} → {v if v else 'no record'}" for k, v in payments.items())
        world.recorder.record(
            "harness", "final", f"final crash, settle, restart, reconcile: {shown}"
        )
        charges = tuple(BankCharge(c.id, c.reference, c.amount_paise, c.key, c.state)
                        for c in world.bank.charges)  # fmt: skip
        return PaymentsFinal(payments, charges)


PAYMENTS = PaymentsLab()
