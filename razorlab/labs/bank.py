"""The simulated bank (PSP) a payments lab talks to: slow, down, or "pending", all by seed.

Scenario: the service sends "charge ₹499 for pay_k1". The bank may answer in 20 ms; may
take 12 s (the service's client gives up at 5 s, the charge still goes through); may
lose its answer after charging; may say *pending* (UPI's deemed state: the money's fate is
known minutes later); may decline; or may be down and refuse the connection. A service
that survives all of these must never charge twice and must find out, afterwards, what
happened to every charge it sent.

What the learner gets (:class:`BankClient`, bound to one process incarnation):

* ``await charge(reference, amount_paise) -> BankAnswer`` with ``outcome`` ``"success"``,
  ``"declined"`` or ``"pending"``. Raises :class:`BankUnavailable` when the bank refused
  the connection (nothing was charged) and :class:`BankTimeout` when no answer came within
  :data:`BANK_TIMEOUT_S` (the charge may or may not have happened).
* ``await status(reference) -> str``: ``"success"``, ``"declined"``, ``"pending"`` or
  ``"not_found"`` for the charges sent with that reference (the latest one wins). May
  raise :class:`BankUnavailable`.

Design note. The bank does **not** deduplicate by reference — many card and bank rails do
not, which is why the merchant's idempotency matters. It applies or drops every charge
within :data:`BANK_MAX_LATENCY_S` of the send, so "``not_found`` that long after sending"
is a safe "never charged". Each charge is attributed to the idempotency key of the client
request being served when it was sent (a context variable the harness sets), which is
how the checker counts charges per key without trusting the learner's references.
Invariants: the bank's books are the ground truth about money; pending charges resolve by
themselves within :data:`PENDING_RESOLVE_S`; latencies come from the run's seeded RNG.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
from collections.abc import Mapping
from dataclasses import dataclass

from razorlab.labs.history import Recorder, inr
from razorlab.labs.process import Process

__all__ = [
    "BankAnswer",
    "BankCharge",
    "BankClient",
    "BankError",
    "BankTimeout",
    "BankUnavailable",
    "SimBank",
    "BANK_TIMEOUT_S",
    "BANK_MAX_LATENCY_S",
    "PENDING_RESOLVE_S",
    "CURRENT_KEY",
]

BANK_TIMEOUT_S = 5.0  # seconds the bank client waits for an answer
BANK_MAX_LATENCY_S = 30.0  # the bank applies or drops every charge within this many seconds
PENDING_RESOLVE_S = 20.0  # a pending charge becomes success/declined within this many seconds
FAST_MS = (5, 60)  # a healthy bank's latency range, milliseconds
SLOW_MS = (6_000, 15_000)  # a slow bank's latency range: beyond BANK_TIMEOUT_S

#: The idempotency key of the client request a task is serving (set by the harness).
CURRENT_KEY: contextvars.ContextVar[str | None] = contextvars.ContextVar("labs_key", default=None)


class BankError(Exception):
    """Base of the bank client's errors."""


class BankUnavailable(BankError):
    """The bank refused the connection: nothing was charged."""


class BankTimeout(BankError):
    """No answer within ``BANK_TIMEOUT_S``: the charge may or may not have happened."""


@dataclass(frozen=True)
class BankAnswer:
    """The bank's reply to a charge: ``outcome`` is success, declined or pending."""

    outcome: str
    reference: str
    charge_id: str


@dataclass
class BankCharge:
    """One row of the bank's books (what really happened to money)."""

    id: str
    reference: str
    amount_paise: int
    key: str | None
    state: str = "in_flight"  # in_flight -> success | declined | pending -> success | declined


class SimBank:
    """The bank's side: its books, its faults, its latencies.

    ``faults`` maps the n-th charge request (0-based) to ``slow``, ``lost`` (charged, answer
    lost), ``pending`` or ``decline``; ``down`` lists ``(start_s, end_s)`` outage windows.
    """

    def __init__(
        self,
        recorder: Recorder,
        rng: random.Random,
        *,
        faults: Mapping[int, str] | None = None,
        down: tuple[tuple[float, float], ...] = (),
    ) -> None:
        self.recorder = recorder
        self.rng = rng
        self.faults = dict(faults or {})
        self.down = down
        self.healthy = False  # the harness sets it for the final reconciliation
        self.charges: list[BankCharge] = []

    def is_down(self) -> bool:
        now = asyncio.get_running_loop().time()
        return not self.healthy and any(a <= now < b for a, b in self.down)

    def _latency(self, slow: bool = False) -> float:
        low, high = SLOW_MS if slow else FAST_MS
        return self.rng.randint(low, high) / 1000

    def client(self, process: Process) -> BankClient:
        return BankClient(self, process)

    def status_of(self, reference: str) -> str:
        found = [c for c in self.charges if c.reference == reference and c.state != "in_flight"]
        return found[-1].state if found else "not_found"

    def _apply(
        self, charge: BankCharge, fault: str | None, answer: asyncio.Future[BankAnswer]
    ) -> None:
        loop = asyncio.get_running_loop()
        if fault == "decline":
            charge.state = "declined"
        elif fault == "pending":
            charge.state = "pending"
            final = "success" if self.rng.random() < 0.5 else "declined"
            later = self.rng.randint(1_000, int(PENDING_RESOLVE_S * 1000)) / 1000
            loop.call_later(later, self._resolve, charge, final)
        else:
            charge.state = "success"
        lost = fault == "lost"
        self.recorder.record(
            "bank", "bank_apply",
            f"{charge.id}: {charge.reference} {inr(charge.amount_paise)} → {charge.state}"
            + ("  (answer lost)" if lost else ""),
            key=charge.key, to=None if lost else "service", charge=charge.id, state=charge.state,
        )  # fmt: skip
        if not lost and not answer.done():
            answer.set_result(BankAnswer(charge.state, charge.reference, charge.id))

    def _resolve(self, charge: BankCharge, final: str) -> None:
        charge.state = final
        self.recorder.record(
            "bank", "bank_resolve", f"{charge.id}: pending {charge.reference} → {final}",
            key=charge.key, charge=charge.id, state=final,
        )  # fmt: skip


class BankClient:
    """The service's connection to the bank (see the module docstring)."""

    def __init__(self, bank: SimBank, process: Process) -> None:
        self._bank = bank
        self._process = process

    async def charge(self, reference: str, amount_paise: int) -> BankAnswer:
        """Ask the bank to move ``amount_paise``; see the module docstring for the outcomes."""
        bank, process = self._bank, self._process
        process.ensure_alive()
        if isinstance(amount_paise, bool) or not isinstance(amount_paise, int) or amount_paise <= 0:
            raise ValueError(f"amount_paise must be a positive int, got {amount_paise!r}")
        await asyncio.sleep(0)
        process.ensure_alive()
        key = CURRENT_KEY.get()
        text = f"charge {reference} {inr(amount_paise)}"
        if bank.is_down():
            bank.recorder.record("service", "bank_refused", f"{text}: bank down, refused",
                                 key=key, to="bank")  # fmt: skip
            process.effect(f"bank refused {reference}")
            raise BankUnavailable("the bank refused the connection; nothing was charged")
        index = len(bank.charges)
        charge = BankCharge(f"ch{index + 1}", str(reference), amount_paise, key)
        bank.charges.append(charge)
        fault = bank.faults.get(index)
        bank.recorder.record("service", "charge", text, key=key, to="bank", charge=charge.id)
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[BankAnswer] = loop.create_future()
        loop.call_later(bank._latency(fault == "slow"), bank._apply, charge, fault, answer)
        process.effect(f"sent {charge.id} to the bank")
        try:
            return await asyncio.wait_for(answer, BANK_TIMEOUT_S)
        except asyncio.TimeoutError:
            process.ensure_alive()
            bank.recorder.record("service", "bank_timeout",
                                 f"no answer for {charge.id} within {BANK_TIMEOUT_S:g}s", key=key)  # fmt: skip
            raise BankTimeout(f"no answer from the bank within {BANK_TIMEOUT_S:g}s") from None
        finally:
            if process.alive:
                process.effect(f"bank answer for {charge.id}")

    async def status(self, reference: str) -> str:
        """What the bank's books say about ``reference`` (see the module docstring)."""
        bank, process = self._bank, self._process
        process.ensure_alive()
        await asyncio.sleep(bank._latency())
        process.ensure_alive()
        if bank.is_down():
            process.effect(f"bank refused status {reference}")
            raise BankUnavailable("the bank refused the connection")
        state = bank.status_of(str(reference))
        bank.recorder.record("service", "bank_status", f"status {reference} → {state}",
                             key=CURRENT_KEY.get(), to="bank", state=state)  # fmt: skip
        process.effect(f"status {reference}")
        return state
