"""The UPI network as a probability model: where a payment can fail, stall or be reversed.

Scenario: a pay request crosses the payer's PSP app, the NPCI switch, the remitter bank (debits
the payer) and the beneficiary bank (credits the payee). Each hop has a latency distribution and
a failure rate. A hop that does not answer within the 15 s request timeout (NPCI, June 2025)
leaves the payment **PENDING** (debit unknown) or **DEEMED** (debited, credit unconfirmed); the
PSP then polls the switch with status checks — at most 3 within 2 hours, the first after 90 s —
and an unresolved case is settled by the next day's reconciliation. A debit whose credit failed
is **REVERSED** to the payer.

Design note: ``simulate`` draws every transaction's fate at once with numpy (a 10M/day day in
seconds); the single-transaction switch in ``upi.py`` draws from the *same* function with
n = 1, so the two can never disagree about the model. Outcomes are final states, the NPCI-style
response code, which participant is to blame, and when the case was resolved.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.rand import rng

__all__ = [
    "PAY_TIMEOUT_S",
    "CHECK_STATUS_TIMEOUT_S",
    "REVERSAL_TIMEOUT_S",
    "STATUS_CHECKS_S",
    "RECONCILIATION_AT_S",
    "RESPONSE_CODES",
    "BUSINESS_DECLINES",
    "NetworkModel",
    "simulate",
    "success_rates",
    "sweep",
    "REASONS",
    "DECIDED_BY",
    "FIRST_STATES",
    "FINAL_STATES",
    "decided_by",
]

PAY_TIMEOUT_S = 15.0  # seconds a pay request may take end to end (NPCI, June 2025)
CHECK_STATUS_TIMEOUT_S = 10.0  # seconds per check-status call
REVERSAL_TIMEOUT_S = 10.0  # seconds per reversal call
STATUS_CHECKS_S = (90.0, 1_800.0, 7_200.0)  # at most 3 within 2 h, the first after 90 s
RECONCILIATION_AT_S = 86_400.0  # unresolved cases are settled by the next day's reconciliation

# Meanings from NPCI's list of UPI error and response codes, except one mapping of ours: NPCI
# has no "deemed" code (its RB is a credit reversal timeout); like many gateways we report a
# deemed transaction as RB. ZA is a customer's decline (e.g. a rejected collect), never a
# technical failure: those are U30 (debit failed) and U31 (credit failed).
RESPONSE_CODES = {
    "00": "success",
    "01": "pending (debit status unknown)",
    "RB": "deemed: credit unconfirmed (our mapping of RB)",
    "U30": "debit failed (technical; no money moved)",
    "U31": "credit failed at beneficiary bank (reversed)",
    "U69": "collect request expired",
    "ZA": "declined by the customer (rejected collect)",
    "Z9": "insufficient funds",
    "Z8": "per-transaction limit exceeded",
    "Z7": "daily limit exceeded",
    "ZM": "invalid UPI PIN",
}
#: Declines caused by the customer, not by a system: excluded from the technical success rate.
BUSINESS_DECLINES = frozenset({"Z9", "Z8", "Z7", "ZM", "U69", "ZA"})

# Where a transaction's fate was decided (the "reason" column of ``simulate``).
REASONS = (
    "success",
    "success after status check",
    "success at reconciliation",
    "wrong PIN",
    "insufficient funds",
    "payer PSP / switch down",
    "remitter bank declined",
    "remitter timeout, not debited",
    "beneficiary credit failed (reversed)",
    "deemed, not credited (reversed)",
)

#: Who decides each outcome, and how the payer's PSP hears of it. The PSP app holds no money:
#: the remitter bank (the payer's bank) verifies the PIN, checks the balance and debits; the
#: beneficiary bank credits; the PSP only learns the result through NPCI's switch.
DECIDED_BY = {
    "success": ("remitter + beneficiary bank", "NPCI response"),
    "success after status check": ("remitter + beneficiary bank", "status check via NPCI"),
    "success at reconciliation": ("remitter + beneficiary bank", "next day's reconciliation"),
    "wrong PIN": ("remitter bank", "NPCI response"),
    "insufficient funds": ("remitter bank", "NPCI response"),
    "payer PSP / switch down": ("payer PSP / NPCI", "its own error"),
    "remitter bank declined": ("remitter bank", "NPCI response"),
    "remitter timeout, not debited": ("remitter bank", "status check or reconciliation"),
    "beneficiary credit failed (reversed)": ("beneficiary bank", "NPCI response"),
    "deemed, not credited (reversed)": ("beneficiary bank", "status check or reconciliation"),
}

FIRST_STATES = ("SUCCESS", "PENDING", "DEEMED", "FAILURE")
FINAL_STATES = ("SUCCESS", "FAILURE", "REVERSED")
_CODES = ("00", "ZM", "Z9", "U30", "U31", "RB")
_FINAL = np.array([0, 0, 0, 1, 1, 1, 1, 1, 2, 2])  # final state of each reason
_CODE = np.array([0, 0, 0, 1, 2, 3, 3, 3, 4, 5])  # response code of each reason


@dataclass(frozen=True)
class NetworkModel:
    """Failure probabilities per transaction and hop latencies (lognormal: median, sigma)."""

    p_psp_down: float = 0.0004  # payer PSP or switch fails before the debit
    p_wrong_pin: float = 0.010
    p_insufficient: float = 0.015
    p_remitter_decline: float = 0.0008  # remitter bank technical decline (no debit)
    remitter_median_s: float = 1.2
    remitter_sigma: float = 0.8
    p_beneficiary_fail: float = 0.0004  # credit explicitly failed after the debit
    beneficiary_median_s: float = 0.9
    beneficiary_sigma: float = 0.8
    p_resolve_per_check: float = 0.6  # a status check returns a final answer
    p_unknown_completed: float = 0.7  # a timed-out hop had in fact completed

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.startswith("p_") and not 0 <= value <= 1:
                raise ValidationError(f"{f.name} must be a probability", field=f.name)
            if not f.name.startswith("p_") and value <= 0:
                raise ValidationError(f"{f.name} must be > 0", field=f.name)
        if self.p_wrong_pin + self.p_insufficient + self.p_remitter_decline > 1:
            raise ValidationError("remitter outcome probabilities exceed 1", field="p_wrong_pin")


def simulate(model: NetworkModel, n: int, *, seed: int, stream: str = "upi") -> pd.DataFrame:
    """Fates of ``n`` pay requests: first response, final state and code, reason, timings."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationError("n must be a non-negative int", field="n")
    g = rng(seed, stream)
    u = g.random((5, n))
    rem_lat = g.lognormal(np.log(model.remitter_median_s), model.remitter_sigma, n)
    ben_lat = g.lognormal(np.log(model.beneficiary_median_s), model.beneficiary_sigma, n)
    checks = g.geometric(model.p_resolve_per_check, n)  # 1-based check that answers

    psp = u[0] < model.p_psp_down
    bands = np.cumsum([model.p_wrong_pin, model.p_insufficient, model.p_remitter_decline])
    band = np.searchsorted(bands, u[1], side="right")  # 0 pin, 1 funds, 2 decline, 3 ok
    at_remitter = ~psp
    rem_timeout = at_remitter & (rem_lat > PAY_TIMEOUT_S)  # no answer at all within 15 s
    answered = at_remitter & ~rem_timeout
    pin, funds, declined, debited = (answered & (band == k) for k in range(4))
    in_time = rem_lat + ben_lat <= PAY_TIMEOUT_S
    ben_fail = debited & in_time & (u[2] < model.p_beneficiary_fail)
    deemed = debited & ~in_time
    instant = debited & in_time & ~ben_fail
    # the hidden truth behind a timeout: the debit (or credit) had in fact gone through
    completed = (u[3] < model.p_unknown_completed) & (deemed | (rem_timeout & (band == 3)))
    unknown = rem_timeout | deemed
    resolve_at = np.where(checks <= len(STATUS_CHECKS_S),
                          np.asarray(STATUS_CHECKS_S)[np.minimum(checks, 3) - 1],
                          RECONCILIATION_AT_S)  # fmt: skip

    first = np.select([instant, rem_timeout, deemed], [0, 1, 2], 3)
    settled_late = np.where(resolve_at < RECONCILIATION_AT_S, 1, 2)
    reason = np.select(
        [instant, unknown & completed, pin, funds, psp, declined, rem_timeout, ben_fail, deemed],
        [0, settled_late, 3, 4, 5, 6, 7, 8, 9],
    )
    response_s = np.where(unknown, PAY_TIMEOUT_S, np.where(debited, rem_lat + ben_lat,
                                                           rem_lat * at_remitter))  # fmt: skip
    return pd.DataFrame({
        "first_state": pd.Categorical.from_codes(first, FIRST_STATES),
        "final_state": pd.Categorical.from_codes(_FINAL[reason], FINAL_STATES),
        "code": pd.Categorical.from_codes(_CODE[reason], _CODES),
        "reason": pd.Categorical.from_codes(reason, REASONS),
        "response_s": response_s,
        "resolved_s": np.where(unknown, resolve_at, response_s),
        "debited": debited | (rem_timeout & completed),
    })  # fmt: skip


def decided_by(outcomes: pd.DataFrame) -> pd.DataFrame:
    """Payments per outcome with the party that decided it and how the payer's PSP learnt it.

    The point of the table: a PSP cannot "check the payer's account" — every balance, PIN
    and debit decision is the remitter bank's, and the PSP sees it only as an answer (or a
    silence) relayed by NPCI.
    """
    counts = outcomes["reason"].value_counts().reindex(list(REASONS), fill_value=0)
    return pd.DataFrame(
        {
            "decided by": [DECIDED_BY[r][0] for r in REASONS],
            "PSP learns it from": [DECIDED_BY[r][1] for r in REASONS],
            "payments": counts.to_numpy(),
        },
        index=pd.Index(REASONS, name="outcome"),
    )


def success_rates(outcomes: pd.DataFrame) -> dict[str, float]:
    """Overall, technical (business declines excluded) and first-response success rates."""
    n = len(outcomes)
    ok = outcomes["final_state"] == "SUCCESS"
    business = outcomes["code"].isin(BUSINESS_DECLINES)
    return {
        "overall": float(ok.mean()) if n else 0.0,
        "technical": float(ok.sum() / (~business).sum()) if (~business).any() else 0.0,
        "instant": float((outcomes["first_state"] == "SUCCESS").mean()) if n else 0.0,
    }


def sweep(
    model: NetworkModel, parameter: str, values: list[float], *, n: int, seed: int
) -> pd.DataFrame:
    """Success rates as one model parameter varies (same seed: only that parameter changes)."""
    if parameter not in {f.name for f in fields(model)}:
        raise ValidationError(f"NetworkModel has no parameter {parameter!r}", field="parameter")
    rows = [{parameter: v, **success_rates(simulate(replace(model, **{parameter: v}), n,
                                                    seed=seed))} for v in values]  # fmt: skip
    return pd.DataFrame(rows)
