"""A simulated UPI switch: pay and collect requests with limits, status checks and reversals.

Scenario: a PSP app sends a pay request (push) or a merchant sends a collect request (pull,
which the payer approves with their PIN). The request is validated (VPAs, amount, limits), then
its fate is drawn from ``network.NetworkModel`` — success, a decline with an NPCI-style
response code, or a timeout that leaves it PENDING/DEEMED until a scheduled status check or the
next day's reconciliation resolves it, possibly by REVERSING the debit. Every state change is
appended to a hash-chained ``AuditLog``.

Design note
-----------
* States: INITIATED → SUCCESS | FAILURE | PENDING | DEEMED; PENDING → SUCCESS | FAILURE;
  DEEMED → SUCCESS | REVERSED; a debit whose credit failed goes straight to REVERSED.
* The switch precomputes a transaction's timeline when it is initiated and reveals each event
  when the clock reaches it (``status`` is the PSP's check-status call), so a ManualClock can
  walk a transaction through 90 s, 30 min and 2 h checks in microseconds.
* Transaction ids are idempotent: re-sending a request returns the same transaction and never
  debits twice; re-using an id for a different request is a ``ConflictError``.
* Limits (NPCI, see references.md): ₹1 lakh per transaction in general, ₹5 lakh for listed
  categories (capital markets and insurance were raised from ₹2 lakh on 15 Sep 2025); a per-payer daily amount and count limit (``Z7``). Reversal turnaround
  (RBI, 2019): P2P by T+1, merchant by T+5, then ₹100 per day of delay as compensation.
* P2P collect requests were discontinued from October 2025; merchant collect continues.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from razorlab.clock import Clock, SystemClock
from razorlab.errors import ConflictError, NotFoundError, ValidationError
from razorlab.money import Money
from razorlab.rand import DEFAULT_SEED
from razorlab.settlement.audit import AuditLog
from razorlab.settlement.settlement import IST
from razorlab.upi.network import NetworkModel, simulate
from razorlab.upi.vpa import parse_vpa

__all__ = [
    "UPI_STATES",
    "PER_TXN_LIMIT_PAISE",
    "CATEGORY_LIMITS_PAISE",
    "DAILY_LIMIT_PAISE",
    "DAILY_COUNT_LIMIT",
    "COLLECT_EXPIRY_S",
    "REVERSAL_TAT_DAYS",
    "COMPENSATION_PER_DAY_PAISE",
    "UpiEvent",
    "UpiTransaction",
    "UpiSwitch",
]

UPI_STATES = ("INITIATED", "PENDING", "SUCCESS", "FAILURE", "DEEMED", "REVERSED")
LAKH_PAISE = 100_000 * 100
PER_TXN_LIMIT_PAISE = LAKH_PAISE  # ₹1 lakh
CATEGORY_LIMITS_PAISE = {  # listed categories with higher per-transaction limits
    "capital_markets": 5 * LAKH_PAISE,  # ₹2 lakh until NPCI raised it on 15 Sep 2025
    "insurance": 5 * LAKH_PAISE,  # likewise
    "ipo": 5 * LAKH_PAISE,
    "tax": 5 * LAKH_PAISE,
    "hospital": 5 * LAKH_PAISE,
    "education": 5 * LAKH_PAISE,
}
DAILY_LIMIT_PAISE = LAKH_PAISE  # per payer per calendar day (IST), for general payments
DAILY_COUNT_LIMIT = 20  # payments per payer per day, a common bank limit
COLLECT_EXPIRY_S = 30 * 60  # seconds a merchant collect request waits for approval
REVERSAL_TAT_DAYS = {"p2p": 1, "merchant": 5}
COMPENSATION_PER_DAY_PAISE = 100 * 100  # ₹100 per day beyond the turnaround time
_DAY_S = 86_400


@dataclass(frozen=True)
class UpiEvent:
    at: float  # epoch seconds
    state: str
    code: str
    note: str


@dataclass
class UpiTransaction:
    """One UPI transaction and its (partly future) timeline."""

    id: str
    kind: str  # "pay" | "collect"
    payer: str
    payee: str
    amount: int
    merchant: bool
    timeline: list[UpiEvent]
    revealed: int = 1  # how many timeline events the clock has reached
    request: tuple = field(default=(), repr=False)

    @property
    def state(self) -> str:
        return self.timeline[self.revealed - 1].state

    @property
    def code(self) -> str:
        return self.timeline[self.revealed - 1].code

    @property
    def history(self) -> list[UpiEvent]:
        return self.timeline[: self.revealed]

    def reversal_delay_days(self) -> float | None:
        """Days from initiation to the reversal, if the final state is REVERSED."""
        last = self.timeline[-1]
        if last.state != "REVERSED":
            return None
        return (last.at - self.timeline[0].at) / _DAY_S

    def compensation_paise(self) -> int:
        """RBI turnaround compensation owed if the reversal came after T+1 (P2P) / T+5."""
        delay = self.reversal_delay_days()
        tat = REVERSAL_TAT_DAYS["merchant" if self.merchant else "p2p"]
        if delay is None or delay <= tat:
            return 0
        return int(delay - tat + 0.999_999) * COMPENSATION_PER_DAY_PAISE


class UpiSwitch:
    """The switch plus both PSPs and banks, driven by a ``NetworkModel`` and a clock."""

    def __init__(
        self,
        model: NetworkModel | None = None,
        *,
        seed: int = DEFAULT_SEED,
        clock: Clock | None = None,
        audit: AuditLog | None = None,
        daily_limit_paise: int = DAILY_LIMIT_PAISE,
        daily_count_limit: int = DAILY_COUNT_LIMIT,
    ):
        self.model = model or NetworkModel()
        self.seed = seed
        self.clock = clock or SystemClock()
        self.audit = audit if audit is not None else AuditLog(self.clock)
        self.daily_limit_paise = daily_limit_paise
        self.daily_count_limit = daily_count_limit
        self._txns: dict[str, UpiTransaction] = {}
        self._daily: dict[tuple[str, str], list[int]] = {}  # (payer, IST day) -> [paise, count]

    # ----- requests -------------------------------------------------------------------------
    def pay(
        self,
        txn_id: str,
        payer: str,
        payee: str,
        amount: int,
        *,
        category: str = "general",
        merchant: bool = False,
        pin_ok: bool = True,
    ) -> UpiTransaction:
        """A push payment from ``payer`` to ``payee``; returns the transaction as of now."""
        request = ("pay", payer, payee, amount, category, merchant, pin_ok)
        return self._start(txn_id, request, delay_s=0.0)

    def collect(
        self,
        txn_id: str,
        payee: str,
        payer: str,
        amount: int,
        *,
        approve_after_s: float | None,
        category: str = "general",
        expiry_s: float = COLLECT_EXPIRY_S,
    ) -> UpiTransaction:
        """A merchant's collect request; the payer approves after ``approve_after_s`` (None =
        never). Collect requests from individuals (P2P) are no longer allowed."""
        if expiry_s <= 0:
            raise ValidationError("expiry_s must be > 0", field="expiry_s")
        request = ("collect", payer, payee, amount, category, True, True)
        if approve_after_s is not None and approve_after_s < 0:
            raise ValidationError("approve_after_s must be >= 0", field="approve_after_s")
        expired = approve_after_s is None or approve_after_s > expiry_s
        return self._start(txn_id, request, delay_s=expiry_s if expired else approve_after_s,
                           expired=expired)  # fmt: skip

    def status(self, txn_id: str) -> UpiTransaction:
        """The PSP's check-status call: the transaction as of the clock's now."""
        txn = self._txns.get(txn_id)
        if txn is None:
            raise NotFoundError(f"no UPI transaction {txn_id!r}", field="txn_id")
        now = self.clock.now()
        while txn.revealed < len(txn.timeline) and txn.timeline[txn.revealed].at <= now:
            event = txn.timeline[txn.revealed]
            txn.revealed += 1
            self.audit.append("switch", event.state, txn.id, code=event.code, note=event.note)
        return txn

    def transactions(self) -> list[UpiTransaction]:
        return [self.status(t) for t in list(self._txns)]

    # ----- internals ------------------------------------------------------------------------
    def _start(
        self, txn_id: str, request: tuple, *, delay_s: float, expired: bool = False
    ) -> UpiTransaction:
        if not isinstance(txn_id, str) or not 1 <= len(txn_id) <= 35:
            raise ValidationError("txn_id must be 1-35 characters", field="txn_id")
        kind, payer, payee, amount, category, merchant, pin_ok = request
        payer_vpa, payee_vpa = parse_vpa(payer, "payer"), parse_vpa(payee, "payee")
        request = (kind, payer_vpa, payee_vpa, amount, category, merchant, pin_ok)
        if txn_id in self._txns:
            if self._txns[txn_id].request != request:
                raise ConflictError(f"txn_id {txn_id!r} was used for another request",
                                    field="txn_id")  # fmt: skip
            return self.status(txn_id)
        if payer_vpa == payee_vpa:
            raise ValidationError("payer and payee must differ", field="payee")
        limit = CATEGORY_LIMITS_PAISE.get(category, PER_TXN_LIMIT_PAISE)
        if category != "general" and category not in CATEGORY_LIMITS_PAISE:
            raise ValidationError(f"unknown category {category!r}", field="category")
        paise = Money.from_paise(amount, field="amount", minimum=1).paise
        now = self.clock.now()
        events = [UpiEvent(now, "INITIATED", "", f"{kind} request received")]
        start = now + delay_s
        if expired:
            events.append(UpiEvent(start, "FAILURE", "U69", "collect request expired"))
        elif paise > limit:
            events.append(UpiEvent(now, "FAILURE", "Z8", f"over the {Money(limit)} limit"))
        elif not pin_ok:
            events.append(UpiEvent(start, "FAILURE", "ZM", "UPI PIN did not match"))
        elif not self._within_daily(str(payer_vpa), paise, category, start):
            events.append(UpiEvent(start, "FAILURE", "Z7", "payer's daily limit reached"))
        else:
            events += self._network_events(txn_id, start)
        txn = UpiTransaction(txn_id, kind, str(payer_vpa), str(payee_vpa), paise, merchant,
                             events, request=request)  # fmt: skip
        self._txns[txn_id] = txn
        self.audit.append("switch", "INITIATED", txn_id, payer=txn.payer, payee=txn.payee,
                          amount=paise, kind=kind)  # fmt: skip
        return self.status(txn_id)

    def _within_daily(self, payer: str, paise: int, category: str, at: float) -> bool:
        day = datetime.fromtimestamp(at, tz=IST).date().isoformat()
        used = self._daily.setdefault((payer, day), [0, 0])
        if category == "general" and used[0] + paise > self.daily_limit_paise:
            return False
        if used[1] + 1 > self.daily_count_limit:
            return False
        used[0] += paise
        used[1] += 1
        return True

    def _network_events(self, txn_id: str, start: float) -> list[UpiEvent]:
        """Draw this transaction's fate from the shared model (a stream per txn id)."""
        fate = simulate(self.model, 1, seed=self.seed, stream=f"upi:{txn_id}").iloc[0]
        first, final, code = str(fate.first_state), str(fate.final_state), str(fate.code)
        respond = start + float(fate.response_s)
        if first not in ("PENDING", "DEEMED"):
            return [UpiEvent(respond, final, code, str(fate.reason))]
        waiting = "01" if first == "PENDING" else "RB"
        resolved = start + float(fate.resolved_s)
        return [
            UpiEvent(respond, first, waiting, "no answer within the request timeout"),
            UpiEvent(resolved, final, code, str(fate.reason)),
        ]
