"""A simulated bank/acquirer: seeded latency, and every outcome a real one can give.

Scenario: the gateway forwards a charge to the customer's bank (or card network, or
UPI switch) and waits. Usually the answer is "approved" in tens of milliseconds; some
charges are declined (insufficient funds, limit exceeded); sometimes the bank is down
and says so (an error: nothing was charged); and sometimes the reply never arrives —
a timeout — although the bank *did* process the charge, or the bank answers "pending"
(UPI's response code ``01``) and decides later. Those last two are what makes payments
hard: the gateway does not know whether money moved, so it must not guess. It asks
later (:meth:`SimulatedBank.status`), which is what reconciliation does.

Design note: the bank keeps its own ledger, independent of ours, so tests can compare
the two views ("nothing charged twice, nothing lost"). It does *not* de-duplicate
charges: a second ``charge`` for the same payment id charges again, so a gateway bug
that calls twice is visible as ``charges_for(id) == 2``. Outcomes come from, in order:

1. a *magic amount* (like Razorpay's test-mode amounts) — see :data:`TEST_INSTRUMENTS`;
2. a *test instrument* (VPA ``success@razorpay``/``failure@razorpay``, test cards);
3. otherwise a seeded draw from the :class:`BankProfile`'s rates.

Refunds can fail too. A refund of a payment made with :data:`REFUND_FAIL_CARD` is
refused by the bank (as when the card account was closed since the payment):
:meth:`SimulatedBank.refund` answers ``"failed"`` and pays nothing. The reversal of an
authorization that was never captured (the 3-day auto-refund) never fails: no money
left the customer's account, the hold is only released. Simplified: the bank answers
at once, where Razorpay's refunds stay ``pending`` for a while and fail later
(razorpay.com/docs/api/refunds: pending → processed | failed).

Late confirmation: a charge of the magic amount 5600 times out, and for
:data:`LATE_CONFIRM_AFTER_S` the bank's status query finds no record of it — so
reconciliation fails it (``BANK_NO_RECORD``) — before the bank posts it, authorized.
That is Razorpay's *late authorisation*: a payment the customer saw fail becomes
authorized when the bank confirms late (see :mod:`razorlab.payments.reconcile`).

Latency is lognormal (a long right tail, as measured latencies usually have), drawn
from ``razorlab.rand.rng(seed, "bank-latency")`` and slept on the injected clock.

Customer steps live on the bank's side, as in the real flows. A card payment is
authenticated by the issuer's ACS (3-D Secure's Access Control Server) before it is
charged: :meth:`SimulatedBank.begin_authentication` takes the card and opens a session
under the gateway's own transaction id, the payment id (EMV 3-D Secure's
``threeDSServerTransID`` is likewise chosen by the merchant's side, so the gateway keeps
nothing new), and :meth:`SimulatedBank.complete_authentication` checks the OTP the customer
typed in that session. Test mode, as Razorpay's: :data:`TEST_OTP` authenticates;
any other OTP is refused and the :data:`OTP_ATTEMPTS`-th wrong one ends the session. A UPI
collect request waits with the payer's PSP (:meth:`SimulatedBank.begin_collect`) until the
payer answers or it expires (NPCI ``U69``); the test VPAs answer by themselves after
:data:`TEST_PAYER_ANSWERS_AFTER_S`. While either waits, :meth:`SimulatedBank.status`
answers ``pending``, so reconciliation leaves the payment alone; afterwards an unanswered
one reads ``declined``. Where we simplify: the ACS doubles as the card vault (it hands the
authenticated card back for the authorization, where a real gateway keeps a token in its
own PCI vault); the session length (:data:`ACS_SESSION_S`) and the number of open sessions
kept (:data:`MAX_OPEN_SESSIONS`) are ours; there is no OTP delivery, so resend changes
nothing.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, OrderedDict
from dataclasses import dataclass, field, replace
from enum import Enum

import pandas as pd

from razorlab.clock import Clock
from razorlab.errors import ValidationError
from razorlab.money import Money
from razorlab.payments.methods import Card, PaymentMethod, Upi
from razorlab.rand import DEFAULT_SEED, rng

__all__ = [
    "BankOutcome",
    "BankProfile",
    "BankReply",
    "BankRecord",
    "SimulatedBank",
    "TEST_INSTRUMENTS",
    "SUCCESS_CARD",
    "DECLINE_CARD",
    "REFUND_FAIL_CARD",
    "LATE_CONFIRM_AFTER_S",
    "LATE_CONFIRM_AMOUNT",
    "test_instruments_table",
    "Authentication",
    "CollectRequest",
    "TEST_OTP",
    "OTP_ATTEMPTS",
    "ACS_SESSION_S",
    "MAX_OPEN_SESSIONS",
    "TEST_PAYER_ANSWERS_AFTER_S",
    "COLLECT_EXPIRED",
    "AUTHENTICATION_EXPIRED",
]

SUCCESS_CARD = "4111111111111111"  # Visa test number used by Razorpay and most gateways
DECLINE_CARD = "4000000000000002"  # Luhn-valid; declined every time (like Stripe's)
REFUND_FAIL_CARD = "4000000000000150"  # Luhn-valid; charges succeed, every refund fails
LATE_CONFIRM_AFTER_S = 600.0  # a late-confirmed charge is invisible to status queries for 10 min
LATE_CONFIRM_AMOUNT = 5600  # paise: the magic amount whose charge the bank confirms late
PENDING_RESOLVES_AFTER_S = 90.0  # a pending charge has a final answer 90 s later (UPI's first
#                                  status check is due after 90 s)
TEST_OTP = "123456"  # the OTP test mode accepts (Razorpay's test cards use the same)
OTP_ATTEMPTS = 3  # wrong OTPs that end an authentication session
ACS_SESSION_S = 600.0  # an OTP session stays open 10 minutes (ours)
MAX_OPEN_SESSIONS = 10_000  # open authentications and collects the bank keeps (oldest dropped)
TEST_PAYER_ANSWERS_AFTER_S = 3.0  # success@razorpay / failure@razorpay answer a collect then
COLLECT_EXPIRED = "UPI_COLLECT_EXPIRED"  # NPCI U69: the payer never answered the collect
AUTHENTICATION_EXPIRED = "AUTHENTICATION_EXPIRED"  # the customer never completed the OTP


class BankOutcome(str, Enum):
    SUCCESS = "success"  # authorized
    DECLINED = "declined"  # definitive no: nothing charged
    ERROR = "error"  # bank unavailable, request refused before processing: nothing charged
    TIMEOUT = "timeout"  # no reply in time; the bank DID process it — outcome unknown to us
    PENDING = "pending"  # the bank answered "pending": final answer later


#: Deterministic test instruments, one table. ``trigger`` is what to send; the outcome
#: and reason are what the bank does. Magic amounts win over the instrument.
TEST_INSTRUMENTS: tuple[dict[str, str], ...] = (
    {"trigger": "vpa success@razorpay", "outcome": "success", "reason": ""},
    {"trigger": "vpa failure@razorpay", "outcome": "declined", "reason": "PAYMENT_DECLINED"},
    {"trigger": f"card {SUCCESS_CARD}", "outcome": "success", "reason": ""},
    {"trigger": f"card {DECLINE_CARD}", "outcome": "declined", "reason": "CARD_DECLINED"},
    {"trigger": f"card {REFUND_FAIL_CARD}", "outcome": "success", "reason": "refunds fail"},
    {"trigger": "amount 5100 (₹51.00)", "outcome": "declined", "reason": "INSUFFICIENT_FUNDS"},
    {"trigger": "amount 5200 (₹52.00)", "outcome": "declined", "reason": "LIMIT_EXCEEDED"},
    {"trigger": "amount 5300 (₹53.00)", "outcome": "timeout", "reason": "processed: success"},
    {"trigger": "amount 5400 (₹54.00)", "outcome": "pending", "reason": "resolves: success"},
    {"trigger": "amount 5500 (₹55.00)", "outcome": "error", "reason": "BANK_UNAVAILABLE"},
    {"trigger": "amount 5600 (₹56.00)", "outcome": "timeout", "reason": "no record, then success"},
)
_MAGIC_AMOUNTS: dict[int, tuple[BankOutcome, str | None]] = {
    5100: (BankOutcome.DECLINED, "INSUFFICIENT_FUNDS"),
    5200: (BankOutcome.DECLINED, "LIMIT_EXCEEDED"),
    5300: (BankOutcome.TIMEOUT, None),
    5400: (BankOutcome.PENDING, None),
    5500: (BankOutcome.ERROR, "BANK_UNAVAILABLE"),
    LATE_CONFIRM_AMOUNT: (BankOutcome.TIMEOUT, None),
}
_INSTRUMENTS: dict[tuple[str, str], tuple[BankOutcome, str | None]] = {
    ("upi", "success@razorpay"): (BankOutcome.SUCCESS, None),
    ("upi", "failure@razorpay"): (BankOutcome.DECLINED, "PAYMENT_DECLINED"),
    ("card", SUCCESS_CARD): (BankOutcome.SUCCESS, None),
    ("card", DECLINE_CARD): (BankOutcome.DECLINED, "CARD_DECLINED"),
    ("card", REFUND_FAIL_CARD): (BankOutcome.SUCCESS, None),
}
_TEST_PAYERS = frozenset(vpa for kind, vpa in _INSTRUMENTS if kind == "upi")  # answer at once


def test_instruments_table() -> pd.DataFrame:
    """:data:`TEST_INSTRUMENTS` as a table for notebooks and docs."""
    return pd.DataFrame(list(TEST_INSTRUMENTS))


@dataclass(frozen=True, slots=True)
class BankProfile:
    """How a simulated bank behaves. Rates are probabilities per charge (summing to <= 1)."""

    latency_median_s: float = 0.0
    latency_sigma: float = 0.6  # lognormal shape: p99 ≈ median × e^(2.33σ) ≈ 4× median
    decline_rate: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    pending_rate: float = 0.0
    timeout_s: float = 10.0  # how long the gateway waits for a reply before giving up

    def __post_init__(self) -> None:
        rates = (self.decline_rate, self.error_rate, self.timeout_rate, self.pending_rate)
        if any(r < 0 for r in rates) or sum(rates) > 1:
            raise ValidationError("bank outcome rates must be >= 0 and sum to <= 1", field="rate")
        if self.latency_median_s < 0 or self.timeout_s < 0:
            raise ValidationError("latencies must be >= 0 seconds", field="latency")


@dataclass(frozen=True, slots=True)
class BankReply:
    """What the gateway hears back from one charge."""

    outcome: BankOutcome
    reference: str | None = None
    reason: str | None = None
    latency_s: float = 0.0


@dataclass(slots=True)
class BankRecord:
    """The bank's own view of one charge (its ledger row)."""

    payment_id: str
    amount: int  # paise
    status: str  # authorized | declined | pending | captured | refunded | partially_refunded
    reference: str
    reason: str | None = None
    refunded: int = 0
    final_status: str = "authorized"  # what a pending charge becomes
    created_at: float = 0.0
    refunds_fail: bool = False  # paid with REFUND_FAIL_CARD: the bank refuses its refunds
    visible_at: float = 0.0  # status queries find the charge from then on (late confirmation)


@dataclass(frozen=True, slots=True)
class Authentication:
    """The ACS's answer to an OTP: ``authenticated`` (with the card, for the authorization),
    ``incorrect`` (``attempts_left`` more), ``failed`` (too many wrong OTPs) or ``unknown``
    (no open session under that reference)."""

    status: str
    attempts_left: int = 0
    card: Card | None = None


@dataclass(frozen=True, slots=True)
class CollectRequest:
    """A UPI collect the payer's PSP holds; ``payer_answers_after_s``: when a test VPA
    answers by itself (``None``: a real payer, who may never answer)."""

    reference: str
    payer_answers_after_s: float | None


@dataclass(slots=True)
class _Waiting:
    """A customer step the bank holds open for ``payment_id`` until ``until``."""

    payment_id: str
    amount: int  # paise
    reference: str
    until: float
    expired_reason: str
    card: Card | None = None
    attempts_left: int = OTP_ATTEMPTS


@dataclass
class SimulatedBank:
    """An acquirer with its own ledger. Every charge/status/capture/refund is counted."""

    clock: Clock
    profile: BankProfile = field(default_factory=BankProfile)
    seed: int = DEFAULT_SEED
    wait: bool = True  # sleep the latency on the clock; False: only report it (step-by-step sims)

    def __post_init__(self) -> None:
        self._latency = rng(self.seed, "bank-latency")
        self._outcome = rng(self.seed, "bank-outcome")
        self._refs = itertools.count(1)
        self.ledger: dict[str, list[BankRecord]] = {}
        self.calls: Counter[str] = Counter()
        self._refunds: dict[str, str] = {}  # refund id -> "processed" | "failed"
        self.in_flight = 0  # charges waiting for their reply right now
        self.max_in_flight = 0  # the most that ever waited at once
        self._steps = itertools.count(1)
        self._waiting: OrderedDict[str, _Waiting] = OrderedDict()  # payment id -> open step

    def set_profile(self, **changes: float) -> None:
        """Change behaviour mid-run, e.g. ``bank.set_profile(error_rate=0.5)`` for an outage."""
        self.profile = replace(self.profile, **changes)

    def charges_for(self, payment_id: str) -> int:
        return len(self.ledger.get(payment_id, ()))

    def _decide(self, amount: Money, method: PaymentMethod) -> tuple[BankOutcome, str | None]:
        u = float(self._outcome.random())  # drawn every call, so streams stay aligned
        if amount.paise in _MAGIC_AMOUNTS:
            return _MAGIC_AMOUNTS[amount.paise]
        key = ("card", method.number) if isinstance(method, Card) else ("", "")
        if isinstance(method, Upi):
            key = ("upi", method.vpa)
        if key in _INSTRUMENTS:
            return _INSTRUMENTS[key]
        p = self.profile
        for outcome, rate, reason in (
            (BankOutcome.DECLINED, p.decline_rate, "PAYMENT_DECLINED"),
            (BankOutcome.ERROR, p.error_rate, "BANK_UNAVAILABLE"),
            (BankOutcome.TIMEOUT, p.timeout_rate, None),
            (BankOutcome.PENDING, p.pending_rate, None),
        ):
            if u < rate:
                return outcome, reason
            u -= rate
        return BankOutcome.SUCCESS, None

    def draw_latency(self) -> float:
        """The next reply latency in seconds from the seeded lognormal (0 with no median).

        A benchmark's baseline handler waits these same draws, so both sides see one
        distribution.
        """
        if self.profile.latency_median_s <= 0:
            return 0.0
        z = float(self._latency.standard_normal())
        return self.profile.latency_median_s * math.exp(self.profile.latency_sigma * z)

    async def charge(self, payment_id: str, amount: Money, method: PaymentMethod) -> BankReply:
        """Ask the bank to authorize ``amount``. Sleeps the drawn latency on the clock."""
        self.calls["charge"] += 1
        if payment_id in self._waiting:  # the customer's step is done: the charge answers now
            self._close(payment_id)
        latency = self.draw_latency()
        outcome, reason = self._decide(amount, method)
        if outcome is BankOutcome.TIMEOUT:
            latency = self.profile.timeout_s
        else:
            latency = min(latency, self.profile.timeout_s)
        if self.wait:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await self.clock.sleep(latency)
            finally:
                self.in_flight -= 1
        if outcome is BankOutcome.ERROR:
            return BankReply(outcome, None, reason, latency)
        reference = f"BANK{next(self._refs):08d}"
        status = {
            BankOutcome.SUCCESS: "authorized",
            BankOutcome.DECLINED: "declined",
            BankOutcome.TIMEOUT: "authorized",  # processed; only the reply was lost
            BankOutcome.PENDING: "pending",
        }[outcome]
        record = BankRecord(payment_id, amount.paise, status, reference, reason)
        record.created_at = self.clock.now()
        record.refunds_fail = isinstance(method, Card) and method.number == REFUND_FAIL_CARD
        late = amount.paise == LATE_CONFIRM_AMOUNT
        record.visible_at = record.created_at + (LATE_CONFIRM_AFTER_S if late else 0.0)
        self.ledger.setdefault(payment_id, []).append(record)
        if outcome is BankOutcome.TIMEOUT:
            return BankReply(outcome, None, None, latency)
        return BankReply(outcome, reference, reason, latency)

    def _open(self, payment_id: str, amount: Money, prefix: str, hold_s: float,
              expired_reason: str, card: Card | None = None) -> str:  # fmt: skip
        reference = f"{prefix}{next(self._steps):08d}"
        self._waiting[payment_id] = _Waiting(payment_id, amount.paise, reference,
                                             self.clock.now() + hold_s, expired_reason, card)  # fmt: skip
        if len(self._waiting) > MAX_OPEN_SESSIONS:
            self._close(next(iter(self._waiting)))
        return reference

    def _close(self, payment_id: str) -> None:
        del self._waiting[payment_id]

    def begin_authentication(self, payment_id: str, amount: Money, card: Card) -> str:
        """The ACS opens an OTP session for ``card`` under ``payment_id``; its own reference."""
        self.calls["authenticate"] += 1
        return self._open(payment_id, amount, "ACS", ACS_SESSION_S, AUTHENTICATION_EXPIRED, card)

    def complete_authentication(self, payment_id: str, otp: str) -> Authentication:
        """Check ``otp`` in ``payment_id``'s session (:data:`TEST_OTP` is the right one)."""
        self.calls["otp"] += 1
        step = self._waiting.get(payment_id)
        if step is None or step.card is None or self.clock.now() >= step.until:
            return Authentication("unknown")
        if otp == TEST_OTP:
            self._close(step.payment_id)
            return Authentication("authenticated", step.attempts_left, step.card)
        step.attempts_left -= 1
        if step.attempts_left == 0:
            self._close(step.payment_id)
            return Authentication("failed")
        return Authentication("incorrect", step.attempts_left)

    def begin_collect(
        self, payment_id: str, amount: Money, vpa: str, expiry_s: float
    ) -> CollectRequest:
        """Send a collect request to the payer's app; it expires after ``expiry_s`` (U69)."""
        self.calls["collect"] += 1
        reference = self._open(payment_id, amount, "UPI", expiry_s, COLLECT_EXPIRED)
        return CollectRequest(reference, TEST_PAYER_ANSWERS_AFTER_S if vpa in _TEST_PAYERS
                              else None)  # fmt: skip

    def status(self, payment_id: str) -> BankRecord | None:
        """The bank's answer to "what happened to this charge?" (``None``: never received)."""
        self.calls["status"] += 1
        records = self.ledger.get(payment_id)
        step = self._waiting.get(payment_id)
        if not records and step is not None:  # a customer step is open (or lapsed unanswered)
            lapsed = self.clock.now() >= step.until
            return BankRecord(payment_id, step.amount, "declined" if lapsed else "pending",
                              step.reference, step.expired_reason if lapsed else None)  # fmt: skip
        if not records or self.clock.now() < records[-1].visible_at:
            return None
        record = records[-1]
        if (
            record.status == "pending"
            and self.clock.now() >= record.created_at + PENDING_RESOLVES_AFTER_S
        ):
            record.status = record.final_status
        return record

    def capture(self, payment_id: str) -> None:
        """Settle an authorization (idempotent: capturing twice is one capture)."""
        self.calls["capture"] += 1
        record = self._authorized(payment_id)
        if record.status == "authorized":
            record.status = "captured"

    def refund(self, payment_id: str, refund_id: str, paise: int) -> str:
        """Return ``paise`` under ``refund_id``: ``"processed"`` or ``"failed"`` (nothing paid).

        A refund id seen before is not paid twice: the bank answers what it answered the
        first time. Real acquirers take a unique reference with each refund for the same
        reason: the gateway may have to re-send a refund whose answer it never recorded.
        """
        self.calls["refund"] += 1
        if refund_id in self._refunds:
            return self._refunds[refund_id]
        record = self._authorized(payment_id)
        outcome = "processed"
        if record.refunds_fail and record.status != "authorized":  # a reversal never fails
            outcome = "failed"
        else:
            record.refunded += paise
            full = record.refunded >= record.amount
            record.status = "refunded" if full else "partially_refunded"
        self._refunds[refund_id] = outcome
        return outcome

    def _authorized(self, payment_id: str) -> BankRecord:
        records = self.ledger.get(payment_id)
        if (
            not records
            or records[-1].status in ("declined", "pending")
            or self.clock.now() < records[-1].visible_at
        ):
            raise ValidationError(f"bank has no authorization for {payment_id}", field="payment_id")
        return records[-1]
