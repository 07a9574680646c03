"""Lab 2, seat holds: the interface the learner implements and the workload it faces.

Scenario: a show's hall has a handful of seats and two or three users want overlapping
ones at the same moment. A user *holds* seats (all of them or none), spends a while on
the payment page, then *confirms* with the hold's token or *releases* it. A hold lives
:data:`HOLD_TTL_S`; a user who takes longer finds it gone. Replies are lost and retried,
requests arrive twice, the service crashes and restarts from its store. A correct service
never confirms a seat for two users, frees expired and released holds, refuses a confirm
whose token is stale (fencing), and holds all requested seats or none.

**The interface** (any class with this shape; a fresh instance is built after every
crash, so nothing in ``self`` survives one)::

    class MySeats:
        def __init__(self, store, clock): ...
        async def hold(self, request_id: str, user: str, show: str,
                       seats: tuple[str, ...]) -> SeatAnswer: ...   # held (token) | refused
        async def confirm(self, request_id: str, user: str, token: str) -> SeatAnswer: ...
        async def release(self, request_id: str, user: str, token: str) -> SeatAnswer: ...
        async def expire(self) -> None: ...        # after every restart, and at the end
        async def seat_map(self, show: str) -> dict[str, SeatState]: ...  # live seats only

* ``store``: :class:`~razorlab.labs.store.Store` (``get``/``put``/``put_if_absent``/
  ``compare_and_set``/``scan`` and ``transaction()``) — the only thing that survives a crash.
* ``clock``: ``now()`` in simulated epoch seconds. A hold whose TTL has passed is free,
  whether or not ``expire()`` has swept it yet.
* ``request_id`` is the same on every retry and duplicate of one request.
* ``SeatAnswer(status, token, seats, reason)``: ``hold`` answers ``held`` (with a token
  and the seats) or ``refused``; ``confirm`` answers ``confirmed`` (with the seats) or
  ``refused``; ``release`` answers ``released`` or ``refused``.

Design note: :data:`HOLD_TTL_S` is the seed's ten-minute lock scaled to 30 s so that the
harness's final settle (60 s) outlives every hold; only its ratio to the users' think time
matters. The checker judges only what users were told and the final seat map, never the
learner's storage layout.

Clock jumps: in some runs the service's clock steps 5–20 s forwards or backwards (an NTP
step; :mod:`~razorlab.labs.harness`). Who owns a seat must not depend on it: a stale token
is refused because the seats no longer carry it (fencing), not because ``now >= until`` — a
confirm that trusts only the clock sells a seat twice after a backward step. A hold expires
by the service's own clock, so the expiry rules allow the backward steps' total as slack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any

from razorlab.labs.harness import World
from razorlab.labs.plan import Fault, Op, Plan, maybe_clock_jump
from razorlab.labs.seats_world import SeatsWorld
from razorlab.rand import py_random

__all__ = [
    "HOLD_TTL_S",
    "SEATS",
    "SEATS_LAB",
    "SHOW",
    "SeatAnswer",
    "SeatState",
    "SeatsFinal",
    "SeatsLab",
    "generate",
]

HOLD_TTL_S = 30.0  # seconds a hold lives (the seed's 10 minutes, scaled; see the docstring)
SHOW = "show1"
SEATS = ("A1", "A2", "A3", "A4")  # a small hall, so users collide
QUICK_MS = (200, 3_000)  # a user who pays promptly thinks this long, milliseconds
SLOW_MS = (31_000, 45_000)  # a user who dawdles past HOLD_TTL_S, milliseconds
CLOCK_JUMP_ODDS = 0.3  # runs whose service clock steps (see harness: clock jumps)
METHODS = ("hold", "confirm", "release", "expire", "seat_map")
ANSWERS = {"hold": ("held", "refused"), "confirm": ("confirmed", "refused"),
           "release": ("released", "refused")}  # fmt: skip


@dataclass(frozen=True)
class SeatAnswer:
    """What the service answers: a status, the hold token, the seats it covers, and why."""

    status: str
    token: str | None = None
    seats: tuple[str, ...] = ()
    reason: str = ""

    def __str__(self) -> str:
        seats = f" {', '.join(self.seats)}" if self.seats else ""
        token = f" (token {self.token})" if self.token else ""
        why = f": {self.reason}" if self.reason else ""
        return f"{self.status}{seats}{token}{why}"


@dataclass(frozen=True)
class SeatState:
    """One live seat in ``seat_map``: ``held`` or ``confirmed``, and for whom."""

    state: str
    user: str


@dataclass(frozen=True)
class SeatsFinal:
    """Judged after the final crash, settle, restart and ``expire()``.

    ``seats``: ``(show, seat) -> SeatState`` from a fresh instance's ``seat_map``;
    ``methods``: op id -> method, so checkers can tell a confirm from a release.
    """

    seats: Mapping[tuple[str, str], SeatState]
    methods: Mapping[int, str]


def generate(seed: int, run: int) -> Plan:
    """Run ``run`` of a check seeded with ``seed``: 2–3 users, 1–2 hold → (think) → confirm
    or release sessions each over overlapping seats, plus duplicates, lost replies, crashes
    and, in some runs, a step of the service's clock."""
    r = py_random(seed, f"labs/seats/plan/{run}")
    ops: list[Op] = []

    def add(client: int, method: str, args: tuple[object, ...], replays: int = 0) -> None:
        n = len(ops) + 1
        ops.append(Op(n, client, method, f"k{n}", args, replays))

    for client in range(1, r.randint(2, 3) + 1):
        for _ in range(r.randint(1, 2)):
            first = r.randrange(len(SEATS))
            seats = SEATS[first : first + r.randint(1, 2)]
            add(client, "hold", (SHOW, seats), 1 if r.random() < 0.15 else 0)
            if r.random() < 0.6:
                low, high = SLOW_MS if r.random() < 0.35 else QUICK_MS
                add(client, "wait", (r.randint(low, high),))
            method = "release" if r.random() < 0.2 else "confirm"
            add(client, method, (), 1 if r.random() < 0.15 else 0)
    faults: list[Fault] = []
    for op in ops:
        if op.method != "wait":
            for attempt in (0, 1):
                if r.random() < 0.1:
                    faults.append(Fault("duplicate", op.id, attempt))
                if r.random() < 0.1:
                    faults.append(Fault("lose_reply", op.id, attempt))
    for odds in (0.5, 0.2):
        if r.random() < odds:
            faults.append(Fault("crash", r.randint(1, 6 * len(ops))))
    seed = r.randrange(2**32)
    return Plan(seed, tuple(ops), (*faults, *maybe_clock_jump(r, CLOCK_JUMP_ODDS, 60_000)))


class SeatsLab:
    """The harness's view of the seats lab (see :class:`~razorlab.labs.harness.LabSpec`)."""

    name = "seats"
    methods = METHODS
    constructor = ("store", "clock")
    world = SeatsWorld
    generate = staticmethod(generate)

    def call(self, service: Any, op: Op) -> Awaitable[Any]:
        return getattr(service.inner, op.method)(op.key, *op.args)

    def check_result(self, op: Op, result: Any) -> str | None:
        if not isinstance(result, SeatAnswer):
            return f"must return a SeatAnswer, got {type(result).__name__} {result!r}"
        allowed = ANSWERS[op.method]
        if result.status not in allowed:
            return f"{op.method} must answer one of {allowed}, got {result.status!r}"
        if result.status == "held" and not isinstance(result.token, str):
            return f"a `held` answer needs a str token, got {result.token!r}"
        if not isinstance(result.seats, tuple) or not all(isinstance(s, str) for s in result.seats):
            return f"seats must be a tuple of str, got {result.seats!r}"
        return None

    def describe_op(self, op: Op) -> str:
        user, *rest = op.args
        if op.method == "hold":
            show, seats = rest
            return f"{user}: hold {', '.join(seats)} of {show} ({op.key})"  # type: ignore[arg-type]
        return f"{user}: {op.method} token {rest[0]} ({op.key})"

    def describe_result(self, result: Any) -> str:
        return str(result)

    async def read_back(self, world: World, service: Any) -> SeatsFinal:
        process = world.process
        assert process is not None
        seats: dict[tuple[str, str], SeatState] = {}
        shows = sorted({str(op.args[0]) for op in world.plan.ops if op.method == "hold"})
        for show in shows:
            label = f"seat_map({show}) after the final restart"
            got = await world.guarded(process, label, lambda s=show: service.inner.seat_map(s))
            if not isinstance(got, Mapping) or not all(
                isinstance(k, str) and isinstance(v, SeatState) for k, v in got.items()
            ):
                world.fail_interface(label, f"must return a dict of seat -> SeatState, got {got!r}")
                got = {}
            seats.update({(show, k): v for k, v in sorted(got.items())})
        shown = ", ".join(f"{s} {v.state} by {v.user}" for (_, s), v in seats.items()) or "none"
        world.recorder.record(
            "harness", "final", f"final crash, settle, restart, expire(): live seats: {shown}"
        )
        return SeatsFinal(seats, {op.id: op.method for op in world.plan.ops})


SEATS_LAB = SeatsLab()
