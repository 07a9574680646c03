"""Merchant settlement: from captured payments, refunds and chargebacks to a payout per day.

Scenario: a payment aggregator collects customers' money into escrow and pays each merchant
on a T+N schedule (Razorpay's default is T+2 working days; RBI's guidelines on payment
aggregators have required settlement with merchants by T+1 since 2020). The payout is

    payments − refunds − chargebacks ± adjustments − fee − GST on the fee − reserve
    + reserve released + (negative balance carried from earlier runs)

Design note
-----------
* Money is int64 paise end to end. The fee (MDR %) and the 18% GST on it are computed **per
  payment** and rounded to a whole paisa half-up, exactly like ``Money.percent``
  (``percent_paise`` is its vectorised twin; a test checks them against each other). Rounding
  the day's total instead gives a different number: the notebook shows by how much.
* A day whose refunds and chargebacks exceed its payments pays nothing and carries the
  negative balance forward to the merchant's next settlement; money is never "lost" in a max(0).
* A rolling reserve (a % of payments held for ``reserve_hold_days``) protects against
  chargebacks arriving after the money left.
* Working days follow the banks' calendar, as Razorpay counts them: Sundays, the 2nd and 4th
  Saturdays of a month and bank holidays (``holidays``) are closed; other Saturdays are open.
* Inputs are plain records (``Entry`` or a DataFrame), so this engine does not depend on the
  payments engine: a captured payment becomes ``Entry(id, merchant_id, "payment", amount, ts)``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta, timezone
from decimal import Decimal

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.fees import GST_ON_FEE_PERCENT, MDR_PERCENT
from razorlab.money import InvalidAmount, Money, Rounding
from razorlab.rand import rng

__all__ = [
    "ENTRY_KINDS",
    "IST",
    "Entry",
    "SettlementPolicy",
    "entries_frame",
    "percent_paise",
    "random_entries",
    "is_working_day",
    "settlement_date",
    "settle",
]

IST = timezone(timedelta(hours=5, minutes=30))  # settlement days are Indian calendar days
ENTRY_KINDS = ("payment", "refund", "chargeback", "adjustment")
_SIGN = {"payment": 1, "refund": -1, "chargeback": -1, "adjustment": 1}


@dataclass(frozen=True, slots=True)
class Entry:
    """One money movement owed to (payment) or by (refund, chargeback) a merchant.

    ``amount`` is positive paise; the kind gives the direction. Adjustments may be negative.
    ``at`` is the epoch second of capture / refund / chargeback.
    """

    id: str
    merchant_id: str
    kind: str
    amount: int
    at: float
    currency: str = "INR"


@dataclass(frozen=True)
class SettlementPolicy:
    """How one merchant (or the whole platform) is settled."""

    t_plus_days: int = 2
    mdr_percent: str = MDR_PERCENT
    gst_percent: str = GST_ON_FEE_PERCENT
    reserve_percent: str = "0"
    reserve_hold_days: int = 0
    holidays: tuple[date, ...] = field(default_factory=tuple)
    rounding: Rounding = Rounding.HALF_UP

    def __post_init__(self) -> None:
        if isinstance(self.t_plus_days, bool) or not isinstance(self.t_plus_days, int):
            raise ValidationError("t_plus_days must be an int", field="t_plus_days")
        if self.t_plus_days < 0 or self.reserve_hold_days < 0:
            raise ValidationError("days must be >= 0", field="t_plus_days")
        for name in ("mdr_percent", "gst_percent", "reserve_percent"):
            Money(0).percent(getattr(self, name))  # validates the rate (str, >= 0)


def percent_paise(
    amounts: np.ndarray | Iterable[int], rate: str, rounding: Rounding = Rounding.HALF_UP
) -> np.ndarray:
    """``rate`` percent of each non-negative amount, rounded like ``Money.percent``, vectorised.

    Exact integer arithmetic: rate = num/den, so amount·rate/100 = amount·num / (100·den);
    the quotient and remainder decide the rounding without any float.
    """
    a = np.asarray(amounts, dtype=np.int64)
    if a.size and a.min() < 0:
        raise InvalidAmount("percent_paise needs non-negative amounts", field="amount")
    Money(0).percent(rate)  # the same validation as Money.percent (str/int/Decimal, >= 0)
    num, den = Decimal(rate).as_integer_ratio()
    if a.size and int(a.max()) * num >= 2**62:
        raise InvalidAmount("amount × rate would overflow int64", field="amount")
    q, rem = np.divmod(a * num, 100 * den)
    twice, d = 2 * rem, 100 * den
    if rounding is Rounding.HALF_UP:
        return q + (twice >= d)
    if rounding is Rounding.HALF_EVEN:
        return q + ((twice > d) | ((twice == d) & (q % 2 == 1)))
    if rounding is Rounding.CEILING:
        return q + (rem > 0)
    return q


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    """Whether banks settle on ``day``: not a Sunday, a 2nd/4th Saturday or a holiday.

    Indian banks close on the second and fourth Saturdays of each month (the 1st, 3rd and 5th
    are working days), so Razorpay's settlement calendar skips them too.
    """
    if day.weekday() == 6 or day in set(holidays):
        return False
    if day.weekday() == 5:
        return (day.day - 1) // 7 + 1 not in (2, 4)  # which Saturday of the month it is
    return True


def settlement_date(day: date, t_plus_days: int, holidays: Iterable[date] = ()) -> date:
    """The working day ``t_plus_days`` after ``day`` (see :func:`is_working_day`).

    With ``t_plus_days = 0`` a capture on a closed day waits for the next working day.
    """
    closed = set(holidays)
    out = day
    added = 0
    while added < t_plus_days:
        out += timedelta(days=1)
        if is_working_day(out, closed):
            added += 1
    while not is_working_day(out, closed):  # T+0 on a closed day waits for a working day
        out += timedelta(days=1)
    return out


def entries_frame(entries: Iterable[Entry] | pd.DataFrame) -> pd.DataFrame:
    """Validate records into a frame: unique ids, known kinds, one currency, int paise."""
    df = entries.copy() if isinstance(entries, pd.DataFrame) else pd.DataFrame(
        [asdict(e) for e in entries], columns=[f for f in Entry.__slots__]
    )  # fmt: skip
    if "currency" not in df:
        df["currency"] = "INR"
    if df.empty:
        return df.astype({"amount": "int64"})
    if not pd.api.types.is_integer_dtype(df["amount"]):
        raise InvalidAmount("amounts must be integer paise", field="amount")
    bad = ~df["kind"].isin(ENTRY_KINDS)
    if bad.any():
        raise ValidationError(f"unknown kind {df.loc[bad, 'kind'].iloc[0]!r}", field="kind")
    if ((df["amount"] <= 0) & (df["kind"] != "adjustment")).any():
        raise InvalidAmount("payments, refunds and chargebacks must be > 0 paise", field="amount")
    if df["id"].duplicated().any():
        raise ValidationError(f"duplicate entry id {df['id'][df['id'].duplicated()].iloc[0]!r}",
                              field="id")  # fmt: skip
    if df["currency"].nunique() > 1:
        raise ValidationError("settle one currency at a time", field="currency")
    return df.astype({"amount": "int64"})


def settle(
    entries: Iterable[Entry] | pd.DataFrame,
    policy: SettlementPolicy | None = None,
    *,
    carry_in: dict[str, int] | None = None,
) -> pd.DataFrame:
    """One row per merchant and settlement date, in paise, oldest first.

    Columns: payments, refunds, chargebacks, adjustments, fee, gst, reserve_held,
    reserve_released, carried_in, net, payout (>= 0) and carry_forward (<= 0).
    """
    policy = policy or SettlementPolicy()
    df = entries_frame(entries)
    columns = ["merchant_id", "settle_date", "payments", "refunds", "chargebacks",
               "adjustments", "fee", "gst", "reserve_held", "reserve_released", "carried_in",
               "net", "payout", "carry_forward"]  # fmt: skip
    if df.empty:
        return pd.DataFrame(columns=columns)
    days = pd.to_datetime(df["at"], unit="s", utc=True).dt.tz_convert(IST).dt.date
    cache: dict[date, date] = {}
    df["settle_date"] = [
        cache.setdefault(d, settlement_date(d, policy.t_plus_days, policy.holidays)) for d in days
    ]
    is_payment = (df["kind"] == "payment").to_numpy()
    fee = np.zeros(len(df), dtype=np.int64)
    fee[is_payment] = percent_paise(df["amount"].to_numpy()[is_payment], policy.mdr_percent,
                                    policy.rounding)  # fmt: skip
    df["fee"] = fee
    df["gst"] = percent_paise(fee, policy.gst_percent, policy.rounding)
    reserve = np.zeros(len(df), dtype=np.int64)
    reserve[is_payment] = percent_paise(df["amount"].to_numpy()[is_payment],
                                        policy.reserve_percent, policy.rounding)  # fmt: skip
    df["reserve_held"] = reserve
    for kind in ENTRY_KINDS:
        df[kind + "s"] = np.where(df["kind"] == kind, df["amount"], 0)
    sums = ["payments", "refunds", "chargebacks", "adjustments", "fee", "gst", "reserve_held"]
    days_df = df.groupby(["merchant_id", "settle_date"], sort=True)[sums].sum().reset_index()
    return _carry(days_df, policy, dict(carry_in or {}))[columns]


def _carry(days: pd.DataFrame, policy: SettlementPolicy, carry: dict[str, int]) -> pd.DataFrame:
    """Walk each merchant's settlement days in order: release reserves, carry negatives."""
    out = days.copy()
    released, carried, net = [], [], []
    held: dict[str, list[tuple[date, int]]] = {}
    for row in days.itertuples(index=False):
        queue = held.setdefault(row.merchant_id, [])
        due = sum(a for d, a in queue if d <= row.settle_date)
        queue[:] = [(d, a) for d, a in queue if d > row.settle_date]
        queue.append((row.settle_date + timedelta(days=policy.reserve_hold_days),
                      int(row.reserve_held)))  # fmt: skip
        c = carry.get(row.merchant_id, 0)
        n = (row.payments - row.refunds - row.chargebacks + row.adjustments - row.fee - row.gst
             - row.reserve_held + due + c)  # fmt: skip
        released.append(due)
        carried.append(c)
        net.append(int(n))
        carry[row.merchant_id] = min(int(n), 0)
    out["reserve_released"] = np.asarray(released, dtype=np.int64)
    out["carried_in"] = np.asarray(carried, dtype=np.int64)
    out["net"] = np.asarray(net, dtype=np.int64)
    out["payout"] = out["net"].clip(lower=0)
    out["carry_forward"] = out["net"].clip(upper=0)
    return out


def random_entries(
    n_payments: int,
    *,
    merchants: int,
    days: int,
    seed: int,
    start: float,
    refund_rate: float = 0.05,
    chargeback_rate: float = 0.005,
) -> pd.DataFrame:
    """A seeded stream of captured payments with some refunds and chargebacks of them.

    Payments are lognormal around ₹1,200; a refund (full) comes 0–3 days after its payment, a
    chargeback 5–20 days after — which is why reserves and carry-forwards exist.
    """
    g = rng(seed, "entries")
    at = np.sort(start + g.uniform(0, days * 86_400, n_payments))
    amount = np.maximum(100, g.lognormal(np.log(120_000), 1.0, n_payments)).astype(np.int64)
    merchant = np.array([f"m{i}" for i in g.integers(0, merchants, n_payments)])
    ids = np.array([f"pay{i:06d}" for i in range(n_payments)])
    frames = [pd.DataFrame({"id": ids, "merchant_id": merchant, "kind": "payment",
                            "amount": amount, "at": at})]  # fmt: skip
    for kind, rate, lo, hi in (
        ("refund", refund_rate, 0, 3),
        ("chargeback", chargeback_rate, 5, 20),
    ):
        pick = g.random(n_payments) < rate
        frames.append(pd.DataFrame({
            "id": [f"{kind[:3]}_{i}" for i in ids[pick]], "merchant_id": merchant[pick],
            "kind": kind, "amount": amount[pick],
            "at": at[pick] + g.uniform(lo, hi, int(pick.sum())) * 86_400,
        }))  # fmt: skip
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True).sort_values("at", ignore_index=True)
