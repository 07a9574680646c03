"""Simulations of the ticketing engine: the opening-minute rush and an hour of sales.

``rush``: thousands of asyncio users request seats of one popular show at the same moment
(a blockbuster's bookings opening), each request preceded by a simulated network round trip.
Run it with the naive seed locking and with the correct stores and count seats sold twice.

``simulate_hour``: users arrive at random through an hour, pick free seats, hold them, think,
pay through the simulated gateway (some decline, a few answer too late) or abandon the hold;
the sweeper returns abandoned seats. A per-minute timeline records what the seat map looked
like. Everything runs on a ``ManualClock`` and seeded generators, so a seed fixes the result.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import pandas as pd

from razorlab.clock import EPOCH_2026, ManualClock
from razorlab.money import Money, money_sum
from razorlab.rand import py_random
from razorlab.social.booking.memory_store import MemorySeatStore
from razorlab.social.booking.models import (
    HOLD_TTL_S,
    HoldStatus,
    SeatCategory,
    SeatStore,
    SeatsUnavailable,
    Show,
    build_seat_map,
)
from razorlab.social.booking.naive_locks import MAX_RTT_YIELDS, FakeRedis, NaiveSeatLocks
from razorlab.social.booking.payments import PAYMENT_FAILURE_RATE, SimulatedPayments
from razorlab.social.booking.service import SWEEP_INTERVAL_S, BookingService
from razorlab.social.booking.sqlite_store import SqliteSeatStore

__all__ = [
    "ENGINES",
    "RushResult",
    "popular_show",
    "rush_requests",
    "rush",
    "HourResult",
    "simulate_hour",
    "simulate_hour_now",
    "run_now",
    "seats_held_at_once",
    "HoldRate",
    "hold_rate",
    "ABANDON_RATE",
    "MEAN_THINK_S",
]

ENGINES = ("naive", "memory", "sqlite")
ABANDON_RATE = 0.15  # share of users who hold seats and never pay (closed the app)
MEAN_THINK_S = 120.0  # seconds between holding seats and starting to pay, on average

T = TypeVar("T")

CATEGORIES = (
    (SeatCategory("recliner", Money.of(600)), 2),
    (SeatCategory("premium", Money.of(350)), 4),
    (SeatCategory("classic", Money.of(200)), 4),
)


def popular_show(show_id: str = "blockbuster", rows: int = 10, per_row: int = 10) -> Show:
    """One screening; recliners at the back, classic at the front (rows split 2:4:4)."""
    back = max(1, rows // 5)
    mid = max(0, (rows - back) // 2)
    categories = [(CATEGORIES[0][0], back), (CATEGORIES[1][0], mid)]
    categories.append((CATEGORIES[2][0], rows - back - mid))
    seats = build_seat_map(rows, per_row, [(c, n) for c, n in categories if n])
    return Show(show_id, "Opening night", EPOCH_2026 + 86_400, seats)


def rush_requests(show: Show, users: int, seed: int) -> list[list[str]]:
    """Each user wants 1–4 adjacent seats in one row, drawn towards the centre of the hall."""
    rnd = py_random(seed, "booking-rush-requests")
    rows = sorted({s.seat_id[0] for s in show.seats})
    per_row = len(show.seats) // len(rows)
    requests = []
    for _ in range(users):
        size = rnd.choice((1, 2, 2, 2, 3, 4))
        row = rows[min(len(rows) - 1, int(rnd.triangular(0, len(rows), len(rows) * 0.6)))]
        start = int(rnd.triangular(1, per_row - size + 2, (per_row - size) / 2 + 1))
        requests.append([f"{row}{n}" for n in range(start, start + size)])
    return requests


@dataclass(frozen=True)
class RushResult:
    engine: str
    attempts: int
    successful: int  # requests told "your seats are held"
    seats_sold: int  # distinct seats with at least one booking
    double_booked: int  # seats with more than one booking
    half_locked: int  # failed requests that left some seats locked (naive only)


async def _open(engine: str) -> SeatStore:
    if engine == "memory":
        return MemorySeatStore()
    if engine == "sqlite":
        return await SqliteSeatStore.open()
    raise ValueError(f"unknown engine {engine!r}; pick one of {ENGINES}")


async def rush(
    engine: str, users: int = 10_000, seed: int = 42, show: Show | None = None
) -> RushResult:
    """``users`` concurrent requests on one show; every held request pays and confirms."""
    show = show or popular_show()
    requests = rush_requests(show, users, seed)
    if engine == "naive":
        locks = NaiveSeatLocks(FakeRedis(seed))
        ok = await asyncio.gather(
            *(locks.book(show.show_id, r, f"u{i}") for i, r in enumerate(requests))
        )
        sold = Counter(seat for _, seat, _ in locks.bookings)
        return RushResult(
            engine, users, sum(ok), len(sold), locks.double_booked_seats(), locks.half_locked
        )
    store = await _open(engine)
    try:
        await store.add_show(show)
        rtt = py_random(seed, "booking-rush-rtt")

        async def user(i: int, seats: list[str]) -> bool:
            for _ in range(rtt.randint(1, MAX_RTT_YIELDS)):
                await asyncio.sleep(0)
            try:
                hold = await store.hold(show.show_id, seats, f"u{i}", EPOCH_2026, HOLD_TTL_S)
            except SeatsUnavailable:
                return False
            await store.confirm(hold.token, hold.user_id, f"pay_u{i}", EPOCH_2026)
            return True

        ok = await asyncio.gather(*(user(i, r) for i, r in enumerate(requests)))
        sold = Counter(c.seat_id for c in await store.claims(show.show_id))
        return RushResult(engine, users, sum(ok), len(sold), sum(n > 1 for n in sold.values()), 0)
    finally:
        await store.close()


@dataclass(frozen=True)
class HourResult:
    timeline: pd.DataFrame  # one row per simulated minute
    outcomes: dict[str, int]  # users by how their attempt ended
    refunded: Money  # late payments given back
    double_booked: int  # seats in more than one live hold at the end (must be 0)


def _customers(
    seed: int, minutes: int, per_min: float, abandon_rate: float
) -> Iterator[tuple[int, float, int, float, bool]]:
    """(index, arrival s, seats wanted, think s, abandons?) for a Poisson stream of users."""
    rnd = py_random(seed, "booking-hour-customers")
    at, i = rnd.expovariate(per_min / 60), 0
    while at < minutes * 60:
        size = rnd.choice((1, 2, 2, 2, 3, 4))
        yield i, at, size, rnd.expovariate(1 / MEAN_THINK_S), rnd.random() < abandon_rate
        at, i = at + rnd.expovariate(per_min / 60), i + 1


def _preference(show: Show) -> dict[str, float]:
    """Lower is better: distance from the sweet spot, a few rows from the back, mid-row."""
    rows = sorted({s.seat_id[0] for s in show.seats})
    per_row = len(show.seats) // len(rows)
    sweet_row = len(rows) * 0.7  # people like sitting about 70% of the way back
    return {
        s.seat_id: abs(rows.index(s.seat_id[0]) - sweet_row)
        + abs(int(s.seat_id[1:]) - (per_row + 1) / 2) / 2
        for s in show.seats
    }


async def simulate_hour(
    seed: int = 42,
    minutes: int = 60,
    arrivals_per_min: float = 6.0,
    hold_ttl_s: float = HOLD_TTL_S,
    payment_failure_rate: float = PAYMENT_FAILURE_RATE,
    abandon_rate: float = ABANDON_RATE,
) -> HourResult:
    """Sales of one 200-seat show; users arrive for ``minutes``, the sim runs until all finish."""
    clock = ManualClock()
    show = popular_show("evening", rows=10, per_row=20)
    store = MemorySeatStore()
    await store.add_show(show)
    payments = SimulatedPayments(seed, clock, failure_rate=payment_failure_rate)
    service = BookingService(store, payments, clock, hold_ttl_s)
    taste = py_random(seed, "booking-hour-taste")
    ends: list[tuple[float, str]] = []  # (time, outcome)
    centre = _preference(show)

    async def customer(i: int, arrive: float, size: int, think: float, abandons: bool) -> None:
        await clock.sleep(arrive)
        taken = {c.seat_id for c in await store.claims(show.show_id)}
        free = sorted(
            (s for s in centre if s not in taken), key=lambda s: centre[s] + taste.random()
        )
        if len(free) < size:  # the seat map shows too few free seats: sold out for them
            ends.append((clock.now(), "seats_unavailable"))
            return
        hold = await service.hold(show.show_id, free[:size], f"c{i}")
        await clock.sleep(think)
        if abandons:
            ends.append((clock.now(), "abandoned"))
            return
        result = await service.pay_and_confirm(hold)
        ends.append((clock.now(), "refunded" if result.refunded else result.outcome.value))

    stop = asyncio.Event()
    sweeper = asyncio.ensure_future(service.run_sweeper(stop))
    users = [
        asyncio.ensure_future(customer(*c))
        for c in _customers(seed, minutes, arrivals_per_min, abandon_rate)
    ]
    rows, minute = [], 0
    while minute < minutes or not all(u.done() for u in users):
        for _ in range(60):
            await clock.run_for(1)
        minute += 1
        rows.append(
            _sample(minute, await store.claims(show.show_id), len(show.seats), ends, clock.now())
        )
    stop.set()
    await clock.run_for(SWEEP_INTERVAL_S)
    await sweeper
    sold = Counter(c.seat_id for c in await store.claims(show.show_id))
    return HourResult(
        pd.DataFrame(rows).set_index("minute"),
        dict(Counter(outcome for _, outcome in ends)),
        money_sum(payments.refunds.values()),
        sum(n > 1 for n in sold.values()),
    )


def run_now(coro: Coroutine[object, object, T]) -> T:
    """Run a simulation from synchronous code (a widget, a self-check), even inside a loop.

    A notebook's event loop is already running, so the coroutine gets its own loop in a
    worker thread; the simulations share no state, so nothing else is touched.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def simulate_hour_now(**kwargs) -> HourResult:
    """``simulate_hour`` for synchronous callers (see ``run_now``)."""
    return run_now(simulate_hour(**kwargs))


def seats_held_at_once(bookings_per_min: float, seats_per_booking: float, mean_hold_s: float):
    """Little's law: seats held at any moment = hold start rate x time each hold lives."""
    return bookings_per_min / 60 * seats_per_booking * mean_hold_s


def _sample(minute: int, claims, seats: int, ends, now: float) -> dict[str, int]:
    held = sum(c.status is HoldStatus.HELD for c in claims)
    sold = sum(c.status is HoldStatus.CONFIRMED for c in claims)
    done = Counter(outcome for t, outcome in ends if t <= now)
    return {
        "minute": minute,
        "held": held,
        "sold": sold,
        "free": seats - held - sold,
        **{
            f"{k}_total": done[k]
            for k in ("abandoned", "payment_failed", "hold_expired", "refunded")
        },
    }


@dataclass(frozen=True)
class HoldRate:
    engine: str
    contention: bool
    attempts: int
    held: int
    seconds: float  # wall time: machine-dependent, never print it in checked cells

    @property
    def per_s(self) -> float:
        return self.attempts / self.seconds


async def hold_rate(
    engine: str, attempts: int = 5_000, contention: bool = True, seed: int = 42
) -> HoldRate:
    """Hold attempts per second, all on one 100-seat show or each on its own free seat."""
    store = await _open(engine)
    try:
        if contention:
            show = popular_show()
            await store.add_show(show)
            work = [(show.show_id, r) for r in rush_requests(show, attempts, seed)]
        else:
            shows = [popular_show(f"show{i}") for i in range(-(-attempts // 100))]
            for show in shows:
                await store.add_show(show)
            work = [
                (shows[i // 100].show_id, [shows[i // 100].seats[i % 100].seat_id])
                for i in range(attempts)
            ]

        async def attempt(i: int, show_id: str, seats: list[str]) -> bool:
            try:
                await store.hold(show_id, seats, f"u{i}", EPOCH_2026, HOLD_TTL_S)
            except SeatsUnavailable:
                return False
            return True

        started = time.perf_counter()
        ok = await asyncio.gather(*(attempt(i, s, r) for i, (s, r) in enumerate(work)))
        return HoldRate(engine, contention, attempts, sum(ok), time.perf_counter() - started)
    finally:
        await store.close()
