"""Every seats invariant catches a hand-written history that breaks it, and passes a good one.

Histories are built by hand (not by running the harness), so each rule is shown to have
teeth: a checker that cannot fail is worse than none.
"""

from razorlab.labs.history import Event, History
from razorlab.labs.invariants import explain
from razorlab.labs.seats import SeatAnswer, SeatsFinal, SeatState
from razorlab.labs.seats_invariants import (
    SEAT_INVARIANTS,
    confirmed_seats_survive_crash,
    expired_or_released_hold_frees_seats,
    hold_is_all_or_nothing,
    seat_confirmed_once,
    stale_token_is_refused,
)

SHOW = "show1"


def request(op, t, user, args, answer=None, *, attempt=0, kind="ok", copies=1, took=0.01):
    """invoke → delivery (×copies) → completion events of one attempt of op ``op``."""
    lane = f"client {user[1:]}"
    events = [Event(t, lane, "invoke", "", key=f"k{op}", op=op, attempt=attempt,
                    value=(("args", args),))]  # fmt: skip
    events += [Event(t + 0.001, "service", "deliver", "", key=f"k{op}", op=op, attempt=attempt)
               for _ in range(copies)]  # fmt: skip
    if kind == "ok":
        events.append(Event(t + took, lane, "ok", str(answer), key=f"k{op}", op=op,
                            attempt=attempt, value=(("result", answer),)))  # fmt: skip
    elif kind:
        events.append(Event(t + took, lane, kind, "", key=f"k{op}", op=op, attempt=attempt))
    return events


def hold(op, t, user, seats, token=None, **kw):
    answer = SeatAnswer("held", token, tuple(seats)) if token else SeatAnswer("refused")
    return request(op, t, user, (user, SHOW, tuple(seats)), answer, **kw)


def confirm(op, t, user, token, seats, ok=True, **kw):
    answer = SeatAnswer("confirmed", token, tuple(seats)) if ok else SeatAnswer("refused")
    return request(op, t, user, (user, token), answer, **kw)


def release(op, t, user, token, seats, **kw):
    return request(op, t, user, (user, token), SeatAnswer("released", token, tuple(seats)), **kw)


def run(*parts, methods, seats=None):
    events = sorted((e for part in parts for e in part), key=lambda e: e.t)
    final = SeatsFinal({(SHOW, s): v for s, v in (seats or {}).items()}, methods)
    return History(tuple(events)), final


# u1 holds A1+A2 and confirms; u2 is refused while that hold lives, then holds A3 and
# releases it; u3 holds A3 after the release.
GOOD = run(
    hold(1, 0.0, "u1", ("A1", "A2"), "t1"),
    confirm(2, 1.0, "u1", "t1", ("A1", "A2")),
    hold(3, 0.5, "u2", ("A2",)),
    hold(4, 2.0, "u2", ("A3",), "t2"),
    release(5, 3.0, "u2", "t2", ("A3",)),
    hold(6, 4.0, "u3", ("A3",), "t3"),
    methods={1: "hold", 2: "confirm", 3: "hold", 4: "hold", 5: "release", 6: "hold"},
    seats={"A1": SeatState("confirmed", "u1"), "A2": SeatState("confirmed", "u1")},
)


def test_a_correct_run_breaks_no_invariant():
    for invariant in SEAT_INVARIANTS:
        assert invariant(*GOOD) == [], invariant.__name__


def test_two_users_confirmed_on_one_seat_is_a_double_sale():
    h, f = run(
        hold(1, 0, "u1", ("A1",), "t1"), hold(3, 0, "u2", ("A1", "A2"), "t2"),
        confirm(2, 1, "u1", "t1", ("A1",)), confirm(4, 1, "u2", "t2", ("A1", "A2")),
        methods={1: "hold", 2: "confirm", 3: "hold", 4: "confirm"},
        seats={"A1": SeatState("confirmed", "u2"), "A2": SeatState("confirmed", "u2")},
    )  # fmt: skip
    problems = seat_confirmed_once(h, f)
    assert problems[0].startswith("seat A1 was confirmed for u1") and "u2" in problems[0]
    assert any("final seat map gives it to u2" in p for p in problems)


def test_a_confirm_after_the_ttl_is_stale_even_if_the_seats_are_free():
    h, f = run(hold(1, 0, "u1", ("A1",), "t1"), confirm(2, 45, "u1", "t1", ("A1",)),
               methods={1: "hold", 2: "confirm"},
               seats={"A1": SeatState("confirmed", "u1")})  # fmt: skip
    (problem,) = stale_token_is_refused(h, f)
    assert "expired by t=30.010s" in problem
    assert seat_confirmed_once(h, f) == [], "one user: not a double sale"


def test_a_confirm_after_a_release_or_with_an_unissued_token_is_refused():
    h, f = run(hold(1, 0, "u1", ("A1",), "t1"), release(2, 1, "u1", "t1", ("A1",)),
               confirm(3, 2, "u1", "t1", ("A1",)), confirm(4, 2, "u2", "forged", ("A2",)),
               methods={1: "hold", 2: "release", 3: "confirm", 4: "confirm"})  # fmt: skip
    problems = stale_token_is_refused(h, f)
    assert any("after it was released" in p for p in problems)
    assert any("forged, which no hold answer issued" in p for p in problems)


def test_a_retry_of_a_timely_confirm_may_answer_confirmed_after_the_ttl():
    h, f = run(hold(1, 0, "u1", ("A1",), "t1"),
               confirm(2, 1, "u1", "t1", ("A1",), kind="info"),
               confirm(2, 40, "u1", "t1", ("A1",), attempt=1),
               methods={1: "hold", 2: "confirm"},
               seats={"A1": SeatState("confirmed", "u1")})  # fmt: skip
    assert stale_token_is_refused(h, f) == []


def test_a_partial_hold_and_leftovers_of_a_refused_hold_break_all_or_nothing():
    h, f = run(request(1, 0, "u1", ("u1", SHOW, ("A1", "A2")), SeatAnswer("held", "t1", ("A1",))),
               methods={1: "hold"})  # fmt: skip
    assert "asked for A1, A2 and was told held A1" in hold_is_all_or_nothing(h, f)[0]
    # u1 is refused A1+A2 (A2 taken) but keeps A1; u2 is then refused A1.
    h, f = run(hold(1, 0, "u3", ("A2",), "t0"), hold(2, 1, "u1", ("A1", "A2")),
               hold(3, 2, "u2", ("A1",)), methods={1: "hold", 2: "hold", 3: "hold"})  # fmt: skip
    (problem,) = hold_is_all_or_nothing(h, f)
    assert "u2 was refused A1" in problem and "another refused hold" in problem
    h, f = run(hold(1, 0, "u1", ("A1",)), methods={1: "hold"},
               seats={"A1": SeatState("confirmed", "u1")})  # fmt: skip
    assert "none of their granted holds" in hold_is_all_or_nothing(h, f)[0]


def test_a_refusal_after_the_hold_expired_or_was_released_is_caught():
    expired = run(hold(1, 0, "u1", ("A1",), "t1"), hold(2, 40, "u2", ("A1",)),
                  methods={1: "hold", 2: "hold"})  # fmt: skip
    released = run(hold(1, 0, "u1", ("A1",), "t1"), release(2, 1, "u1", "t1", ("A1",)),
                   hold(3, 5, "u2", ("A1",)),
                   methods={1: "hold", 2: "release", 3: "hold"})  # fmt: skip
    for h, f in (expired, released):
        (problem,) = expired_or_released_hold_frees_seats(h, f)
        assert "u2 was refused A1" in problem and "expired or been released" in problem
    h, f = run(hold(1, 0, "u1", ("A1",), "t1"), methods={1: "hold"},
               seats={"A1": SeatState("held", "u1")})  # fmt: skip
    assert "still held by u1" in expired_or_released_hold_frees_seats(h, f)[0]


def test_a_hold_whose_answer_was_lost_may_keep_its_seats_for_a_while():
    # u1's hold timed out (maybe granted at any time while being served); u2 refused soon after.
    h, f = run(hold(1, 0, "u1", ("A1",), kind="info", took=10), hold(2, 40, "u2", ("A1",)),
               methods={1: "hold", 2: "hold"})  # fmt: skip
    assert expired_or_released_hold_frees_seats(h, f) == []
    # a duplicated delivery may have granted after u3's hold expired, though u1 saw "refused"
    h, f = run(hold(3, 0, "u3", ("A1",), "t3"), hold(1, 1, "u1", ("A1",), copies=2),
               hold(2, 35, "u2", ("A1",)), methods={1: "hold", 2: "hold", 3: "hold"})  # fmt: skip
    assert expired_or_released_hold_frees_seats(h, f) == []
    assert hold_is_all_or_nothing(h, f) == []


def test_a_forgotten_confirmation_is_caught():
    h, f = run(hold(1, 0, "u1", ("A1", "A2"), "t1"), confirm(2, 1, "u1", "t1", ("A1", "A2")),
               methods={1: "hold", 2: "confirm"},
               seats={"A1": SeatState("confirmed", "u1")})  # fmt: skip
    (problem,) = confirmed_seats_survive_crash(h, f)
    assert problem == "seat A2: u1 was told confirmed, after the restart: free"


def test_every_seat_invariant_explains_itself_in_one_sentence():
    for invariant in SEAT_INVARIANTS:
        assert explain(invariant).endswith("."), invariant.__name__
