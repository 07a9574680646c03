"""The payment port of the ticketing engine, and a seeded simulated gateway behind it.

Booking needs only two things from payments: charge an amount once per hold (the hold's
token makes the idempotency key, so a retried charge cannot take the money twice) and refund
a charge. Keeping that behind a small ``Protocol`` lets the booking engine and its tests run
without a payments service; an adapter over ``razorlab.payments`` can implement the same two
methods later (create an order per hold, capture → success, failure → failure, refund →
refund of the captured payment).

The simulated gateway answers after a random latency on the injected clock. Most answers
take seconds; a few are *slow* (minutes, past the hold's TTL) — the case where the money
arrives after the seats were given up and must go back: Razorpay refunds only captured
payments, in full or in parts (``/work/shared/references.md``, "Payments").
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from razorlab.clock import Clock
from razorlab.errors import ConflictError, ValidationError
from razorlab.money import Money
from razorlab.rand import py_random

__all__ = [
    "PaymentPort",
    "PaymentResult",
    "SimulatedPayments",
    "AlreadyRefunded",
    "PAYMENT_FAILURE_RATE",
    "SLOW_PAYMENT_RATE",
    "MEAN_PAYMENT_LATENCY_S",
    "SLOW_PAYMENT_LATENCY_S",
]

PAYMENT_FAILURE_RATE = 0.10  # share of charges declined (wrong PIN, insufficient funds, ...)
SLOW_PAYMENT_RATE = 0.02  # share of charges that answer only after SLOW_PAYMENT_LATENCY_S
MEAN_PAYMENT_LATENCY_S = 20.0  # seconds, mean of an exponential latency for normal answers
SLOW_PAYMENT_LATENCY_S = 900.0  # seconds: 15 min, past a 10-minute hold


@dataclass(frozen=True)
class PaymentResult:
    succeeded: bool
    payment_id: str | None  # set when succeeded
    reason: str | None = None  # why it failed


class AlreadyRefunded(ConflictError):
    """The payment was refunded before: a repeated refund changes nothing."""

    code = "ALREADY_REFUNDED"


class PaymentPort(Protocol):
    """What the booking engine needs from a payments service."""

    async def charge(self, idempotency_key: str, amount: Money) -> PaymentResult:
        """Charge once per key: a retry, even while the first is in flight, gets its answer."""

    async def refund(self, payment_id: str, amount: Money) -> None:
        """Refund a captured payment; ``AlreadyRefunded`` if it was refunded before."""

    async def lookup(self, idempotency_key: str) -> PaymentResult | None:
        """The answer to the charge with this key, or None if the gateway has none (yet).

        How a reconciler learns what happened to a charge whose caller died: Razorpay lets
        a merchant fetch the payments made against an order.
        """


@dataclass
class SimulatedPayments:
    """A seeded gateway on a clock; it records charges and refunds for audits."""

    seed: int
    clock: Clock
    failure_rate: float = PAYMENT_FAILURE_RATE
    slow_rate: float = SLOW_PAYMENT_RATE
    mean_latency_s: float = MEAN_PAYMENT_LATENCY_S
    charges: dict[str, PaymentResult] = field(default_factory=dict)  # by idempotency key
    captured: dict[str, Money] = field(default_factory=dict)  # payment id -> amount
    refunds: dict[str, Money] = field(default_factory=dict)  # payment id -> amount refunded

    def __post_init__(self) -> None:
        for name in ("failure_rate", "slow_rate"):
            rate = getattr(self, name)
            if not 0 <= rate <= 1:
                raise ValidationError(f"{name} must be within [0, 1], got {rate}", field=name)
        self._random = py_random(self.seed, "booking-payments")
        self._in_flight: dict[str, asyncio.Future[PaymentResult]] = {}

    async def charge(self, idempotency_key: str, amount: Money) -> PaymentResult:
        if idempotency_key in self.charges:  # a retry replays the first answer
            return self.charges[idempotency_key]
        if idempotency_key in self._in_flight:  # a retry while the first is still running
            return await asyncio.shield(self._in_flight[idempotency_key])
        first = asyncio.get_running_loop().create_future()
        self._in_flight[idempotency_key] = first
        try:
            result = await self._charge(idempotency_key, amount)
        except Exception as exc:
            first.set_exception(exc)
            first.exception()  # retrieved: a charge nobody retried must not log a warning
            raise
        except BaseException:
            first.cancel()
            raise
        finally:
            del self._in_flight[idempotency_key]
        first.set_result(result)
        return result

    async def lookup(self, idempotency_key: str) -> PaymentResult | None:
        return self.charges.get(idempotency_key)

    async def _charge(self, idempotency_key: str, amount: Money) -> PaymentResult:
        slow = self._random.random() < self.slow_rate
        fails = self._random.random() < self.failure_rate
        latency = self._random.expovariate(1 / self.mean_latency_s)
        await self.clock.sleep(SLOW_PAYMENT_LATENCY_S if slow else latency)
        if fails:
            result = PaymentResult(False, None, "declined by the issuing bank")
        else:
            result = PaymentResult(True, f"pay_{len(self.captured) + 1:07d}")
            self.captured[result.payment_id] = amount
        self.charges[idempotency_key] = result
        return result

    async def refund(self, payment_id: str, amount: Money) -> None:
        if payment_id not in self.captured:
            raise ConflictError(f"{payment_id} was not captured", field="payment_id")
        if payment_id in self.refunds:
            raise AlreadyRefunded(f"{payment_id} is refunded already", field="payment_id")
        self.refunds[payment_id] = amount
