"""Every payments invariant catches a hand-written history that breaks it, and passes a good one.

A checker that cannot fail is worse than none, so each rule gets its own known-bad
histories (Maelstrom's lesson) — built by hand here, not by running the harness.
"""

from razorlab.labs.bank import BankCharge
from razorlab.labs.history import Event, History
from razorlab.labs.invariants import (
    PAYMENT_INVARIANTS,
    acknowledged_outcomes_survive_crash,
    explain,
    money_matches_records,
    one_charge_per_key,
    replay_returns_first_answer,
)
from razorlab.labs.payments import PaymentResult, PaymentsFinal

CAPTURED = PaymentResult("pay_k1", "captured", 49_900)
PENDING = PaymentResult("pay_k1", "pending", 49_900)
DECLINED = PaymentResult("pay_k1", "declined", 49_900)


def invoke(t: float, key: str = "k1", amount: int = 49_900) -> Event:
    return Event(t, "client 1", "invoke", "create", key=key, op=1, value=(("args", (amount,)),))


def ok(t: float, result: PaymentResult, key: str = "k1") -> Event:
    return Event(t, "client 1", "ok", str(result), key=key, op=1, value=(("result", result),))


def history(*events: Event) -> History:
    return History(tuple(events))


def charge(n: int, state: str = "success", key: str | None = "k1", ref: str = "pay_k1",
           amount: int = 49_900) -> BankCharge:  # fmt: skip
    return BankCharge(f"ch{n}", ref, amount, key, state)


GOOD = (
    history(invoke(0), ok(1, PENDING), invoke(2), ok(3, CAPTURED), invoke(4), ok(5, CAPTURED)),
    PaymentsFinal({"k1": CAPTURED}, (charge(1, "declined"), charge(2))),
)


def test_a_correct_run_breaks_no_invariant():
    for invariant in PAYMENT_INVARIANTS:
        assert invariant(*GOOD) == [], invariant.__name__


def test_two_successful_charges_for_one_key_is_a_double_charge():
    final = PaymentsFinal({"k1": CAPTURED}, (charge(1), charge(2)))
    (problem,) = one_charge_per_key(history(invoke(0), ok(1, CAPTURED)), final)
    assert "k1 was charged 2 times" in problem


def test_a_keyless_charge_from_reconcile_is_attributed_through_its_reference():
    final = PaymentsFinal({"k1": CAPTURED}, (charge(1), charge(2, key=None)))
    assert one_charge_per_key(history(invoke(0), ok(1, CAPTURED)), final)
    # and through the payment id a client was told, when no keyed charge names it
    final = PaymentsFinal({"k1": CAPTURED}, (charge(1, key=None), charge(2, key=None)))
    assert one_charge_per_key(history(invoke(0), ok(1, CAPTURED)), final)


def test_declined_charges_are_not_double_charges():
    final = PaymentsFinal({"k1": CAPTURED}, (charge(1, "declined"), charge(2)))
    assert one_charge_per_key(history(), final) == []


def test_a_replay_with_another_payment_id_breaks_the_first_answer_rule():
    other = PaymentResult("pay_other", "captured", 49_900)
    h = history(invoke(0), ok(1, CAPTURED), invoke(2), ok(3, other))
    assert "first answer was" in replay_returns_first_answer(h, GOOD[1])[0]


def test_a_final_answer_that_changes_breaks_the_first_answer_rule():
    h = history(invoke(0), ok(1, DECLINED), invoke(2), ok(3, CAPTURED))
    assert "told declined, later told captured" in replay_returns_first_answer(h, GOOD[1])[0]
    h = history(invoke(0), ok(1, CAPTURED), invoke(2), ok(3, PENDING))
    assert replay_returns_first_answer(h, GOOD[1]), "captured then pending goes backwards"


def test_pending_may_become_final():
    h = history(invoke(0), ok(1, PENDING), invoke(2), ok(3, DECLINED))
    assert replay_returns_first_answer(h, GOOD[1]) == []


def test_an_acknowledged_capture_missing_after_the_restart_is_caught():
    h = history(invoke(0), ok(1, CAPTURED))
    (problem,) = acknowledged_outcomes_survive_crash(h, PaymentsFinal({"k1": None}, ()))
    assert "no record" in problem
    (problem,) = acknowledged_outcomes_survive_crash(h, PaymentsFinal({"k1": PENDING}, ()))
    assert "after the restart: pending" in problem


def test_a_timeout_promises_nothing():
    h = history(invoke(0), Event(10, "client 1", "info", "timeout", key="k1", op=1))
    assert acknowledged_outcomes_survive_crash(h, PaymentsFinal({"k1": None}, ())) == []


def test_money_taken_without_a_capture_record_is_caught():
    final = PaymentsFinal({"k1": DECLINED}, (charge(1),))
    assert (
        "the bank took ₹499.00 (ch1) but the service says declined"
        in money_matches_records(history(invoke(0)), final)[0]
    )
    final = PaymentsFinal({"k1": None}, (charge(1),))
    assert "no record" in money_matches_records(history(invoke(0)), final)[0]


def test_a_capture_with_no_money_or_the_wrong_amount_is_caught():
    final = PaymentsFinal({"k1": CAPTURED}, (charge(1, "declined"),))
    assert "bank took nothing" in money_matches_records(history(invoke(0)), final)[0]
    final = PaymentsFinal({"k1": CAPTURED}, (charge(1, amount=100),))
    assert "charged ₹1.00" in money_matches_records(history(invoke(0)), final)[0]


def test_every_invariant_explains_itself_in_one_sentence():
    for invariant in PAYMENT_INVARIANTS:
        assert explain(invariant).endswith("."), invariant.__name__
