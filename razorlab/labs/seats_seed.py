"""The seed's seat-locking design, rebuilt for the lab so the checker can break it.

The seed's ``SeatLockManager.LockSeats`` (read in the course's seed text, paraphrased
here): for each requested seat, a plain Redis ``SET seat:locked:<show>:<seat> = user``
with a ten-minute TTL — no ``NX``, so it overwrites whoever holds the seat — then return
a freshly made lock id that is stored nowhere. ``CreateBooking`` then confirms the
booking without looking at the seats again, and ``UnlockSeats`` deletes the keys. The
checker finds, in a few steps:

* two users hold the same seat (the second ``SET`` silently takes it) and both confirm:
  one seat sold twice;
* a user who comes back after the TTL confirms anyway: the lock id is not a token anything
  checks, so nothing fences a stale confirm;
* a release deletes the seat keys even when someone else holds them now.

``expire()`` does nothing (Redis expires keys by itself), which is modelled by
``seat_map`` ignoring locks past their TTL.
"""

from __future__ import annotations

from razorlab.labs.harness import SimClock
from razorlab.labs.seats import HOLD_TTL_S, SeatAnswer, SeatState
from razorlab.labs.store import Store

__all__ = ["SeedSeats"]


class SeedSeats:
    """Per-seat plain ``SET`` with a TTL; confirm and release trust the booking record."""

    def __init__(self, store: Store, clock: SimClock) -> None:
        self.store, self.clock = store, clock

    async def hold(
        self, request_id: str, user: str, show: str, seats: tuple[str, ...]
    ) -> SeatAnswer:
        until = self.clock.now() + HOLD_TTL_S
        for seat in seats:  # SET key user EX 600 — no NX: the last writer wins
            await self.store.put(f"seat:{show}/{seat}", {"user": user, "until": until})
        lock_id = f"lock_{request_id}"  # the seed's generateUUID(): checked by nobody
        await self.store.put(f"booking:{lock_id}", {"user": user, "show": show, "seats": seats})
        return SeatAnswer("held", lock_id, tuple(seats))

    async def confirm(self, request_id: str, user: str, token: str) -> SeatAnswer:
        booking = await self.store.get(f"booking:{token}")
        if booking is None:
            return SeatAnswer("refused", reason="no such booking")
        for seat in booking["seats"]:  # booking.Status = "confirmed"; seats not re-checked
            record = {"user": booking["user"], "until": None, "confirmed": True}
            await self.store.put(f"seat:{booking['show']}/{seat}", record)
        return SeatAnswer("confirmed", token, tuple(booking["seats"]))

    async def release(self, request_id: str, user: str, token: str) -> SeatAnswer:
        booking = await self.store.get(f"booking:{token}")
        if booking is None:
            return SeatAnswer("refused", reason="no such booking")
        for seat in booking["seats"]:  # UnlockSeats: DEL, whoever holds the seat now
            await self.store.put(f"seat:{booking['show']}/{seat}", None)
        return SeatAnswer("released", token, tuple(booking["seats"]))

    async def expire(self) -> None:
        return None  # Redis expires keys by itself

    async def seat_map(self, show: str) -> dict[str, SeatState]:
        now = self.clock.now()
        found = {}
        for key, record in await self.store.scan(f"seat:{show}/"):
            if record and (record.get("confirmed") or record["until"] > now):
                state = "confirmed" if record.get("confirmed") else "held"
                found[key.rsplit("/", 1)[1]] = SeatState(state, record["user"])
        return found
