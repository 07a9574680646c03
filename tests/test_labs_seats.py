"""The seat-holds lab: the reference passes, the seed's per-seat SET fails in a few steps,
runs replay bit for bit, and known-buggy designs are each caught by the rule they break."""

from razorlab.labs import Fault, Op, Plan, ReferenceSeats, SeatAnswer, SeedSeats, check
from razorlab.labs.harness import run_plan
from razorlab.labs.seats import HOLD_TTL_S, SEATS_LAB, generate


def test_the_reference_implementation_passes_200_runs():
    verdict = check(ReferenceSeats, lab="seats", runs=200, seed=0)
    assert verdict.passed, str(verdict)
    assert verdict.exit_code == 0 and "seats lab" in str(verdict)


def test_the_seed_design_sells_one_seat_to_two_users_in_a_handful_of_steps():
    verdict = check(SeedSeats, lab="seats", runs=200, seed=0)
    assert verdict.status == "failed" and verdict.exit_code == 1
    assert verdict.invariant == "seat_confirmed_once"
    assert len(verdict.history) <= 14, verdict.timeline()
    assert verdict.original_events > len(verdict.history)
    plan = verdict.plan
    assert len(plan.clients()) == 2 and len(plan.ops) <= 4 and not plan.faults, plan.describe()
    text = str(verdict)
    assert "A seat is never confirmed for two users." in text and " 1. t=" in text


def test_the_same_seed_replays_the_same_run_bit_for_bit():
    plan = generate(3, 5)
    assert plan == generate(3, 5) and plan != generate(3, 6)
    first = run_plan(SEATS_LAB, ReferenceSeats, plan)
    again = run_plan(SEATS_LAB, ReferenceSeats, plan)
    assert first.error is None and first.history.digest() == again.history.digest()
    one, two = (
        check(SeedSeats, lab="seats", runs=20, seed=4),
        check(SeedSeats, lab="seats", runs=20, seed=4),
    )
    assert str(one) == str(two)
    assert run_plan(SEATS_LAB, SeedSeats, one.plan).history == one.history, (
        "the shrunk plan replays"
    )


def test_the_workload_has_collisions_crashes_duplicates_and_users_who_dawdle():
    plans = [generate(0, run) for run in range(60)]
    kinds = {f.kind for p in plans for f in p.faults}
    assert {"crash", "duplicate", "lose_reply"} <= kinds
    assert all(len(p.clients()) >= 2 for p in plans)
    waits = [op.args[0] for p in plans for op in p.ops if op.method == "wait"]
    assert max(waits) > HOLD_TTL_S * 1000, "some users come back after their hold expired"
    assert {op.method for p in plans for op in p.ops} == {"hold", "wait", "confirm", "release"}


def test_the_counterexample_draws_with_a_lane_per_user():
    fig = check(SeedSeats, lab="seats", runs=5, seed=0).figure()
    lanes = list(fig.layout.yaxis.ticktext)
    assert "client 1" in lanes and "client 2" in lanes and "service" in lanes


class NoFencing(ReferenceSeats):
    """Confirms any hold it finds, however old, without checking the seats' token."""

    async def confirm(self, request_id, user, token):
        hold = await self.store.get(f"hold:{token}")
        if hold is None:
            return SeatAnswer("refused")
        for seat in hold["seats"]:
            record = {"token": token, "user": user, "until": 0, "confirmed": True}
            await self.store.put(f"seat:{hold['show']}/{seat}", record)
        await self.store.put(f"hold:{token}", {**hold, "state": "confirmed"})
        return SeatAnswer("confirmed", token, hold["seats"])


class NeverFrees(ReferenceSeats):
    """Treats any seat record as taken: an expired hold blocks its seats for ever."""

    async def hold(self, request_id, user, show, seats):
        for seat in seats:
            record = await self.store.get(f"seat:{show}/{seat}")
            if record is not None and not record["confirmed"]:
                return SeatAnswer("refused", reason="taken")
        return await super().hold(request_id, user, show, seats)

    async def expire(self):
        return None


class SeatBySeat(ReferenceSeats):
    """Claims seats one at a time and keeps what it got when a later seat is taken."""

    async def hold(self, request_id, user, show, seats):
        now, token = self.clock.now(), f"{show}-{request_id}"
        for seat in seats:
            key = f"seat:{show}/{seat}"
            current = await self.store.get(key)
            if current and (current["confirmed"] or current["until"] > now):
                return SeatAnswer("refused")
            record = {"token": token, "user": user, "until": now + HOLD_TTL_S, "confirmed": False}
            if not await self.store.compare_and_set(key, current, record):
                return SeatAnswer("refused")
        hold = {"user": user, "show": show, "seats": tuple(seats), "until": now + HOLD_TTL_S}
        await self.store.put(f"hold:{token}", {**hold, "state": "held"})
        return SeatAnswer("held", token, tuple(seats))


def test_each_known_bug_is_caught_by_the_rule_it_breaks():
    expected = {NoFencing: "stale_token_is_refused",
                NeverFrees: "expired_or_released_hold_frees_seats",
                SeatBySeat: "hold_is_all_or_nothing"}  # fmt: skip
    for impl, rule in expected.items():
        verdict = check(impl, lab="seats", runs=200, seed=1)
        assert verdict.invariant == rule, str(verdict)
        assert len(verdict.history) <= 12, verdict.timeline()


def test_a_class_that_does_not_fit_the_seats_interface_is_bad_input():
    class TakesABank(ReferenceSeats):
        def __init__(self, store, bank, clock): ...

    verdict = check(TakesABank, lab="seats", runs=1)
    assert verdict.status == "bad_input" and verdict.exit_code == 2
    assert "(store, clock) must accept exactly those two arguments" in str(verdict)

    class Raises(ReferenceSeats):
        async def hold(self, request_id, user, show, seats):
            raise KeyError(seats)

    verdict = check(Raises, lab="seats", runs=1)
    assert (
        verdict.status == "bad_input" and "KeyError" in str(verdict) and "in hold(k" in str(verdict)
    )

    class AnswersAString(ReferenceSeats):
        async def confirm(self, request_id, user, token):
            return "ok"

    plan = Plan(1, (Op(1, 1, "hold", "k1", ("show1", ("A1",))), Op(2, 1, "confirm", "k2", ())),
                (Fault("crash", 99),))  # fmt: skip
    result = run_plan(SEATS_LAB, AnswersAString, plan)
    assert result.error is not None and "must return a SeatAnswer" in result.error.message


def test_a_seat_map_of_the_wrong_shape_is_bad_input_naming_the_call():
    class ListsSeats(ReferenceSeats):
        async def seat_map(self, show):
            return ["A1"]

    verdict = check(ListsSeats, lab="seats", runs=1)
    assert verdict.status == "bad_input" and "seat_map(show1)" in str(verdict)
