"""The simulation harness: seeded loop, virtual time, durable store, crashes, determinism."""

import asyncio
import random

import pytest

from razorlab.labs import (
    Fault,
    Op,
    Plan,
    ReferenceLedger,
    ReferencePayments,
    ReferenceSeats,
    SeatAnswer,
    SeedPayments,
    check,
    generate,
    run_plan,
)
from razorlab.labs.harness import SimClock, clock_slack
from razorlab.labs.history import Event, History
from razorlab.labs.ledger import generate as ledger_plans
from razorlab.labs.loop import Deadlock, SimLoop, StepBudgetExceeded
from razorlab.labs.payments import PAYMENTS
from razorlab.labs.process import Crashed, Process
from razorlab.labs.seats import SEATS_LAB
from razorlab.labs.seats import generate as seat_plans
from razorlab.labs.seats_invariants import seat_confirmed_once
from razorlab.labs.shrink import shrink
from razorlab.labs.store import DurableStore


def _run(coro_fn, seed=1, **kwargs):
    loop = SimLoop(random.Random(seed), **kwargs)
    try:
        return loop.run_until_complete(coro_fn()), loop
    finally:
        loop.close()


def test_same_seed_gives_the_same_history_bit_for_bit():
    for run in range(5):
        plan = generate(3, run)
        first = run_plan(PAYMENTS, SeedPayments, plan).history
        again = run_plan(PAYMENTS, SeedPayments, plan).history
        assert first == again and first.digest() == again.digest()


def test_other_seeds_give_other_interleavings():
    orders = set()
    for seed in range(8):

        async def race():
            seen = []

            async def worker(name):
                for _ in range(3):
                    seen.append(name)
                    await asyncio.sleep(0)

            await asyncio.gather(*(worker(n) for n in "abc"))
            return "".join(seen)

        orders.add(_run(race, seed)[0])
    assert len(orders) > 1, "the ready queue order should depend on the seed"


def test_sleeping_moves_virtual_time_not_the_wall_clock():
    async def nap():
        await asyncio.sleep(600)
        return asyncio.get_running_loop().time()

    now, loop = _run(nap)
    assert now == 600.0 and loop.steps < 10


def test_a_run_where_everything_waits_forever_is_a_deadlock_not_a_hang():
    async def stuck():
        await asyncio.get_running_loop().create_future()

    with pytest.raises(Deadlock):
        _run(stuck)


def test_spinning_on_sleep_zero_hits_the_step_budget():
    async def spin():
        while True:
            await asyncio.sleep(0)

    with pytest.raises(StepBudgetExceeded):
        _run(spin, max_steps=1_000)


def test_only_committed_writes_survive_a_crash():
    disk = DurableStore()
    process = Process(1, lambda p, what: None)

    async def work():
        store = disk.handle(process)
        await store.put("a", {"n": 1})
        tx = store.transaction()
        await tx.__aenter__()
        await tx.put("b", 2)
        process.alive = False  # the crash: the transaction never commits
        disk.crash()
        with pytest.raises(Crashed):
            await store.put("c", 3)

    _run(work)
    assert disk.snapshot() == {"a": {"n": 1}}


def test_values_are_copied_in_and_out_of_the_store():
    disk = DurableStore()
    process = Process(1, lambda p, what: None)

    async def work():
        store = disk.handle(process)
        value = {"n": 1}
        await store.put("a", value)
        value["n"] = 2
        got = await store.get("a")
        got["n"] = 3
        return await store.get("a")

    assert _run(work)[0] == {"n": 1}


def test_a_crash_after_the_bank_charged_restarts_the_service_and_reconciles():
    plan = Plan(5, (Op(1, 1, "create_payment", "k1", (49_900,)),), (Fault("crash", 3),))
    result = run_plan(PAYMENTS, ReferencePayments, plan)
    kinds = [e.kind for e in result.history]
    assert "crash" in kinds and "restart" in kinds
    assert kinds.index("charge") < kinds.index("crash") < kinds.index("restart")
    assert [c.state for c in result.final.charges] == ["success"]
    assert result.final.payments["k1"].status == "captured"


def test_the_seed_design_loses_the_charge_when_it_crashes_before_commit():
    plan = Plan(5, (Op(1, 1, "create_payment", "k1", (49_900,)),), (Fault("crash", 3),))
    result = run_plan(PAYMENTS, SeedPayments, plan)
    charges = [c for c in result.final.charges if c.state == "success"]
    assert len(charges) == 2, "the crash erased the record, so the retry charged again"


# -- clock jumps: the service's wall clock steps, true time does not -------------------------


def test_a_clock_step_moves_the_wall_clock_not_virtual_time():
    clock = SimClock()

    async def stepped():
        before = clock.now()
        clock.step(-20)
        await clock.sleep(5)  # a monotonic wait: 5 s of virtual time whatever the clock did
        return before, clock.now(), asyncio.get_running_loop().time()

    (before, after, virtual), _ = _run(stepped)
    assert before == SimClock.EPOCH_S and after == SimClock.EPOCH_S - 15 and virtual == 5.0
    assert Fault("clock_jump", 1_500, -20).describe() == (
        "at t=1500ms the service's wall clock steps by -20 s (true time does not)"
    )


def test_the_slack_is_the_total_of_the_backward_steps_so_far():
    jumps = History(tuple(Event(t, "harness", "clock_jump", "", value=(("step_s", s),))
                          for t, s in ((1.0, -5), (2.0, 8), (3.0, -7))))  # fmt: skip
    assert clock_slack(jumps) == 12.0 and clock_slack(jumps, until=2.5) == 5.0
    assert clock_slack(History(())) == 0.0


def test_both_labs_generate_clock_jumps_both_ways_and_the_references_pass_them():
    for plans_of in (seat_plans, ledger_plans):
        steps = [f.b for run in range(60) for f in plans_of(0, run).faults
                 if f.kind == "clock_jump"]  # fmt: skip
        assert min(steps) < 0 < max(steps), steps
    for lab, impl in (("seats", ReferenceSeats), ("ledger", ReferenceLedger)):
        assert check(impl, lab=lab, runs=150, seed=5, shrink=False).passed


class ConfirmTrustsTheClock(ReferenceSeats):
    """Confirms while ``now < until`` without looking at the seats' token: no fencing."""

    async def confirm(self, request_id, user, token):
        async with self.store.transaction() as tx:
            hold = await self._hold_of(tx, user, token)
            if hold is None or hold["state"] != "held" or self.clock.now() >= hold["until"]:
                return SeatAnswer("refused", token, reason="no live hold")
            for seat in hold["seats"]:
                await tx.put(f"seat:{hold['show']}/{seat}", {"token": token, "user": user,
                             "until": hold["until"], "confirmed": True})  # fmt: skip
            await tx.put(f"hold:{token}", {**hold, "state": "confirmed"})
        return SeatAnswer("confirmed", token, hold["seats"])


def dawdler_and_a_step_back(*faults):
    """u1 holds A1 and comes back after 35 s; u2 holds A1 at 32 s (u1's hold has expired)
    and confirms; the service's clock steps back 10 s at 33 s, before u1's confirm."""
    ops = (Op(1, 1, "hold", "k1", ("show1", ("A1",))), Op(2, 1, "wait", "k2", (35_000,)),
           Op(3, 1, "confirm", "k3", ()), Op(4, 2, "wait", "k4", (32_000,)),
           Op(5, 2, "hold", "k5", ("show1", ("A1",))), Op(6, 2, "confirm", "k6", ()))  # fmt: skip
    return Plan(1, ops, faults)


def test_a_confirm_that_trusts_the_clock_sells_a_seat_twice_after_a_step_back():
    plan = dawdler_and_a_step_back(Fault("clock_jump", 33_000, -10))
    result = run_plan(SEATS_LAB, ConfirmTrustsTheClock, plan)
    problems = seat_confirmed_once(result.history, result.final)
    assert problems and problems[0].startswith("seat A1 was confirmed for u1 (t=35."), problems
    assert "clock_jump" in [e.kind for e in result.history], "the counterexample shows the step"
    steady = run_plan(SEATS_LAB, ConfirmTrustsTheClock, dawdler_and_a_step_back())
    assert not seat_confirmed_once(steady.history, steady.final), "without the step it is right"
    fenced = run_plan(SEATS_LAB, ReferenceSeats, plan)
    assert not seat_confirmed_once(fenced.history, fenced.final), "fencing refuses u1's token"
    assert [e.get("result").status for e in fenced.history.of_kind("ok") if e.op == 3] == [
        "refused"
    ]

    def attempt(candidate):
        got = run_plan(SEATS_LAB, ConfirmTrustsTheClock, candidate)
        broken = got.final is not None and seat_confirmed_once(got.history, got.final)
        return len(got.history) if broken else None

    assert shrink(plan, attempt).plan.faults == plan.faults, "the step is part of the cause"
