"""The ledger lab: the reference passes, the seed's check-then-act fails in a few steps, runs
replay bit for bit, each invariant catches a hand-written state that breaks it, and known-buggy
ledgers are each caught by the rule they break."""

import pytest

from razorlab.labs import (
    LEDGER_INVARIANTS,
    AccountBalance,
    Fault,
    Op,
    Plan,
    ReferenceLedger,
    SeedLedger,
    TransferResult,
    check,
)
from razorlab.labs.harness import run_plan
from razorlab.labs.history import Event, History
from razorlab.labs.invariants import explain
from razorlab.labs.ledger import LEDGER_LAB, LedgerFinal, generate
from razorlab.labs.ledger_invariants import (
    acknowledged_transfer_survives_crash,
    balance_within_limit,
    balances_match_transfers,
    money_is_conserved,
    retry_returns_first_answer,
    transfer_applied_at_most_once,
)


def test_the_reference_implementation_passes_many_seeds():
    for seed in (0, 1, 2):
        verdict = check(ReferenceLedger, lab="ledger", runs=150, seed=seed, shrink=False)
        assert verdict.passed, str(verdict)
    assert verdict.exit_code == 0 and "ledger lab" in str(verdict)


def test_the_seed_design_moves_money_twice_for_one_id_in_a_handful_of_steps():
    verdict = check(SeedLedger, lab="ledger", runs=100, seed=0)
    assert verdict.status == "failed" and verdict.exit_code == 1
    assert verdict.invariant == "transfer_applied_at_most_once"
    assert len(verdict.history) <= 8, verdict.timeline()
    assert verdict.original_events > len(verdict.history)
    plan = verdict.plan
    assert len(plan.ops) == 1 and plan.ops[0].replays == 1 and not plan.faults, plan.describe()
    text = str(verdict)
    assert "A transfer id moves money at most once." in text and " 1. t=" in text


def test_the_seed_design_also_creates_money_on_other_seeds():
    broken = {check(SeedLedger, lab="ledger", runs=100, seed=s, shrink=False).invariant
              for s in range(1, 8)}  # fmt: skip
    assert {"money_is_conserved", "transfer_applied_at_most_once"} <= broken, broken


def test_the_same_seed_replays_the_same_run_bit_for_bit():
    plan = generate(3, 5)
    assert plan == generate(3, 5) and plan != generate(3, 6)
    first = run_plan(LEDGER_LAB, ReferenceLedger, plan)
    again = run_plan(LEDGER_LAB, ReferenceLedger, plan)
    assert first.error is None and first.history.digest() == again.history.digest()
    one = check(SeedLedger, lab="ledger", runs=20, seed=4)
    assert str(one) == str(check(SeedLedger, lab="ledger", runs=20, seed=4))
    assert run_plan(LEDGER_LAB, SeedLedger, one.plan).history == one.history, "the plan replays"


def test_the_workload_collides_on_accounts_under_every_fault():
    plans = [generate(0, run) for run in range(60)]
    assert {"crash", "duplicate", "lose_reply"} <= {f.kind for p in plans for f in p.faults}
    assert all(len(p.clients()) >= 2 for p in plans)
    debits = [op.args[0] for p in plans for op in p.ops]
    assert {"cash", "a", "b", "c"} <= set(debits), "every account pays somewhere"
    assert any(op.replays for p in plans for op in p.ops)


def test_the_counterexample_draws_with_a_lane_per_client():
    fig = check(SeedLedger, lab="ledger", runs=5, seed=0).figure()
    lanes = list(fig.layout.yaxis.ticktext)
    assert "client 1" in lanes and "service" in lanes


# -- each invariant against hand-written states --------------------------------------------
ASKED = {"k1": ("cash", "a", 10_000), "k2": ("a", "b", 4_000), "k3": ("a", "c", 9_000)}


def answered(op, t, result, attempt=0):
    key = f"k{op}"
    return [Event(t, f"client {op}", "invoke", "", key=key, op=op, attempt=attempt,
                  value=(("args", ASKED[key]),)),
            Event(t + 0.01, f"client {op}", "ok", str(result), key=key, op=op, attempt=attempt,
                  value=(("result", result),))]  # fmt: skip


def posted(key):
    return TransferResult(key, "posted")


def refused(key):
    return TransferResult(key, "refused", "insufficient funds")


GOOD_BALANCES = {"cash": AccountBalance(10_000, 0), "a": AccountBalance(4_000, 10_000),
                 "b": AccountBalance(0, 4_000)}  # fmt: skip
GOOD_TRANSFERS = {"k1": posted("k1"), "k2": posted("k2"), "k3": refused("k3")}
GOOD_EVENTS = (
    answered(1, 0.0, posted("k1"))
    + answered(2, 1.0, posted("k2"))
    + answered(3, 2.0, refused("k3"))
)


def state(events=GOOD_EVENTS, balances=GOOD_BALANCES, transfers=GOOD_TRANSFERS):
    return History(tuple(events)), LedgerFinal(balances, transfers, ASKED)


def test_a_good_run_breaks_no_invariant():
    history, final = state()
    assert not any(inv(history, final) for inv in LEDGER_INVARIANTS)


@pytest.mark.parametrize(
    ("invariant", "bad", "message"),
    [
        (transfer_applied_at_most_once,
         state(balances={**GOOD_BALANCES, "a": AccountBalance(8_000, 10_000),
                         "b": AccountBalance(0, 8_000)}),
         "k2 (a → b ₹40.00) was applied 2 times"),
        (money_is_conserved, state(balances={**GOOD_BALANCES, "b": AccountBalance(0, 0)}),
         "Σ debits ₹140.00 ≠ Σ credits ₹100.00"),
        (balance_within_limit,
         state(balances={**GOOD_BALANCES, "a": AccountBalance(13_000, 10_000),
                         "c": AccountBalance(0, 9_000)},
               transfers={**GOOD_TRANSFERS, "k3": posted("k3")}),
         "account a ends at −₹30.00, below its limit of ₹0.00"),
        (acknowledged_transfer_survives_crash,
         state(transfers={**GOOD_TRANSFERS, "k2": None}), "k2: client was told posted"),
        (retry_returns_first_answer,
         state(events=GOOD_EVENTS + answered(3, 5.0, posted("k3"), attempt=1)),
         "k3: first told refused, then posted"),
        (retry_returns_first_answer, state(transfers={**GOOD_TRANSFERS, "k3": None}),
         "k3: first told refused, the ledger's record at the end: none"),
        (balances_match_transfers,
         state(balances={**GOOD_BALANCES, "a": AccountBalance(0, 10_000),
                         "b": AccountBalance(0, 0)}), "account a: debits are ₹0.00"),
    ],
)  # fmt: skip
def test_each_invariant_catches_a_state_that_breaks_it(invariant, bad, message):
    problems = invariant(*bad)
    assert problems and message in problems[0], problems
    assert explain(invariant).endswith(".")


# -- known-buggy ledgers, each caught by the rule it breaks --------------------------------
class NoIdLookup(ReferenceLedger):
    """Atomic and recorded, but never looks the id up: a duplicate moves money again."""

    async def transfer(self, transfer_id, debit, credit, amount_paise):
        async with self.store.transaction() as tx:
            await tx.put(f"transfer:{transfer_id}", None)
        return await super().transfer(transfer_id, debit, credit, amount_paise)


class ChecksOutsideTheTransaction(ReferenceLedger):
    """Reads the payer's balance first, then moves money in a transaction that trusts it."""

    async def transfer(self, transfer_id, debit, credit, amount_paise):
        payer = await self.store.get(f"account:{debit}") or {"debits": 0, "credits": 0}
        floor = self.accounts[debit]
        short = floor is not None and payer["credits"] - payer["debits"] - amount_paise < floor
        async with self.store.transaction() as tx:
            if (done := await tx.get(f"transfer:{transfer_id}")) is not None:
                return TransferResult(**done)
            if not short:
                for name, side in ((debit, "debits"), (credit, "credits")):
                    account = await self._account(tx, name)
                    await tx.put(f"account:{name}", {**account, side: account[side] + amount_paise})
            result = TransferResult(transfer_id, "refused" if short else "posted")
            await tx.put(f"transfer:{transfer_id}", result.__dict__)
        return result


class ForgetsRefusals(ReferenceLedger):
    """Records only posted transfers: a retried refusal is judged afresh."""

    async def transfer(self, transfer_id, debit, credit, amount_paise):
        result = await super().transfer(transfer_id, debit, credit, amount_paise)
        if result.status == "refused":
            await self.store.put(f"transfer:{transfer_id}", None)
        return result


def test_each_known_bug_is_caught_by_the_rule_it_breaks():
    expected = {NoIdLookup: "transfer_applied_at_most_once",
                ChecksOutsideTheTransaction: "balance_within_limit",
                ForgetsRefusals: "retry_returns_first_answer"}  # fmt: skip
    for impl, rule in expected.items():
        verdict = check(impl, lab="ledger", runs=200, seed=1)
        assert verdict.invariant == rule, str(verdict)
        assert len(verdict.history) <= 16, verdict.timeline()


def test_an_answer_written_only_in_memory_does_not_survive_the_crash():
    class AnswersFromMemory(ReferenceLedger):
        async def transfer(self, transfer_id, debit, credit, amount_paise):
            return TransferResult(transfer_id, "posted")

    plan = Plan(1, (Op(1, 1, "transfer", "k1", ("cash", "a", 10_000)),))
    result = run_plan(LEDGER_LAB, AnswersFromMemory, plan)
    assert acknowledged_transfer_survives_crash(result.history, result.final)


def test_a_class_that_does_not_fit_the_ledger_interface_is_bad_input():
    class TakesAClock(ReferenceLedger):
        def __init__(self, store, accounts, clock): ...

    verdict = check(TakesAClock, lab="ledger", runs=1)
    assert verdict.status == "bad_input" and verdict.exit_code == 2
    assert "(store, accounts) must accept exactly those two arguments" in str(verdict)

    class AnswersAString(ReferenceLedger):
        async def transfer(self, transfer_id, debit, credit, amount_paise):
            return "ok"

    plan = Plan(1, (Op(1, 1, "transfer", "k1", ("cash", "a", 100)),), (Fault("crash", 99),))
    result = run_plan(LEDGER_LAB, AnswersAString, plan)
    assert result.error is not None and "must return a TransferResult" in result.error.message

    class ListsBalances(ReferenceLedger):
        async def balances(self):
            return [1, 2]

    verdict = check(ListsBalances, lab="ledger", runs=1)
    assert verdict.status == "bad_input" and "balances()" in str(verdict)
