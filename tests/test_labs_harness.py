"""The simulation harness: seeded loop, virtual time, durable store, crashes, determinism."""

import asyncio
import random

import pytest

from razorlab.labs import Fault, Op, Plan, ReferencePayments, SeedPayments, generate, run_plan
from razorlab.labs.loop import Deadlock, SimLoop, StepBudgetExceeded
from razorlab.labs.payments import PAYMENTS
from razorlab.labs.process import Crashed, Process
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
