"""Learner code that misfits, raises, hangs, spins or blocks gets a clear verdict, never a hang."""

import asyncio
import time

import pytest

from razorlab.labs import PaymentResult, ReferencePayments, check


class Raises(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        raise KeyError("oops")


class HangsInSimulatedTime(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        await asyncio.get_running_loop().create_future()  # never resolves


class SleepsForever(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        while True:
            await self.clock.sleep(1)


class Spins(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        while True:
            await asyncio.sleep(0)


class BlocksForReal(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        time.sleep(30)  # blocks the event loop: the point of the test
        return PaymentResult("p", "captured", amount_paise)


class BusyLoops(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        while True:
            pass


class WrongReturn(ReferencePayments):
    async def create_payment(self, key, amount_paise):
        return {"status": "captured"}


class BadInit(ReferencePayments):
    def __init__(self, store, bank, clock):
        raise RuntimeError("cannot start")


class SyncMethod(ReferencePayments):
    def create_payment(self, key, amount_paise):
        return None


class Missing:
    def __init__(self, store, bank, clock): ...

    async def create_payment(self, key, amount_paise): ...


class WrongInit(ReferencePayments):
    def __init__(self, store): ...


@pytest.mark.parametrize(
    ("impl", "kind", "says"),
    [
        (Missing, "interface", "no method `get_payment`"),
        (SyncMethod, "interface", "must be an `async def`"),
        (WrongInit, "interface", "(store, bank, clock)"),
        ("not a class", "interface", "expected a class"),
        (Raises, "raised", "KeyError"),
        (BadInit, "raised", "cannot start"),
        (WrongReturn, "interface", "must return a PaymentResult"),
        (HangsInSimulatedTime, "hang", "simulated time"),
        (SleepsForever, "hang", "simulated time"),
        (Spins, "livelock", "scheduling steps"),
    ],
)
def test_bad_classes_get_a_verdict_naming_what_went_wrong(impl, kind, says):
    verdict = check(impl, runs=3)
    assert verdict.status == "bad_input" and verdict.exit_code == 2
    assert verdict.error.kind == kind and says in str(verdict), str(verdict)


def test_the_verdict_names_the_operation_that_misbehaved():
    verdict = check(Raises, runs=1)
    assert verdict.error.operation.startswith("create_payment(k")


@pytest.mark.parametrize("impl", [BlocksForReal, BusyLoops])
def test_blocking_for_real_is_cut_off_by_the_wall_clock_cap(impl):
    verdict = check(impl, runs=1, wall_cap_s=0.3)
    assert verdict.error.kind == "blocked", str(verdict)
    assert "create_payment" in verdict.error.operation
    assert "real time" in verdict.error.message


def test_bad_arguments_to_check_are_refused():
    with pytest.raises(ValueError):
        check(ReferencePayments, lab="nosuch")
    with pytest.raises(ValueError):
        check(ReferencePayments, runs=0)
    with pytest.raises(ValueError):
        check(ReferencePayments, seed=-1)
