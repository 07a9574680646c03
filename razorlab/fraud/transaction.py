"""A card payment as the fraud engine sees it, and the gate that refuses bad ones.

Scenario: a payment gateway asks "approve, review or decline?" for every card payment
and every refund. The engine trusts nothing: a request with a missing field, a negative
or fractional amount or a currency the model was never trained on is refused with a
typed error (``InvalidTransaction``, ``InvalidAmount``, ``UnknownCurrency``) before any
feature state changes, so one bad request cannot poison the sliding windows.

Design note: money is integer paise (``razorlab.money``); the time is integer epoch
seconds so that streaming and batch features see exactly the same numbers. The batch
path (``validate_frame``) applies the same rules to a whole DataFrame at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.errors import ValidationError
from razorlab.money import CURRENCIES, InvalidAmount, Money, UnknownCurrency

__all__ = [
    "Transaction",
    "InvalidTransaction",
    "TXN_FIELDS",
    "KINDS",
    "MODEL_CURRENCY",
    "MAX_TXN_PAISE",
    "validate_frame",
]

#: Fields every transaction must carry, in the order of the CSV columns.
TXN_FIELDS = (
    "txn_id",
    "ts",
    "customer_id",
    "card_id",
    "device_id",
    "ip_id",
    "merchant_id",
    "city",
    "amount_paise",
    "currency",
    "kind",
)
KINDS = ("purchase", "refund")
MODEL_CURRENCY = "INR"  # the models are trained on rupee amounts only
MAX_TXN_PAISE = 50_000_000  # ₹5 lakh: the largest single payment the engine accepts
_INT_FIELDS = TXN_FIELDS[:8]


class InvalidTransaction(ValidationError):
    """A transaction the engine refuses to score; ``field`` names the culprit."""

    code = "INVALID_TRANSACTION"


@dataclass(frozen=True, slots=True)
class Transaction:
    """One payment or refund; ``city`` is the index of the IP geolocation's city."""

    txn_id: int
    ts: int
    customer_id: int
    card_id: int
    device_id: int
    ip_id: int
    merchant_id: int
    city: int
    amount_paise: int
    currency: str
    kind: str

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Transaction:
        """Validate an untrusted mapping (JSON body, CSV row) into a Transaction."""
        if not isinstance(data, Mapping):
            raise InvalidTransaction(f"expected a mapping, got {type(data).__name__}")
        missing = [f for f in TXN_FIELDS if f not in data or data[f] is None]
        if missing:
            raise InvalidTransaction(f"missing field(s): {', '.join(missing)}", field=missing[0])
        values = {}
        for name in _INT_FIELDS:
            value = data[name]
            if isinstance(value, np.integer):
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise InvalidTransaction(
                    f"{name} must be a non-negative integer, got {value!r}", field=name
                )
            values[name] = value
        amount = data["amount_paise"]
        if isinstance(amount, np.integer):
            amount = int(amount)
        money = Money.from_paise(
            amount, data["currency"], field="amount_paise", minimum=1, maximum=MAX_TXN_PAISE
        )
        if money.currency != MODEL_CURRENCY:
            raise UnknownCurrency(
                f"the fraud models are trained on {MODEL_CURRENCY} only, got {money.currency}",
                field="currency",
            )
        kind = data["kind"]
        if kind not in KINDS:
            raise InvalidTransaction(f"kind must be one of {KINDS}, got {kind!r}", field="kind")
        return cls(**values, amount_paise=money.paise, currency=money.currency, kind=str(kind))


def validate_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Check a batch with the rules of ``Transaction.from_dict``; returns it sorted by stream order.

    Stream order is ``(ts, txn_id)``: the order in which a live system would have seen them.
    """
    missing = [f for f in TXN_FIELDS if f not in df.columns]
    if missing:
        raise InvalidTransaction(f"missing column(s): {', '.join(missing)}", field=missing[0])
    for name in (*_INT_FIELDS, "amount_paise"):
        col = df[name]
        if not pd.api.types.is_integer_dtype(col.dtype):
            raise InvalidTransaction(f"column {name} must hold integers", field=name)
        if name != "amount_paise" and len(col) and int(col.min()) < 0:
            raise InvalidTransaction(f"column {name} has negative values", field=name)
    amounts = df["amount_paise"].to_numpy()
    if len(amounts) and (amounts.min() < 1 or amounts.max() > MAX_TXN_PAISE):
        raise InvalidAmount(f"amount_paise must be within 1..{MAX_TXN_PAISE}", field="amount_paise")
    currencies = set(df["currency"].unique())
    unknown = sorted(str(c) for c in currencies - set(CURRENCIES))
    if unknown:
        raise UnknownCurrency(f"unsupported currency {unknown[0]!r}", field="currency")
    if currencies - {MODEL_CURRENCY}:
        raise UnknownCurrency(
            f"the fraud models are trained on {MODEL_CURRENCY} only", field="currency"
        )
    if not df["kind"].isin(KINDS).all():
        raise InvalidTransaction(f"kind must be one of {KINDS}", field="kind")
    return df.sort_values(["ts", "txn_id"], kind="stable").reset_index(drop=True)
