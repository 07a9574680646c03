"""The seats lab's invariants: small pure functions over (history, final seat map).

Scenario: after a run of colliding users, retries, crashes and users who dawdled past the
hold's TTL, was the box office correct? Each rule is one sentence a ticketing interviewer
asks about, judged from what users were *told* (``ok`` answers) and the seat map a fresh
instance shows at the end.

Design note. Like :mod:`~razorlab.labs.invariants`, every checker is
``(history, final) -> list[str]``, pure, and tested against hand-written histories that
break it. The checker must never blame a correct service for the network's doing, so it
is conservative about what *might* have happened: an attempt that timed out, had its
reply lost or was delivered twice may have been granted, from its delivery until
:data:`~razorlab.labs.harness.OP_BUDGET_S` later plus the TTL; a granted hold is live at
most until its answer's time plus the TTL (the service granted it before answering), or
until a release of its token was acknowledged; a confirm that might have happened holds
its seats forever. :data:`GRACE_S` absorbs the gap between a service's clock read and its
answer. A refusal is wrong only when every requested seat was certainly free (never for a
request delivered twice: its other copy may be the holder). A hold expires by the service's
own clock, which a backward clock jump sets behind true time: every "expired by" bound
allows :func:`~razorlab.labs.harness.clock_slack` more (the rules about who owns a seat read
no clock, so they need none).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from razorlab.labs.harness import OP_BUDGET_S, SETTLE_S, clock_slack
from razorlab.labs.history import History
from razorlab.labs.seats import HOLD_TTL_S, SeatAnswer, SeatsFinal

__all__ = [
    "GRACE_S",
    "SEAT_INVARIANTS",
    "SeatInvariant",
    "seat_confirmed_once",
    "stale_token_is_refused",
    "hold_is_all_or_nothing",
    "expired_or_released_hold_frees_seats",
    "confirmed_seats_survive_crash",
]

GRACE_S = 1.0  # seconds of slack between a service's clock read and its answer
INF = float("inf")

SeatInvariant = Callable[[History, SeatsFinal], list[str]]


@dataclass
class _Attempt:
    """One attempt of one request, as the history shows it."""

    op: int
    method: str
    args: tuple[object, ...]
    invoked: float
    delivered: list[float] = field(default_factory=list)
    kind: str | None = None  # ok | fail | info | None (the run ended first)
    answer: SeatAnswer | None = None
    done: float = INF

    @property
    def user(self) -> str:
        return str(self.args[0])

    @property
    def token(self) -> str | None:
        return str(self.args[1]) if self.method != "hold" and len(self.args) > 1 else None

    @property
    def seats(self) -> tuple[str, ...]:
        return tuple(self.args[2]) if self.method == "hold" else ()  # type: ignore[arg-type]

    def answered(self, status: str) -> bool:
        return self.kind == "ok" and self.answer is not None and self.answer.status == status

    @property
    def maybe_happened(self) -> bool:
        """Delivered, and not *certainly* refused (one delivery, answered ``refused``)."""
        return bool(self.delivered) and not (len(self.delivered) == 1 and self.answered("refused"))


@dataclass
class _Run:
    attempts: list[_Attempt]
    holds: dict[str, _Attempt]  # token -> first attempt told "held" with it
    released_at: dict[str, float]  # token -> first acknowledged release
    maybe_confirmed: set[str]  # tokens some confirm might have confirmed
    confirm_invoked: dict[str, float]  # token -> earliest invoke of a confirm with it
    ttl: float = HOLD_TTL_S  # the longest a hold may live in true time: TTL + clock slack


def _parse(history: History, final: SeatsFinal) -> _Run:
    attempts: dict[tuple[int, int], _Attempt] = {}
    for e in history:
        if e.op is None or e.attempt is None:
            continue
        at = (e.op, e.attempt)
        if e.kind == "invoke":
            args = e.get("args")
            method = final.methods.get(e.op, "")
            attempts[at] = _Attempt(e.op, method, args if isinstance(args, tuple) else (), e.t)
        elif at in attempts:
            a = attempts[at]
            if e.kind == "deliver":
                a.delivered.append(e.t)
            elif e.kind in ("ok", "fail", "info") and a.kind is None:
                a.kind, a.done = e.kind, e.t
                result = e.get("result")
                a.answer = result if isinstance(result, SeatAnswer) else None
    run = _Run(list(attempts.values()), {}, {}, set(), {}, HOLD_TTL_S + clock_slack(history))
    for a in run.attempts:
        if a.method == "hold" and a.answered("held") and a.answer and a.answer.token:
            run.holds.setdefault(a.answer.token, a)
        elif a.method == "release" and a.answered("released") and a.token:
            run.released_at[a.token] = min(run.released_at.get(a.token, INF), a.done)
        elif a.method == "confirm" and a.token:
            if a.maybe_happened:
                run.maybe_confirmed.add(a.token)
            run.confirm_invoked[a.token] = min(run.confirm_invoked.get(a.token, INF), a.invoked)
    return run


def _seats_of(run: _Run, token: str | None, answer: SeatAnswer | None) -> tuple[str, ...]:
    hold = run.holds.get(token or "")
    return hold.seats if hold is not None else (answer.seats if answer else ())


def _told_confirmed(run: _Run) -> list[tuple[_Attempt, str]]:
    """(confirm attempt, seat) for every seat a user was told is confirmed for them."""
    return [
        (a, seat)
        for a in run.attempts
        if a.method == "confirm" and a.answered("confirmed")
        for seat in _seats_of(run, a.token, a.answer)
    ]


def _show_of(run: _Run, token: str | None) -> str:
    hold = run.holds.get(token or "")
    return str(hold.args[1]) if hold is not None else ""


def seat_confirmed_once(history: History, final: SeatsFinal) -> list[str]:
    """A seat is never confirmed for two users.

    The box office's one job: a seat sold twice is two people at one seat and a refund.
    Every user told ``confirmed`` for a seat must be the same user, and the final seat map
    must not give a confirmed seat to anyone else.
    """
    run = _parse(history, final)
    told: dict[str, dict[str, float]] = defaultdict(dict)
    problems = []
    for a, seat in _told_confirmed(run):
        told[seat].setdefault(a.user, a.done)
        now = final.seats.get((_show_of(run, a.token), seat))
        if now is not None and now.state == "confirmed" and now.user != a.user:
            problems.append(f"seat {seat}: {a.user} was told confirmed (t={a.done:.3f}s), "
                            f"the final seat map gives it to {now.user}")  # fmt: skip
    double = [
        f"seat {seat} was confirmed for "
        + " and ".join(f"{u} (t={t:.3f}s)" for u, t in sorted(users.items()))
        for seat, users in sorted(told.items())
        if len(users) > 1
    ]
    return double + problems


def stale_token_is_refused(history: History, final: SeatsFinal) -> list[str]:
    """A confirm with a stale hold token (expired or released) is refused.

    A token is a *fencing* token: once its hold has expired or been released, the seats
    may belong to someone else, so a user who comes back late must be told to hold again —
    even if, by luck, nobody took the seats meanwhile.
    """
    run = _parse(history, final)
    problems = []
    for a in run.attempts:
        if a.method != "confirm" or not a.answered("confirmed") or a.token is None:
            continue
        first = run.confirm_invoked[a.token]
        hold = run.holds.get(a.token)
        if hold is None:
            problems.append(f"{a.user} confirmed token {a.token}, which no hold answer issued")
        elif first > hold.done + run.ttl + GRACE_S:
            expired = hold.done + run.ttl
            problems.append(f"{a.user} confirmed token {a.token} (first sent t={first:.3f}s), "
                            f"but that hold expired by t={expired:.3f}s")  # fmt: skip
        elif first > run.released_at.get(a.token, INF):
            released = run.released_at[a.token]
            problems.append(f"{a.user} confirmed token {a.token} (first sent t={first:.3f}s) "
                            f"after it was released (t={released:.3f}s)")  # fmt: skip
    return list(dict.fromkeys(problems))


def _window(run: _Run, a: _Attempt) -> tuple[float, float]:
    """When hold attempt ``a`` may have kept its seats: (from, until), virtual seconds."""
    start = min(a.delivered)
    siblings = [b for b in run.attempts if b.op == a.op and b.answer and b.answer.token]
    if any(b.answer.token in run.maybe_confirmed for b in siblings):  # type: ignore[union-attr]
        return start, INF
    if a.answered("held") and a.answer is not None and a.answer.token is not None:
        return start, min(a.done + run.ttl, run.released_at.get(a.answer.token, INF))
    return start, max(a.delivered) + OP_BUDGET_S + run.ttl


def _refusals(run: _Run) -> list[tuple[_Attempt, str]]:
    """Each refused hold whose seats were all certainly free, and why: ``free`` or ``partial``.

    ``partial``: a seat's only possible occupant was another request that was only ever
    refused — leftovers of a hold that was not all-or-nothing.
    """
    granted_ops = {a.op for a in run.attempts if a.method == "hold" and a.maybe_happened}
    found = []
    for r in run.attempts:
        if r.method != "hold" or not r.answered("refused") or len(r.delivered) != 1:
            continue  # delivered twice: its own other copy may hold the seats
        begin, end = min(r.delivered), r.done
        verdicts = []
        for seat in r.seats:
            busy = partial = False
            for a in run.attempts:
                if a is r or a.method != "hold" or seat not in a.seats or not a.delivered:
                    continue
                if a.maybe_happened:
                    frm, until = _window(run, a)
                    busy |= frm <= end and until + GRACE_S >= begin
                elif a.op not in granted_ops | {r.op} and min(a.delivered) <= end:
                    partial |= max(a.delivered) + OP_BUDGET_S + run.ttl + GRACE_S >= begin
            verdicts.append("busy" if busy else "partial" if partial else "free")
        if "busy" not in verdicts:
            found.append((r, "partial" if "partial" in verdicts else "free"))
    return found


def hold_is_all_or_nothing(history: History, final: SeatsFinal) -> list[str]:
    """A hold is all-or-nothing: every requested seat, or none of them.

    Holding some seats of a group booking strands the rest of the group, and a refused
    hold that leaves seats behind blocks other users for a whole TTL. A ``held`` or
    ``confirmed`` answer covers exactly the seats asked for, a refused hold leaves nothing,
    and a user ends up confirmed only on seats one of their holds asked for.
    """
    run = _parse(history, final)
    problems = []
    for a in run.attempts:
        asked = _seats_of(run, a.token, None) if a.method == "confirm" else a.seats
        for status in ("held", "confirmed"):
            if a.answered(status) and a.answer and asked and set(a.answer.seats) != set(asked):
                problems.append(f"{a.user} asked for {', '.join(asked)} and was told {status} "
                                f"{', '.join(a.answer.seats) or 'no seats'}")  # fmt: skip
    for r, why in _refusals(run):
        if why == "partial":
            problems.append(f"{r.user} was refused {', '.join(r.seats)} (t={r.done:.3f}s); "
                            "only another refused hold could be holding them")  # fmt: skip
    for (_, seat), state in sorted(final.seats.items()):
        mine = [a for a in run.attempts
                if a.method == "hold" and a.user == state.user and seat in a.seats
                and a.maybe_happened]  # fmt: skip
        if state.state == "confirmed" and not mine:
            problems.append(f"seat {seat} ends confirmed for {state.user}, "
                            "though none of their granted holds asked for it")  # fmt: skip
    return problems


def expired_or_released_hold_frees_seats(history: History, final: SeatsFinal) -> list[str]:
    """An expired or released hold frees its seats.

    A hold is a loan with a deadline: once it passed its TTL or its user released it, the
    next user asking for those seats must get them, and after every hold has expired the
    seat map shows only confirmed seats.
    """
    run = _parse(history, final)
    problems = [
        f"{r.user} was refused {', '.join(r.seats)} (t={r.done:.3f}s) though every hold on "
        "them had expired or been released"
        for r, why in _refusals(run)
        if why == "free"
    ]
    if run.ttl + GRACE_S < SETTLE_S:  # else a hold may outlive the settle by the service's clock
        problems += [
            f"seat {seat} is still held by {state.user} after every hold expired"
            for (_, seat), state in sorted(final.seats.items())
            if state.state != "confirmed"
        ]
    return problems


def confirmed_seats_survive_crash(history: History, final: SeatsFinal) -> list[str]:
    """Every seat a user was told is confirmed stays confirmed after a crash and restart.

    A confirmation is a ticket in the user's inbox; a restarted service that has forgotten
    it will sell the seat again.
    """
    run = _parse(history, final)
    problems = []
    for a, seat in _told_confirmed(run):
        now = final.seats.get((_show_of(run, a.token), seat))
        if now is None or now.state != "confirmed":
            shown = now.state if now else "free"
            problems.append(f"seat {seat}: {a.user} was told confirmed, after the restart: {shown}")
    return list(dict.fromkeys(problems))


SEAT_INVARIANTS: tuple[SeatInvariant, ...] = (
    seat_confirmed_once,
    stale_token_is_refused,
    hold_is_all_or_nothing,
    expired_or_released_hold_frees_seats,
    confirmed_seats_survive_crash,
)
