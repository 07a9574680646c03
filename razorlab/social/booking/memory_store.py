"""In-memory seat store: the fast one for simulations with thousands of users.

Why it is race-free without a lock: asyncio runs one coroutine at a time and only switches
at an ``await``. Each method below checks and changes state in one stretch of plain Python
with no ``await`` in between, so the check-then-claim is atomic — the same reason a Redis
Lua script (one round trip, run to completion) is atomic where a GET followed by a SET is
not. A store in another process needs a real transaction instead: see ``sqlite_store``.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Sequence
from dataclasses import replace

from razorlab.errors import ValidationError
from razorlab.social.booking.models import (
    ATTEMPT_MOVES,
    AlreadyConfirmed,
    AttemptState,
    Claim,
    Hold,
    HoldExpired,
    HoldNotActive,
    HoldStatus,
    NotHolder,
    PaymentAttempt,
    PaymentRefunded,
    SeatsUnavailable,
    Show,
    StaleToken,
    UnknownHold,
    UnknownShow,
    validate_request,
)

__all__ = [
    "MemorySeatStore",
    "check_confirmable",
    "check_releasable",
    "check_attempt_move",
    "check_not_refunded",
]


def check_attempt_move(expected: AttemptState, new: AttemptState, payment_id: str | None) -> None:
    """Refuse a move the attempt's state machine does not have (a programming error); confirming
    is not a move of its own: it happens only by confirming the hold."""
    if new is AttemptState.CONFIRMED:
        raise ValidationError("an attempt is confirmed only by confirming its hold")
    if new not in ATTEMPT_MOVES.get(expected, frozenset()):
        raise ValidationError(f"a payment attempt cannot go {expected.value} -> {new.value}")
    if (new in (AttemptState.PAID, AttemptState.CONFIRMED)) != (payment_id is not None):
        raise ValidationError(
            "a payment id comes with paid, and only with paid", field="payment_id"
        )


def check_not_refunded(attempt: PaymentAttempt | None, payment_id: str) -> None:
    """Money on its way back to the user cannot also buy the seats."""
    if (
        attempt is not None
        and attempt.payment_id == payment_id
        and attempt.state in (AttemptState.REFUNDING, AttemptState.REFUNDED)
    ):
        raise PaymentRefunded(
            f"payment {payment_id} of hold {attempt.token} is refunded; hold the seats again",
            field="payment_id",
        )


def check_releasable(hold: Hold, user_id: str) -> None:
    """Only the holder may release, and only a hold that is still held."""
    if hold.user_id != user_id:
        raise NotHolder(f"hold {hold.token} belongs to another user", field="user_id")
    if hold.status is HoldStatus.EXPIRED:
        raise HoldExpired(f"hold {hold.token} expired; its seats are free already", field="token")
    if hold.status is not HoldStatus.HELD:
        raise HoldNotActive(f"hold {hold.token} is {hold.status.value}", field="token")


def check_confirmable(hold: Hold, user_id: str, payment_id: str, now: float) -> bool:
    """Shared confirm rules; True if already confirmed with this payment (a replay).

    Raises for the wrong user, a different payment on a confirmed hold, a released or
    expired hold. The caller expires a HELD hold that is past its time before calling.
    """
    if hold.user_id != user_id:
        raise NotHolder(f"hold {hold.token} belongs to another user", field="user_id")
    if hold.status is HoldStatus.CONFIRMED:
        if hold.payment_id == payment_id:
            return True
        raise AlreadyConfirmed(
            f"hold {hold.token} was confirmed with another payment; refund this one",
            field="payment_id",
        )
    if hold.status is HoldStatus.EXPIRED or hold.expires_at <= now:
        raise HoldExpired(f"hold {hold.token} expired; hold the seats again", field="token")
    if hold.status is not HoldStatus.HELD:
        raise HoldNotActive(f"hold {hold.token} is {hold.status.value}", field="token")
    return False


def _buys(attempt: PaymentAttempt, payment_id: str) -> bool:
    """Does confirming with ``payment_id`` finish this attempt (its charge's money)?"""
    if attempt.state is AttemptState.STARTED:  # the charge's answer is recorded by confirm
        return True
    return attempt.state is AttemptState.PAID and attempt.payment_id == payment_id


class MemorySeatStore:
    """``SeatStore`` on dicts: holds by token, live claims by (show, seat)."""

    def __init__(self) -> None:
        self._shows: dict[str, Show] = {}
        self._holds: dict[int, Hold] = {}
        self._owner: dict[tuple[str, str], int] = {}  # (show, seat) -> token of its live hold
        self._due: list[tuple[float, int]] = []  # (expires_at, token) heap for the sweeper
        self._tokens = itertools.count(1)
        self._attempts: dict[int, PaymentAttempt] = {}  # by hold token

    async def add_show(self, show: Show) -> None:
        self._shows[show.show_id] = show

    async def show(self, show_id: str) -> Show:
        try:
            return self._shows[show_id]
        except KeyError:
            raise UnknownShow(f"no show {show_id!r}", field="show_id") from None

    async def hold(
        self, show_id: str, seat_ids: Sequence[str], user_id: str, now: float, ttl_s: float
    ) -> Hold:
        show = await self.show(show_id)
        seats = validate_request(show, seat_ids, user_id)
        # No await from here on: check and claim happen in one step.
        taken = []
        for seat_id in seats:
            token = self._owner.get((show_id, seat_id))
            if token is not None and self._expire_if_due(self._holds[token], now):
                token = None
            if token is not None:
                taken.append(seat_id)
        if taken:
            raise SeatsUnavailable(f"seats {', '.join(taken)} are taken", field="seat_ids")
        hold = Hold(
            token=next(self._tokens),
            show_id=show_id,
            user_id=user_id,
            seat_ids=seats,
            amount=show.price_of(seats),
            created_at=now,
            expires_at=now + ttl_s,
        )
        self._holds[hold.token] = hold
        for seat_id in seats:
            self._owner[(show_id, seat_id)] = hold.token
        heapq.heappush(self._due, (hold.expires_at, hold.token))
        return hold

    async def release(self, token: int, user_id: str, now: float) -> Hold:
        hold = await self.get(token, now)
        check_releasable(hold, user_id)
        return self._end(hold, HoldStatus.RELEASED)

    async def confirm(self, token: int, user_id: str, payment_id: str, now: float) -> Hold:
        hold = await self.get(token, now)
        attempt = self._attempts.get(token)
        if not check_confirmable(hold, user_id, payment_id, now):
            check_not_refunded(attempt, payment_id)
            # Fencing: every seat must still be owned by this very token.
            if any(self._owner.get((hold.show_id, s)) != token for s in hold.seat_ids):
                raise StaleToken(f"token {token} no longer owns its seats", field="token")
            hold = replace(hold, status=HoldStatus.CONFIRMED, payment_id=payment_id)
            self._holds[token] = hold
        if attempt and _buys(attempt, payment_id):
            self._attempts[token] = replace(
                attempt, state=AttemptState.CONFIRMED, payment_id=payment_id, updated_at=now
            )
        return hold

    async def begin_payment(self, token: int, now: float) -> PaymentAttempt:
        if token in self._attempts:  # a retry: same attempt, same idempotency key
            return self._attempts[token]
        hold = await self.get(token, now)
        if hold.status is HoldStatus.EXPIRED:
            raise HoldExpired(f"hold {token} expired; hold the seats again", field="token")
        if hold.status is not HoldStatus.HELD:
            raise HoldNotActive(
                f"hold {token} is {hold.status.value}; nothing to pay", field="token"
            )
        attempt = PaymentAttempt(
            token, f"hold-{token}", hold.amount, AttemptState.STARTED, None, now, now
        )
        self._attempts[token] = attempt
        return attempt

    async def advance_payment(
        self,
        token: int,
        expected: AttemptState,
        new: AttemptState,
        now: float,
        payment_id: str | None = None,
    ) -> bool:
        check_attempt_move(expected, new, payment_id)
        attempt = await self.attempt(token)
        if attempt.state is not expected:
            return False
        self._attempts[token] = replace(
            attempt, state=new, payment_id=payment_id or attempt.payment_id, updated_at=now
        )
        return True

    async def attempt(self, token: int) -> PaymentAttempt:
        try:
            return self._attempts[token]
        except KeyError:
            raise UnknownHold(f"hold {token!r} has no payment attempt", field="token") from None

    async def open_attempts(self) -> list[PaymentAttempt]:
        return sorted((a for a in self._attempts.values() if a.state.open), key=lambda a: a.token)

    async def get(self, token: int, now: float) -> Hold:
        try:
            hold = self._holds[token]
        except KeyError:
            raise UnknownHold(f"no hold with token {token!r}", field="token") from None
        self._expire_if_due(hold, now)
        return self._holds[token]

    async def sweep(self, now: float) -> int:
        expired = 0
        while self._due and self._due[0][0] <= now:
            _, token = heapq.heappop(self._due)
            expired += self._expire_if_due(self._holds[token], now)
        return expired

    async def claims(self, show_id: str) -> list[Claim]:
        return [
            Claim(seat_id, h.token, h.user_id, h.status)
            for h in self._holds.values()
            if h.show_id == show_id and h.status.live
            for seat_id in h.seat_ids
        ]

    async def close(self) -> None:
        """Nothing to close; present so both stores are used the same way."""

    def _expire_if_due(self, hold: Hold, now: float) -> bool:
        if hold.status is HoldStatus.HELD and hold.expires_at <= now:
            self._end(hold, HoldStatus.EXPIRED)
            return True
        return False

    def _end(self, hold: Hold, status: HoldStatus) -> Hold:
        hold = replace(hold, status=status)
        self._holds[hold.token] = hold
        for seat_id in hold.seat_ids:
            if self._owner.get((hold.show_id, seat_id)) == hold.token:
                del self._owner[(hold.show_id, seat_id)]
        return hold
