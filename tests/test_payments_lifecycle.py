"""The payment state machine: only the moves in TRANSITIONS happen; money never exceeds bounds."""

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from razorlab.money import Money
from razorlab.payments.payment import (
    FINAL_STATUSES,
    TRANSITIONS,
    IllegalTransition,
    Payment,
    PaymentStatus,
    RefundTooLarge,
    authorize,
    auto_refund,
    capture,
    fail,
    refund,
    release_refund,
)

S = PaymentStatus


def _new(amount: int = 10_000) -> Payment:
    return Payment(id="pay_test", merchant_id="mer_test", amount=Money(amount), method="upi")


class Lifecycle(RuleBasedStateMachine):
    """Random sequences of operations; a shadow model predicts which must succeed."""

    def __init__(self):
        super().__init__()
        self.p = _new()
        self.history = [self.p.status]

    def _attempt(self, op, target, *args, **kwargs):
        before = self.p
        legal = target in TRANSITIONS[before.status]
        try:
            self.p = op(before, *args, **kwargs)
        except (IllegalTransition, RefundTooLarge):
            assert self.p is before
            return False
        assert legal, f"{op.__name__} moved {before.status} -> {self.p.status} illegally"
        assert self.p.status in TRANSITIONS[before.status]
        self.history.append(self.p.status)
        return True

    @rule()
    def do_authorize(self):
        before = self.p.status
        assert self._attempt(authorize, S.AUTHORIZED, at=1.0, bank_reference="B1") == (
            before is S.CREATED
        )

    @rule()
    def do_fail(self):
        self._attempt(fail, S.FAILED, code="X", description="declined")

    @rule()
    def do_capture(self):
        self._attempt(capture, S.CAPTURED, at=2.0)

    @rule(paise=st.integers(min_value=-5, max_value=12_000))
    def do_refund(self, paise):
        before = self.p
        try:
            self.p = refund(before, Money(paise))
        except (IllegalTransition, RefundTooLarge):
            assert (
                before.status not in (S.CAPTURED, S.PARTIALLY_REFUNDED)
                or paise <= 0
                or paise > before.refundable
            ), "a valid refund of captured money was refused"
            return
        assert before.status in (S.CAPTURED, S.PARTIALLY_REFUNDED)
        assert self.p.amount_refunded == before.amount_refunded + paise
        self.history.append(self.p.status)

    @rule()
    def do_auto_refund(self):
        self._attempt(auto_refund, S.REFUNDED)

    @invariant()
    def refunds_stay_within_the_amount(self):
        assert 0 <= self.p.amount_refunded <= self.p.amount.paise

    @invariant()
    def refunded_means_everything_returned(self):
        if self.p.status is S.REFUNDED:
            assert self.p.amount_refunded == self.p.amount.paise

    @invariant()
    def final_statuses_are_never_left(self):
        for earlier, later in zip(self.history, self.history[1:], strict=False):
            assert earlier not in FINAL_STATUSES or earlier == later


Lifecycle.TestCase.settings = settings(max_examples=40, stateful_step_count=15, deadline=None)
test_lifecycle_state_machine = Lifecycle.TestCase


def test_capture_of_a_created_payment_is_a_typed_422():
    with pytest.raises(IllegalTransition) as err:
        capture(_new(), at=0.0)
    assert err.value.http_status == 422 and err.value.code == "INVALID_PAYMENT_STATE"


def test_refunds_never_exceed_the_captured_amount():
    p = capture(authorize(_new(1_000), at=0, bank_reference="B"), at=1)
    p = refund(p, Money(400))
    assert p.status is S.PARTIALLY_REFUNDED and p.refundable == 600
    with pytest.raises(RefundTooLarge):
        refund(p, Money(601))
    p = refund(p, Money(600))
    assert p.status is S.REFUNDED and p.refundable == 0


def test_an_uncaptured_authorization_cannot_be_refunded_by_the_merchant():
    p = authorize(_new(), at=0, bank_reference="B")
    with pytest.raises(IllegalTransition):
        refund(p, Money(100))
    assert auto_refund(p).status is S.REFUNDED


def test_failed_and_refunded_are_the_final_statuses():
    assert FINAL_STATUSES == {S.FAILED, S.REFUNDED}


def test_a_failed_refund_is_released_as_if_it_had_never_been_asked_for():
    p = capture(authorize(_new(1_000), at=0, bank_reference="B"), at=1)
    partly = refund(p, Money(300))
    both = refund(partly, Money(700))
    assert both.status is S.REFUNDED
    assert release_refund(both, 700) == partly  # the second refund failed: partial again
    restored = release_refund(partly, 300)
    assert (restored.status, restored.amount_refunded, restored.refund_status) == (
        S.CAPTURED,
        0,
        None,
    )
    for paise in (0, 301):
        with pytest.raises(IllegalTransition):
            release_refund(partly, paise)
    with pytest.raises(IllegalTransition):  # an auto-refund is a released hold, never failed
        release_refund(auto_refund(authorize(_new(), at=0, bank_reference="B")), 10_000)
