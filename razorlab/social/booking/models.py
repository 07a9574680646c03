"""Ticketing (BookMyShow scenario): theatres, screens, shows, seat maps, holds, typed errors.

A *show* is one screening of a film on one screen; its seat map lists every seat with a
category (recliner, premium, classic) and a price in paise. A user *holds* several seats of
one show for a short time (``HOLD_TTL_S``) while they pay, then *confirms* the hold into a
booking. The store interface (``SeatStore``) is what the in-memory and SQLite stores share.

Design note — the invariants every store keeps:

* a seat of a show is in at most one live hold (held or confirmed) at any moment;
* a hold is all or nothing: either every requested seat is claimed or none is;
* a hold carries a *fencing token* from a strictly increasing counter (Kleppmann, "How to do
  distributed locking", 2016): confirm names the token, so a holder whose hold expired — and
  whose seats were re-held, even by the same user — cannot confirm with the old token;
* a confirmed hold always has a payment id; released, expired and confirmed holds are final;
* a hold's payment attempt is written *before* the charge (intent) and after it (result), so
  a process that dies in between leaves a record a reconciler can finish: money taken for a
  hold that did not become a booking is refunded (``reconciler``).

Why 10 minutes: BookMyShow releases abandoned seats after about 7–8 minutes and seats.io
holds for 15 (see ``/work/shared/references.md``, "Seat holds"); 10 is the seed's figure.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Protocol

from razorlab.errors import ConflictError, NotFoundError, StateError, ValidationError
from razorlab.money import Money, money_sum

__all__ = [
    "HOLD_TTL_S",
    "MAX_SEATS_PER_HOLD",
    "SeatCategory",
    "Seat",
    "Show",
    "Screen",
    "Theatre",
    "HoldStatus",
    "Hold",
    "Claim",
    "SeatStore",
    "build_seat_map",
    "validate_request",
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
    "AttemptState",
    "ATTEMPT_MOVES",
    "PaymentAttempt",
]

HOLD_TTL_S = 600  # seconds a seat hold lives before its seats are free again (seed: 10 min)
MAX_SEATS_PER_HOLD = 10  # seats one request may hold; BookMyShow caps a booking at 10


class BookingError(Exception):
    """Marker base so callers can catch every ticketing error at once."""


class UnknownShow(BookingError, NotFoundError):
    code = "SHOW_NOT_FOUND"


class UnknownSeat(BookingError, ValidationError):
    code = "SEAT_NOT_FOUND"


class UnknownHold(BookingError, NotFoundError):
    code = "HOLD_NOT_FOUND"


class EmptySeatList(BookingError, ValidationError):
    code = "EMPTY_SEAT_LIST"


class DuplicateSeat(BookingError, ValidationError):
    code = "DUPLICATE_SEAT"


class TooManySeats(BookingError, ValidationError):
    code = "TOO_MANY_SEATS"


class SeatsUnavailable(BookingError, ConflictError):
    """Some requested seat is in another live hold; nothing was held."""

    code = "SEATS_UNAVAILABLE"


class NotHolder(BookingError, ConflictError):
    """Only the user who holds the seats may release or confirm them."""

    code = "NOT_HOLDER"
    http_status = 403


class HoldExpired(BookingError, StateError):
    code = "HOLD_EXPIRED"


class HoldNotActive(BookingError, StateError):
    """The hold was released (or rejected) and can no longer change."""

    code = "HOLD_NOT_ACTIVE"


class StaleToken(BookingError, ConflictError):
    """The fencing token is older than the seat's current claim."""

    code = "STALE_TOKEN"


class AlreadyConfirmed(BookingError, ConflictError):
    """Confirmed already, with a different payment: a second payment must be refunded."""

    code = "ALREADY_CONFIRMED"


class PaymentRefunded(BookingError, StateError):
    """This hold's payment is being (or was) refunded, so it can no longer buy the seats."""

    code = "PAYMENT_REFUNDED"


@dataclass(frozen=True)
class SeatCategory:
    name: str
    price: Money


@dataclass(frozen=True)
class Seat:
    seat_id: str  # "A7": row letter + number, unique within a screen
    category: str
    price: Money


@dataclass(frozen=True)
class Show:
    """One screening: the seat map is copied per show so prices can differ by show time."""

    show_id: str
    title: str
    starts_at: float  # epoch seconds
    seats: tuple[Seat, ...]
    _by_id: dict[str, Seat] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {s.seat_id: s for s in self.seats})
        if len(self._by_id) != len(self.seats):
            raise DuplicateSeat(f"show {self.show_id!r} lists a seat twice", field="seats")

    def seat(self, seat_id: str) -> Seat:
        try:
            return self._by_id[seat_id]
        except KeyError:
            raise UnknownSeat(
                f"show {self.show_id!r} has no seat {seat_id!r}", field="seat_ids"
            ) from None

    def price_of(self, seat_ids: Sequence[str]) -> Money:
        return money_sum((self.seat(s).price for s in seat_ids), "INR")


@dataclass(frozen=True)
class Screen:
    screen_id: str
    seats: tuple[Seat, ...]


@dataclass(frozen=True)
class Theatre:
    theatre_id: str
    city: str
    screens: tuple[Screen, ...]


def build_seat_map(rows: int, per_row: int, categories: Sequence[tuple[SeatCategory, int]]):
    """Seats ``A1``… row by row; ``categories`` = (category, number of rows), back rows first.

    The back rows are the dearest in Indian multiplexes (recliners at the back), so the first
    category listed takes the last rows.
    """
    if rows < 1 or per_row < 1 or rows > len(string.ascii_uppercase):
        raise ValidationError(f"need 1..26 rows and >= 1 seat per row, got {rows}x{per_row}")
    if sum(n for _, n in categories) != rows:
        raise ValidationError("category rows must add up to the number of rows", field="rows")
    row_category: list[SeatCategory] = []
    for category, n in reversed(categories):
        row_category += [category] * n
    return tuple(
        Seat(f"{string.ascii_uppercase[r]}{n}", row_category[r].name, row_category[r].price)
        for r in range(rows)
        for n in range(1, per_row + 1)
    )


class HoldStatus(str, Enum):
    HELD = "held"
    CONFIRMED = "confirmed"
    RELEASED = "released"
    EXPIRED = "expired"

    @property
    def live(self) -> bool:
        """Held and confirmed holds own their seats; the others own nothing."""
        return self in (HoldStatus.HELD, HoldStatus.CONFIRMED)


@dataclass(frozen=True)
class Hold:
    """A user's claim on some seats of one show; ``token`` is its id and fencing token."""

    token: int
    show_id: str
    user_id: str
    seat_ids: tuple[str, ...]
    amount: Money
    created_at: float
    expires_at: float
    status: HoldStatus = HoldStatus.HELD
    payment_id: str | None = None


@dataclass(frozen=True)
class Claim:
    """One seat of one live hold, as a store reports it (used to audit for double booking)."""

    seat_id: str
    token: int
    user_id: str
    status: HoldStatus


class AttemptState(str, Enum):
    """Where a hold's payment attempt stands; written before and after each outside call.

    ``started`` (intent written, charge sent) → ``paid`` | ``declined`` | ``abandoned`` |
    ``confirmed`` (the seats are bought in the same step as recording the money, so the
    happy path costs no extra write); ``paid`` → ``confirmed`` | ``refunding`` → ``refunded``.
    Only ``started``, ``paid`` and ``refunding`` are *open*: a reconciler finishes them.
    """

    STARTED = "started"
    PAID = "paid"
    DECLINED = "declined"
    ABANDONED = "abandoned"
    CONFIRMED = "confirmed"
    REFUNDING = "refunding"
    REFUNDED = "refunded"

    @property
    def open(self) -> bool:
        return self in (AttemptState.STARTED, AttemptState.PAID, AttemptState.REFUNDING)


#: Legal moves of a payment attempt; stores refuse every other one.
ATTEMPT_MOVES: dict[AttemptState, frozenset[AttemptState]] = {
    AttemptState.STARTED: frozenset(
        {AttemptState.PAID, AttemptState.DECLINED, AttemptState.ABANDONED, AttemptState.CONFIRMED}
    ),
    AttemptState.PAID: frozenset({AttemptState.CONFIRMED, AttemptState.REFUNDING}),
    AttemptState.REFUNDING: frozenset({AttemptState.REFUNDED}),
}


@dataclass(frozen=True)
class PaymentAttempt:
    """The durable record of one hold's payment: one per hold, keyed by its token."""

    token: int
    idempotency_key: str  # "hold-<token>": a retried charge cannot take the money twice
    amount: Money
    state: AttemptState
    payment_id: str | None
    started_at: float
    updated_at: float


def validate_request(show: Show, seat_ids: Sequence[str], user_id: str) -> tuple[str, ...]:
    """Reject a malformed hold request before any state is touched; return the seat ids."""
    if not isinstance(user_id, str) or not user_id:
        raise ValidationError("user_id must be a non-empty string", field="user_id")
    if isinstance(seat_ids, str) or not isinstance(seat_ids, Sequence):
        raise ValidationError("seat_ids must be a list of seat ids", field="seat_ids")
    if not seat_ids:
        raise EmptySeatList("a hold needs at least one seat", field="seat_ids")
    if len(seat_ids) > MAX_SEATS_PER_HOLD:
        raise TooManySeats(
            f"at most {MAX_SEATS_PER_HOLD} seats per hold, got {len(seat_ids)}", field="seat_ids"
        )
    seen: set[str] = set()
    for seat_id in seat_ids:
        if seat_id in seen:
            raise DuplicateSeat(f"seat {seat_id!r} appears twice in one request", field="seat_ids")
        seen.add(seat_id)
        show.seat(seat_id)
    return tuple(seat_ids)


class SeatStore(Protocol):
    """What both stores implement. Every method is atomic with respect to the others."""

    async def add_show(self, show: Show) -> None: ...

    async def show(self, show_id: str) -> Show: ...

    async def hold(
        self, show_id: str, seat_ids: Sequence[str], user_id: str, now: float, ttl_s: float
    ) -> Hold:
        """All requested seats or none (``SeatsUnavailable``); frees expired holds first."""

    async def release(self, token: int, user_id: str, now: float) -> Hold: ...

    async def confirm(self, token: int, user_id: str, payment_id: str, now: float) -> Hold:
        """Idempotent for the same payment id; fenced by ``token``.

        In the same step, a ``paid`` attempt with this payment becomes ``confirmed``; a
        payment already being refunded cannot buy the seats (``PaymentRefunded``).
        """

    async def get(self, token: int, now: float) -> Hold: ...

    async def sweep(self, now: float) -> int:
        """Expire every hold due by ``now``; return how many."""

    async def claims(self, show_id: str) -> list[Claim]:
        """Seats of every live hold, read from hold records (duplicates would show)."""

    async def begin_payment(self, token: int, now: float) -> PaymentAttempt:
        """Write the intent to charge this held hold (or return the attempt that exists)."""

    async def advance_payment(
        self,
        token: int,
        expected: AttemptState,
        new: AttemptState,
        now: float,
        payment_id: str | None = None,
    ) -> bool:
        """Move the attempt from ``expected`` to ``new``; False if it was not ``expected``."""

    async def attempt(self, token: int) -> PaymentAttempt: ...

    async def open_attempts(self) -> list[PaymentAttempt]:
        """Attempts a reconciler must finish (started, paid, refunding), oldest first."""

    async def close(self) -> None: ...
