"""Any order of hold / release / expire / pay-fail / pay / confirm keeps the booking invariants.

Invariants checked after every step, for every store (memory, SQLite, Redis holds over SQLite):
no seat in two live holds; no confirmed booking without a captured, unrefunded payment; every
failed booking's seats are free of it; the store agrees with a simple model of which holds are
live; and the Redis locks agree with the SQLite record.
"""

import asyncio
from collections import Counter
from uuid import uuid4

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from razorlab.clock import EPOCH_2026
from razorlab.social.booking import (
    AlreadyConfirmed,
    HoldExpired,
    HoldNotActive,
    HoldStatus,
    MemorySeatStore,
    NotHolder,
    SeatsUnavailable,
    SqliteSeatStore,
)
from razorlab.social.booking.redis_holds import RedisSeatStore
from razorlab.social.booking.simulation import popular_show

SEATS = ["A1", "A2", "A3", "A4", "A5", "A6"]
USERS = ["amy", "bob", "cat"]
TTL_S = 600


class BookingMachine(RuleBasedStateMachine):
    open_store = None  # set by subclasses

    @initialize()
    def start(self):
        self.loop = asyncio.new_event_loop()
        self.store = self.run(self.open_store())
        self.run(self.store.add_show(popular_show("s1")))
        self.now = EPOCH_2026
        self.model = {}  # token -> [user, seats, expires_at, status]
        self.captured = {}  # payment id -> token (successful payments)
        self.refunded = set()
        self.failed = set()  # tokens of bookings that ended without seats

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self):
        if hasattr(self, "loop"):
            self.run(self.store.close())
            self.loop.close()

    def live(self, token):
        _, _, expires_at, status = self.model[token]
        return status == "confirmed" or (status == "held" and expires_at > self.now)

    @rule(
        user=st.sampled_from(USERS),
        seats=st.lists(st.sampled_from(SEATS), min_size=1, max_size=3, unique=True),
    )
    def hold(self, user, seats):
        busy = {s for t, m in self.model.items() if self.live(t) for s in m[1]}
        try:
            hold = self.run(self.store.hold("s1", seats, user, self.now, TTL_S))
        except SeatsUnavailable:
            assert busy & set(seats), f"refused {seats} though free"
            return
        assert not busy & set(seats), f"held {seats} though {busy & set(seats)} were taken"
        self.model[hold.token] = [user, seats, hold.expires_at, "held"]

    @precondition(lambda self: self.model)
    @rule(data=st.data(), as_holder=st.booleans())
    def release(self, data, as_holder):
        token = data.draw(st.sampled_from(sorted(self.model)))
        user = self.model[token][0] if as_holder else "mallory"
        try:
            self.run(self.store.release(token, user, self.now))
        except NotHolder:
            assert not as_holder
        except (HoldExpired, HoldNotActive):
            assert not self.live(token) or self.model[token][3] == "confirmed"
        else:
            assert as_holder and self.model[token][3] == "held" and self.live(token)
            self.model[token][3] = "released"
            self.failed.add(token)

    @rule(seconds=st.sampled_from([1, 60, 300, 599, 600, 900]))
    def expire(self, seconds):
        self.now += seconds

    @rule()
    def sweep(self):
        self.run(self.store.sweep(self.now))

    @precondition(lambda self: self.model)
    @rule(data=st.data(), succeeds=st.booleans())
    def pay(self, data, succeeds):
        """The service's step: a declined payment releases; a captured one confirms or refunds."""
        token = data.draw(st.sampled_from(sorted(self.model)))
        user = self.model[token][0]
        if not succeeds:
            try:
                self.run(self.store.release(token, user, self.now))
                self.model[token][3] = "released"
                self.failed.add(token)
            except (HoldExpired, HoldNotActive):
                pass
            return
        payment_id = f"pay_{len(self.captured) + 1}"
        self.captured[payment_id] = token
        try:
            self.run(self.store.confirm(token, user, payment_id, self.now))
        except (HoldExpired, HoldNotActive, AlreadyConfirmed):
            assert self.model[token][3] == "confirmed" or not self.live(token)
            self.refunded.add(payment_id)
            if self.model[token][3] != "confirmed":
                self.failed.add(token)
            return
        assert self.live(token) and self.model[token][3] == "held"
        self.model[token][3] = "confirmed"

    @precondition(lambda self: any(m[3] == "confirmed" for m in self.model.values()))
    @rule(data=st.data())
    def confirm_again(self, data):
        token = data.draw(
            st.sampled_from([t for t, m in self.model.items() if m[3] == "confirmed"])
        )
        first = self.run(self.store.get(token, self.now))
        again = self.run(self.store.confirm(token, first.user_id, first.payment_id, self.now))
        assert again == first, "replaying a confirmation changes nothing"

    @invariant()
    def no_seat_in_two_live_holds(self):
        if hasattr(self, "store"):
            claims = [c for c in self.run(self.store.claims("s1")) if self.live(c.token)]
            assert max(Counter(c.seat_id for c in claims).values(), default=0) <= 1
            expected = {(s, t) for t, m in self.model.items() if self.live(t) for s in m[1]}
            assert {(c.seat_id, c.token) for c in claims} == expected

    @invariant()
    def confirmed_bookings_have_a_kept_payment(self):
        if hasattr(self, "store"):
            for claim in self.run(self.store.claims("s1")):
                if claim.status is HoldStatus.CONFIRMED:
                    hold = self.run(self.store.get(claim.token, self.now))
                    assert self.captured.get(hold.payment_id) == claim.token
                    assert hold.payment_id not in self.refunded

    @invariant()
    def failed_bookings_hold_no_seats(self):
        if hasattr(self, "store"):
            live = {c.token for c in self.run(self.store.claims("s1"))}
            assert not live & self.failed


class MemoryMachine(BookingMachine):
    @staticmethod
    async def open_store():
        return MemorySeatStore()


class SqliteMachine(BookingMachine):
    open_store = staticmethod(SqliteSeatStore.open)


class RedisMachine(BookingMachine):
    """Holds in Redis, the record in SQLite: the Redis locks must agree with the record."""

    url = None  # set by the redis_machine_url fixture

    async def open_store(self):
        return await RedisSeatStore.open(self.url, namespace=uuid4().hex, ephemeral=True)

    @invariant()
    def redis_locks_agree_with_the_record(self):
        if hasattr(self, "store"):
            for claim in self.run(self.store.claims("s1")):
                holder = self.run(self.store.holds.holder("s1", claim.seat_id))
                assert holder is not None and holder[1] == claim.user_id, claim
                assert (holder[2] == "confirmed") == (claim.status is HoldStatus.CONFIRMED)


@pytest.fixture
def redis_machine_url(redis_url):
    RedisMachine.url = redis_url


TestMemoryStoreKeepsInvariants = MemoryMachine.TestCase
TestMemoryStoreKeepsInvariants.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
TestSqliteStoreKeepsInvariants = SqliteMachine.TestCase
TestSqliteStoreKeepsInvariants.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None
)
TestRedisStoreKeepsInvariants = pytest.mark.usefixtures("redis_machine_url")(RedisMachine.TestCase)
TestRedisStoreKeepsInvariants.settings = settings(
    max_examples=25, stateful_step_count=25, deadline=None
)
