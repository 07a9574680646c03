"""Ticketing engine (BookMyShow scenario): hold seats → pay → confirm, or roll back.

The seed's design locks each seat with a plain Redis SET (so two users can both "own" a seat)
and can leave a multi-seat request half-locked. This engine instead:

1. **holds** all requested seats of one show atomically, or none (``SeatsUnavailable``), for
   ``HOLD_TTL_S`` seconds; the hold's fencing token is the only handle to it;
2. **charges** the hold's amount through a ``PaymentPort`` with the token as idempotency key,
   racing the payment against the hold's expiry on the injected clock;
3. **confirms** with the token (idempotent for the same payment) — or, if the payment failed,
   releases the seats; if the hold ran out first, frees the seats and refunds any payment
   that still succeeds, so a seat is never sold twice and money never kept for nothing;
4. **records** the payment attempt before the charge and its answer after, so that when the
   process dies in between, ``reconcile`` (``reconciler``) confirms the booking if the seats
   are still the user's and refunds it otherwise.

Expired holds free their seats lazily (the next request for a seat expires its stale
holder) and through ``run_sweeper``, so abandoned seats reappear on the seat map promptly.
The stores (``MemorySeatStore``, ``SqliteSeatStore``) share the ``SeatStore`` interface.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from razorlab.clock import Clock
from razorlab.money import Money
from razorlab.social.booking.memory_store import MemorySeatStore
from razorlab.social.booking.models import (
    HOLD_TTL_S,
    MAX_SEATS_PER_HOLD,
    AlreadyConfirmed,
    AttemptState,
    BookingError,
    Claim,
    DuplicateSeat,
    EmptySeatList,
    Hold,
    HoldExpired,
    HoldNotActive,
    HoldStatus,
    NotHolder,
    PaymentAttempt,
    PaymentRefunded,
    Screen,
    Seat,
    SeatCategory,
    SeatStore,
    SeatsUnavailable,
    Show,
    StaleToken,
    Theatre,
    TooManySeats,
    UnknownHold,
    UnknownSeat,
    UnknownShow,
    build_seat_map,
)
from razorlab.social.booking.payments import (
    AlreadyRefunded,
    PaymentPort,
    PaymentResult,
    SimulatedPayments,
)
from razorlab.social.booking.reconciler import (
    ABANDON_AFTER_S,
    ReconcileReport,
    reconcile,
    record_charge,
    refund_attempt,
)
from razorlab.social.booking.sqlite_store import SqliteSeatStore

__all__ = [
    "BookingService",
    "BookingOutcome",
    "BookingResult",
    "SWEEP_INTERVAL_S",
    "HOLD_TTL_S",
    "MAX_SEATS_PER_HOLD",
    "MemorySeatStore",
    "SqliteSeatStore",
    "SeatStore",
    "PaymentPort",
    "PaymentResult",
    "SimulatedPayments",
    "Theatre",
    "Screen",
    "Show",
    "Seat",
    "SeatCategory",
    "build_seat_map",
    "Hold",
    "HoldStatus",
    "Claim",
    "BookingError",
    "UnknownShow",
    "UnknownSeat",
    "UnknownHold",
    "EmptySeatList",
    "DuplicateSeat",
    "TooManySeats",
    "SeatsUnavailable",
    "NotHolder",
    "HoldExpired",
    "HoldNotActive",
    "StaleToken",
    "AlreadyConfirmed",
    "PaymentRefunded",
    "AlreadyRefunded",
    "AttemptState",
    "PaymentAttempt",
    "ReconcileReport",
    "ABANDON_AFTER_S",
]

SWEEP_INTERVAL_S = 30  # seconds between sweeps; an abandoned seat is back within TTL + 30 s


class BookingOutcome(str, Enum):
    CONFIRMED = "confirmed"
    SEATS_UNAVAILABLE = "seats_unavailable"  # someone else holds a requested seat
    PAYMENT_FAILED = "payment_failed"  # declined; seats released at once
    HOLD_EXPIRED = "hold_expired"  # time ran out before payment; late money refunded


@dataclass(frozen=True)
class BookingResult:
    outcome: BookingOutcome
    user_id: str
    seat_ids: tuple[str, ...]
    amount: Money | None = None
    token: int | None = None
    payment_id: str | None = None
    refunded: bool = False  # a payment that succeeded too late went back to the user
    finished_at: float | None = None


class BookingService:
    """hold → pay → confirm over any ``SeatStore`` and ``PaymentPort``, on a clock."""

    def __init__(
        self,
        store: SeatStore,
        payments: PaymentPort,
        clock: Clock,
        hold_ttl_s: float = HOLD_TTL_S,
    ):
        self.store = store
        self.payments = payments
        self.clock = clock
        self.hold_ttl_s = hold_ttl_s

    async def hold(self, show_id: str, seat_ids: Sequence[str], user_id: str) -> Hold:
        return await self.store.hold(show_id, seat_ids, user_id, self.clock.now(), self.hold_ttl_s)

    async def release(self, token: int, user_id: str) -> Hold:
        return await self.store.release(token, user_id, self.clock.now())

    async def confirm(self, token: int, user_id: str, payment_id: str) -> Hold:
        return await self.store.confirm(token, user_id, payment_id, self.clock.now())

    async def book(self, show_id: str, seat_ids: Sequence[str], user_id: str) -> BookingResult:
        """The whole flow for a user who pays at once; bad requests still raise."""
        try:
            hold = await self.hold(show_id, seat_ids, user_id)
        except SeatsUnavailable:
            return self._result(BookingOutcome.SEATS_UNAVAILABLE, user_id, tuple(seat_ids))
        return await self.pay_and_confirm(hold)

    async def pay_and_confirm(self, hold: Hold) -> BookingResult:
        """Charge the hold, racing its expiry; confirm, release, or refund accordingly.

        Safe to retry, even concurrently: the attempt written before the charge gives every
        retry the same idempotency key, and only one caller can refund its money.
        """
        hold = await self.store.get(hold.token, self.clock.now())
        if hold.status is HoldStatus.CONFIRMED:  # a retry of a booking that went through
            return self._result(
                BookingOutcome.CONFIRMED, hold.user_id, hold.seat_ids, hold, hold.payment_id
            )
        if hold.status is not HoldStatus.HELD:  # e.g. the user took too long to start paying
            return await self._ended(hold)
        try:
            attempt = await self.store.begin_payment(hold.token, self.clock.now())
        except (HoldExpired, HoldNotActive):  # ended between the read and the intent
            return await self._ended(await self.store.get(hold.token, self.clock.now()))
        charge = asyncio.ensure_future(self.payments.charge(attempt.idempotency_key, hold.amount))
        timer = asyncio.ensure_future(self.clock.sleep(hold.expires_at - self.clock.now()))
        await asyncio.wait({charge, timer}, return_when=asyncio.FIRST_COMPLETED)
        if not charge.done():  # the hold ran out first: free the seats now, not at the sweep
            await self._give_up(hold)
            return await self._refund_late(hold, await charge)
        timer.cancel()
        paid = charge.result()
        if not paid.succeeded:  # free the seats first; if we die before recording the
            await self._give_up(hold)  # decline, the reconciler looks it up and records it
            await record_charge(self.store, hold.token, paid, self.clock.now())
            return self._result(BookingOutcome.PAYMENT_FAILED, hold.user_id, hold.seat_ids, hold)
        try:  # confirming records the money too: one write on the happy path
            hold = await self.confirm(hold.token, hold.user_id, paid.payment_id)
        except (HoldExpired, HoldNotActive, StaleToken, AlreadyConfirmed, PaymentRefunded):
            return await self._refund_late(hold, paid)
        return self._result(
            BookingOutcome.CONFIRMED, hold.user_id, hold.seat_ids, hold, paid.payment_id
        )

    async def reconcile(self, abandon_after_s: float = ABANDON_AFTER_S) -> ReconcileReport:
        """Finish payment attempts a crash (or a lost answer) left open: confirm or refund."""
        return await reconcile(self.store, self.payments, self.clock.now(), abandon_after_s)

    async def _ended(self, hold: Hold) -> BookingResult:
        """The hold is over without this call's help; report whether its money went back."""
        try:
            attempt = await self.store.attempt(hold.token)
        except UnknownHold:
            attempt = None
        refunded = attempt is not None and attempt.state in (
            AttemptState.REFUNDING,
            AttemptState.REFUNDED,
        )
        return self._result(
            BookingOutcome.HOLD_EXPIRED,
            hold.user_id,
            hold.seat_ids,
            hold,
            attempt.payment_id if attempt else None,
            refunded=refunded,
        )

    async def run_sweeper(self, stop: asyncio.Event, interval_s: float = SWEEP_INTERVAL_S) -> int:
        """Expire due holds every ``interval_s`` until ``stop`` is set; return how many."""
        expired = 0
        while not stop.is_set():
            await self.clock.sleep(interval_s)
            expired += await self.store.sweep(self.clock.now())
        return expired

    async def _give_up(self, hold: Hold) -> None:
        try:
            await self.release(hold.token, hold.user_id)
        except (HoldExpired, HoldNotActive):
            pass  # already free

    async def _refund_late(self, hold: Hold, paid: PaymentResult) -> BookingResult:
        refunded = paid.succeeded and await refund_attempt(
            self.store, self.payments, hold.token, paid, hold.amount, self.clock.now()
        )
        return self._result(
            BookingOutcome.HOLD_EXPIRED,
            hold.user_id,
            hold.seat_ids,
            hold,
            paid.payment_id,
            refunded=refunded,
        )

    def _result(
        self,
        outcome: BookingOutcome,
        user_id: str,
        seat_ids: tuple[str, ...],
        hold: Hold | None = None,
        payment_id: str | None = None,
        refunded: bool = False,
    ) -> BookingResult:
        return BookingResult(
            outcome,
            user_id,
            seat_ids,
            hold.amount if hold else None,
            hold.token if hold else None,
            payment_id,
            refunded,
            self.clock.now(),
        )
