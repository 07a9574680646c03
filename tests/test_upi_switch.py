"""The UPI switch: states and codes, status checks, reversals, limits, idempotency, audit."""

import pytest

from razorlab.clock import ManualClock
from razorlab.errors import ConflictError, ValidationError
from razorlab.money import InvalidAmount
from razorlab.upi.network import STATUS_CHECKS_S, NetworkModel
from razorlab.upi.switch import (
    CATEGORY_LIMITS_PAISE,
    PER_TXN_LIMIT_PAISE,
    UpiEvent,
    UpiSwitch,
    UpiTransaction,
)
from razorlab.upi.vpa import InvalidVpa

SLOW = NetworkModel(remitter_median_s=9, beneficiary_median_s=7)  # many timeouts


@pytest.fixture
def switch():
    return UpiSwitch(seed=3, clock=ManualClock())


def test_pay_succeeds_after_the_network_answers(switch):
    txn = switch.pay("T1", "alice@okaxis", "bob@ybl", 5_000)
    assert txn.state == "INITIATED"
    switch.clock.advance(15)
    assert (switch.status("T1").state, txn.code) == ("SUCCESS", "00")


def test_timeouts_resolve_only_at_status_check_times():
    sw = UpiSwitch(SLOW, seed=1, clock=ManualClock())
    txns = [sw.pay(f"T{i}", f"u{i}@okaxis", "bob@ybl", 100) for i in range(40)]
    sw.clock.advance(15)
    stuck = [t for t in sw.transactions() if t.state in ("PENDING", "DEEMED")]
    assert stuck, "a slow network leaves some payments pending or deemed"
    allowed = {*STATUS_CHECKS_S, 86_400.0}
    for t in txns:
        final = t.timeline[-1]
        if len(t.timeline) == 3:
            assert final.at - t.timeline[0].at in allowed
            assert final.state in ("SUCCESS", "FAILURE", "REVERSED")
            assert t.timeline[1].code in ("01", "RB")
    sw.clock.advance(86_400)
    assert all(t.state in ("SUCCESS", "FAILURE", "REVERSED") for t in sw.transactions())


def test_deemed_payments_are_reversed_within_tat_or_compensated():
    txn = UpiTransaction("X", "pay", "a@b", "c@d", 100, False, [
        UpiEvent(0.0, "INITIATED", "", ""),
        UpiEvent(15.0, "DEEMED", "RB", ""),
        UpiEvent(3 * 86_400.0, "REVERSED", "RB", ""),
    ])  # fmt: skip
    assert txn.reversal_delay_days() == 3
    assert txn.compensation_paise() == 2 * 10_000, "₹100 per day after T+1 for P2P"
    txn.merchant = True
    assert txn.compensation_paise() == 0, "merchant TAT is T+5"


def test_retried_txn_id_does_not_pay_twice(switch):
    first = switch.pay("T1", "alice@okaxis", "bob@ybl", 5_000)
    again = switch.pay("T1", "ALICE@okaxis", "bob@ybl", 5_000)
    assert again is first and len(switch.transactions()) == 1
    with pytest.raises(ConflictError):
        switch.pay("T1", "alice@okaxis", "bob@ybl", 6_000)


def test_per_transaction_and_category_limits(switch):
    over = switch.pay("T1", "alice@okaxis", "bob@ybl", PER_TXN_LIMIT_PAISE + 1)
    assert (over.state, over.code) == ("FAILURE", "Z8")
    ipo = switch.pay(
        "T2",
        "alice@okaxis",
        "ipo@hdfcbank",
        CATEGORY_LIMITS_PAISE["ipo"],
        category="ipo",
        merchant=True,
    )
    assert ipo.code != "Z8"


def test_daily_amount_and_count_limits():
    sw = UpiSwitch(seed=3, clock=ManualClock(), daily_count_limit=3)
    codes = [sw.pay(f"T{i}", "alice@okaxis", "bob@ybl", 100).code for i in range(4)]
    assert codes[3] == "Z7" and "Z7" not in codes[:3]
    sw2 = UpiSwitch(seed=3, clock=ManualClock(), daily_limit_paise=10_000)
    assert sw2.pay("A", "alice@okaxis", "bob@ybl", 6_000).code != "Z7"
    assert sw2.pay("B", "alice@okaxis", "bob@ybl", 6_000).code == "Z7"


def test_wrong_pin_and_expired_collect(switch):
    assert switch.pay("T1", "alice@okaxis", "bob@ybl", 100, pin_ok=False).code == "ZM"
    txn = switch.collect("C1", "shop@ybl", "alice@okaxis", 100, approve_after_s=None)
    switch.clock.advance(30 * 60)
    assert (switch.status("C1").state, txn.code) == ("FAILURE", "U69")


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("T9", "alice", "bob@ybl", 100), InvalidVpa),
        (("T9", "alice@okaxis", "bob@ybl", 0), InvalidAmount),
        (("T9", "alice@okaxis", "bob@ybl", -100), InvalidAmount),
        (("T9", "alice@okaxis", "bob@ybl", 1.5), InvalidAmount),
        (("T9", "alice@okaxis", "Alice@OKAXIS", 100), ValidationError),
        (("", "alice@okaxis", "bob@ybl", 100), ValidationError),
    ],
)
def test_bad_requests_raise_and_record_nothing(switch, args, error):
    with pytest.raises(error):
        switch.pay(*args)
    assert switch.transactions() == [] and len(switch.audit) == 0


def test_every_state_change_is_in_the_verified_audit_log():
    sw = UpiSwitch(SLOW, seed=2, clock=ManualClock())
    for i in range(10):
        sw.pay(f"T{i}", f"u{i}@okaxis", "bob@ybl", 100)
    sw.clock.advance(90_000)
    txns = sw.transactions()
    assert len(sw.audit) == sum(len(t.timeline) for t in txns)
    assert sw.audit.verify().ok


def test_listed_categories_allow_five_lakh_since_september_2025(switch):
    five_lakh = 5 * PER_TXN_LIMIT_PAISE
    assert CATEGORY_LIMITS_PAISE["capital_markets"] == five_lakh
    assert CATEGORY_LIMITS_PAISE["insurance"] == five_lakh
    txn = switch.pay(
        "CM1", "ravi@okhdfc", "broker@hdfcbank", 4_00_00_000, category="capital_markets"
    )
    switch.clock.advance(15)
    assert txn.code != "Z8", "₹4 lakh for capital markets is within the ₹5 lakh limit"
