"""The reference answer to the seats lab: atomic, expiring, fenced holds.

Scenario: two users grab overlapping seats in the same millisecond; one of them dawdles
past the hold's TTL and comes back to confirm while someone else holds the seats. The
design that survives both decides *all* of a hold in one transaction, gives every hold a
fresh token, and lets a confirm through only if the seats still carry that token.

1. **All or nothing.** ``hold`` reads every seat and writes every seat in one store
   transaction (one writer at a time, like ``BEGIN IMMEDIATE``): if any seat is held by a
   live hold or confirmed, nothing is written and the answer is ``refused``. A crash
   before ``COMMIT`` leaves nothing behind.
2. **Expiry is a read-time rule.** A seat whose hold has passed ``until`` is free to the
   next ``hold`` at once; ``expire()`` only sweeps the leftovers (after a restart).
3. **Fencing tokens.** Each hold takes the next number of a durable counter
   (``show1#7``), written into each seat it covers. ``confirm`` checks, in one
   transaction, that the hold is still live *and* that every seat still carries its token
   — so a stale token is refused even if its seats look free.
4. **Idempotent requests.** A granted hold is stored under its request id, so a retry or
   duplicate of the same request gets the same token instead of a second hold; confirm and
   release are idempotent by token. Refusals are not stored: a retry looks again.
"""

from __future__ import annotations

from typing import Any

from razorlab.labs.harness import SimClock
from razorlab.labs.seats import HOLD_TTL_S, SeatAnswer, SeatState
from razorlab.labs.store import Store, Transaction

__all__ = ["ReferenceSeats"]


def _seat_key(show: str, seat: str) -> str:
    return f"seat:{show}/{seat}"


def _live(record: Any, now: float) -> bool:
    return bool(record) and (record["confirmed"] or record["until"] > now)


class ReferenceSeats:
    """Seat holds that pass every invariant of the lab (the oracle)."""

    def __init__(self, store: Store, clock: SimClock) -> None:
        self.store, self.clock = store, clock

    async def hold(
        self, request_id: str, user: str, show: str, seats: tuple[str, ...]
    ) -> SeatAnswer:
        async with self.store.transaction() as tx:
            done = await tx.get(f"request:{request_id}")
            if done is not None:
                return SeatAnswer(**done)
            now = self.clock.now()  # read under the write lock: nobody changes seats now
            taken = [s for s in seats if _live(await tx.get(_seat_key(show, s)), now)]
            if taken:
                return SeatAnswer("refused", reason=f"taken: {', '.join(taken)}")
            number = (await tx.get(f"fence:{show}") or 0) + 1
            token, until = f"{show}#{number}", now + HOLD_TTL_S
            await tx.put(f"fence:{show}", number)
            for seat in seats:
                seat_record = {"token": token, "user": user, "until": until, "confirmed": False}
                await tx.put(_seat_key(show, seat), seat_record)
            hold = {"user": user, "show": show, "seats": tuple(seats), "until": until}
            await tx.put(f"hold:{token}", {**hold, "state": "held"})
            answer = SeatAnswer("held", token, tuple(seats))
            await tx.put(f"request:{request_id}", answer.__dict__)
        return answer

    async def _hold_of(self, tx: Transaction, user: str, token: str) -> dict[str, Any] | None:
        hold = await tx.get(f"hold:{token}")
        return hold if hold is not None and hold["user"] == user else None

    async def confirm(self, request_id: str, user: str, token: str) -> SeatAnswer:
        async with self.store.transaction() as tx:
            hold = await self._hold_of(tx, user, token)
            if hold is None:
                return SeatAnswer("refused", reason="no such hold")
            seats = hold["seats"]
            if hold["state"] == "confirmed":
                return SeatAnswer("confirmed", token, seats)
            if hold["state"] != "held" or self.clock.now() >= hold["until"]:
                return SeatAnswer("refused", token, reason="the hold expired or was released")
            keys = [_seat_key(hold["show"], s) for s in seats]
            for key in keys:
                current = await tx.get(key)
                if current is None or current["token"] != token:  # the fencing check
                    return SeatAnswer("refused", token, reason="the seats moved on")
            for key in keys:
                await tx.put(key, {"token": token, "user": user, "until": hold["until"],
                                   "confirmed": True})  # fmt: skip
            await tx.put(f"hold:{token}", {**hold, "state": "confirmed"})
        return SeatAnswer("confirmed", token, seats)

    async def release(self, request_id: str, user: str, token: str) -> SeatAnswer:
        async with self.store.transaction() as tx:
            hold = await self._hold_of(tx, user, token)
            if hold is None or hold["state"] == "confirmed":
                return SeatAnswer("refused", token, reason="no live hold with that token")
            if hold["state"] == "held":
                for seat in hold["seats"]:
                    key = _seat_key(hold["show"], seat)
                    current = await tx.get(key)
                    if current is not None and current["token"] == token:
                        await tx.put(key, None)
                await tx.put(f"hold:{token}", {**hold, "state": "released"})
        return SeatAnswer("released", token, hold["seats"])

    async def expire(self) -> None:
        now = self.clock.now()
        for key, record in await self.store.scan("seat:"):
            if record is not None and not _live(record, now):
                await self.store.compare_and_set(key, record, None)

    async def seat_map(self, show: str) -> dict[str, SeatState]:
        now = self.clock.now()
        found = {}
        for key, record in await self.store.scan(f"seat:{show}/"):
            if _live(record, now):
                state = "confirmed" if record["confirmed"] else "held"
                found[key.rsplit("/", 1)[1]] = SeatState(state, record["user"])
        return found
