"""Money as integer minor units (paise for INR), never floats.

Why: ₹0.10 + ₹0.20 is not ₹0.30 in binary floating point, and a ledger that
drifts by a paisa a million times a day does not balance. Razorpay's API, like
Stripe's, takes amounts as integers in the smallest unit; so do we.

Rounding rule (the only place razorlab rounds money): a percentage of an amount
is computed exactly as a rational number and then rounded to a whole paisa with
``ROUND_HALF_UP`` (0.5 paisa goes up), the commercial rule used for fees and GST
on invoices. Callers may choose banker's rounding, floor or ceiling explicitly.
Splitting an amount uses largest-remainder allocation so the parts always add
back to the whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING,
    ROUND_FLOOR,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Decimal,
    InvalidOperation,
)
from enum import Enum

from razorlab.errors import ValidationError

__all__ = [
    "Money",
    "Rounding",
    "MoneyError",
    "InvalidAmount",
    "UnknownCurrency",
    "CurrencyMismatch",
    "CURRENCIES",
    "MAX_PAISE",
    "money_sum",
]

#: ISO 4217 code -> (symbol, digits after the decimal point).
CURRENCIES: dict[str, tuple[str, int]] = {
    "INR": ("₹", 2),
    "USD": ("$", 2),
    "EUR": ("€", 2),
    "GBP": ("£", 2),
    "SGD": ("S$", 2),
    "AED": ("AED ", 2),
    "JPY": ("¥", 0),
}

#: Largest magnitude we accept: what a signed 64-bit SQLite INTEGER can hold.
MAX_PAISE = 2**63 - 1


class MoneyError(ValidationError):
    """Base for money mistakes; an API returns them as 400s."""


class InvalidAmount(MoneyError):
    code = "INVALID_AMOUNT"


class UnknownCurrency(MoneyError):
    code = "INVALID_CURRENCY"


class CurrencyMismatch(MoneyError):
    code = "CURRENCY_MISMATCH"


class Rounding(Enum):
    """How a fractional paisa becomes a whole one."""

    HALF_UP = ROUND_HALF_UP
    HALF_EVEN = ROUND_HALF_EVEN
    FLOOR = ROUND_FLOOR
    CEILING = ROUND_CEILING


def _check_currency(currency: object, field: str = "currency") -> str:
    if not isinstance(currency, str) or currency not in CURRENCIES:
        raise UnknownCurrency(
            f"unsupported currency {currency!r}; use one of {sorted(CURRENCIES)}", field=field
        )
    return currency


def _check_integer(value: object, field: str) -> int:
    # bool is an int subclass; True paise is a bug, not an amount.
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidAmount(
            f"{field} must be an integer number of paise, got {type(value).__name__} {value!r}",
            field=field,
        )
    if abs(value) > MAX_PAISE:
        raise InvalidAmount(
            f"{field} {value} is out of range (|amount| <= {MAX_PAISE})", field=field
        )
    return value


_GROUPED = re.compile(r"^(\d{1,3}(,\d{3})+|\d{1,2}(,\d{2})*,\d{3}|\d+)(\.\d+)?$")


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in minor units of one currency: ``Money(12345, "INR")`` is ₹123.45."""

    paise: int
    currency: str = "INR"

    def __post_init__(self) -> None:
        _check_integer(self.paise, "amount")
        _check_currency(self.currency)

    # ----- construction from untrusted input -------------------------------------------
    @classmethod
    def from_paise(
        cls,
        value: object,
        currency: object = "INR",
        *,
        field: str = "amount",
        minimum: int | None = 0,
        maximum: int | None = None,
    ) -> Money:
        """Validate an amount that arrived from outside (JSON, CSV, a learner).

        Rejects floats (even ``100.0``), bools, strings, NaN, amounts below ``minimum``
        (default: no negatives) and above ``maximum``, each with a message naming ``field``.
        """
        paise = _check_integer(value, field)
        if minimum is not None and paise < minimum:
            raise InvalidAmount(
                f"{field} must be at least {minimum} paise, got {paise}", field=field
            )
        if maximum is not None and paise > maximum:
            raise InvalidAmount(
                f"{field} must be at most {maximum} paise, got {paise}", field=field
            )
        return cls(paise, _check_currency(currency))

    @classmethod
    def of(cls, major: str | int | Decimal, currency: str = "INR") -> Money:
        """``Money.of("123.45")`` is ₹123.45; refuses sub-paisa precision and floats."""
        if isinstance(major, float | bool) or not isinstance(major, str | int | Decimal):
            raise InvalidAmount(
                f"amount must be a str, int or Decimal, got {type(major).__name__}", field="amount"
            )
        digits = CURRENCIES[_check_currency(currency)][1]
        try:
            value = Decimal(major)
        except InvalidOperation:
            raise InvalidAmount(f"not a number: {major!r}", field="amount") from None
        if not value.is_finite():
            raise InvalidAmount(f"amount must be finite, got {major!r}", field="amount")
        minor = value.scaleb(digits)
        if minor != minor.to_integral_value():
            raise InvalidAmount(f"{major!r} has more than {digits} decimal places", field="amount")
        return cls(int(minor), currency)

    @classmethod
    def parse(cls, text: str, currency: str = "INR") -> Money:
        """Read ``"₹1,23,456.78"``, ``"-₹5"``, ``"1,234.50 INR"`` or ``"Rs. 100"``."""
        if not isinstance(text, str):
            raise InvalidAmount(f"expected text, got {type(text).__name__}", field="amount")
        s = text.strip().replace("\u00a0", " ")
        sign = ""
        if s.startswith("-"):
            sign, s = "-", s[1:].strip()
        for code, (symbol, _) in CURRENCIES.items():
            for marker in (code, symbol.strip()):
                if s.startswith(marker):
                    currency, s = code, s[len(marker) :].strip()
                elif s.endswith(" " + marker):
                    currency, s = code, s[: -len(marker)].strip()
        if s.lower().startswith(("rs.", "rs")):
            currency, s = "INR", s[3 if s.lower().startswith("rs.") else 2 :].strip()
        if not _GROUPED.match(s):
            raise InvalidAmount(f"cannot read an amount from {text!r}", field="amount")
        return cls.of(sign + s.replace(",", ""), currency)

    # ----- presentation ----------------------------------------------------------------
    @property
    def digits(self) -> int:
        return CURRENCIES[self.currency][1]

    def to_decimal(self) -> Decimal:
        """The amount in major units, exactly (for display, never for arithmetic)."""
        return Decimal(self.paise).scaleb(-self.digits)

    def format(self) -> str:
        """Indian grouping for INR (``₹1,23,456.78``), groups of three otherwise."""
        symbol, digits = CURRENCIES[self.currency]
        whole, frac = divmod(abs(self.paise), 10**digits)
        text = str(whole)
        if self.currency == "INR" and len(text) > 3:
            head, tail = text[:-3], text[-3:]
            groups = []
            while len(head) > 2:
                groups.insert(0, head[-2:])
                head = head[:-2]
            text = ",".join([head, *groups, tail])
        else:
            text = f"{whole:,}"
        if digits:
            text += f".{frac:0{digits}d}"
        return ("-" if self.paise < 0 else "") + symbol + text

    def __str__(self) -> str:
        return self.format()

    # ----- arithmetic ------------------------------------------------------------------
    def _same(self, other: object) -> Money:
        if not isinstance(other, Money):
            raise TypeError(f"cannot combine Money with {type(other).__name__}")
        if other.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot combine {self.currency} with {other.currency}", field="currency"
            )
        return other

    def __add__(self, other: Money) -> Money:
        return Money(self.paise + self._same(other).paise, self.currency)

    def __sub__(self, other: Money) -> Money:
        return Money(self.paise - self._same(other).paise, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.paise, self.currency)

    def __abs__(self) -> Money:
        return Money(abs(self.paise), self.currency)

    def __mul__(self, factor: int) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, int):
            raise TypeError("Money can only be multiplied by an int; use percent() for rates")
        return Money(self.paise * factor, self.currency)

    __rmul__ = __mul__

    def __lt__(self, other: Money) -> bool:
        return self.paise < self._same(other).paise

    def __le__(self, other: Money) -> bool:
        return self.paise <= self._same(other).paise

    def __gt__(self, other: Money) -> bool:
        return self.paise > self._same(other).paise

    def __ge__(self, other: Money) -> bool:
        return self.paise >= self._same(other).paise

    def is_zero(self) -> bool:
        return self.paise == 0

    def percent(self, rate: str | int | Decimal, rounding: Rounding = Rounding.HALF_UP) -> Money:
        """``rate`` percent of this amount, rounded to a whole paisa by ``rounding``.

        ``Money(10_000).percent("1.99")`` is the 1.99% MDR on ₹100: 199 paise.
        The rate is a str, int or Decimal so that "18" means exactly 18, never 17.999….
        """
        if isinstance(rate, float | bool) or not isinstance(rate, str | int | Decimal):
            raise InvalidAmount(
                f"rate must be a str, int or Decimal, got {type(rate).__name__}", field="rate"
            )
        try:
            r = Decimal(rate)
        except InvalidOperation:
            raise InvalidAmount(f"not a rate: {rate!r}", field="rate") from None
        if not r.is_finite() or r < 0:
            raise InvalidAmount(
                f"rate must be a finite, non-negative percentage, got {rate!r}", field="rate"
            )
        exact = Decimal(self.paise) * r / 100
        return Money(int(exact.quantize(Decimal(1), rounding=rounding.value)), self.currency)

    def allocate(self, weights: Sequence[int]) -> list[Money]:
        """Split by integer weights; parts differ from exact shares by < 1 paisa and sum to self.

        Largest-remainder method: each part gets its floor share, leftover paise go to
        the parts with the largest remainders (earliest first on ties), so it is deterministic.
        """
        if not weights or any(
            isinstance(w, bool) or not isinstance(w, int) or w < 0 for w in weights
        ):
            raise InvalidAmount(
                "weights must be a non-empty list of non-negative ints", field="weights"
            )
        total = sum(weights)
        if total == 0:
            raise InvalidAmount("weights must not all be zero", field="weights")
        sign = -1 if self.paise < 0 else 1
        magnitude = abs(self.paise)
        shares = [divmod(magnitude * w, total) for w in weights]
        parts = [q for q, _ in shares]
        leftover = magnitude - sum(parts)
        by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
        for i in by_remainder[:leftover]:
            parts[i] += 1
        return [Money(sign * p, self.currency) for p in parts]

    @classmethod
    def zero(cls, currency: str = "INR") -> Money:
        return cls(0, currency)


def money_sum(amounts: Iterable[Money], currency: str = "INR") -> Money:
    """Sum of amounts of one currency (the empty sum is zero of ``currency``)."""
    total = Money.zero(currency)
    for amount in amounts:
        total = total + amount
    return total
