"""Money: integer paise, Indian formatting, one rounding rule, loud failures."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.money import (
    MAX_PAISE,
    CurrencyMismatch,
    InvalidAmount,
    Money,
    Rounding,
    UnknownCurrency,
    money_sum,
)

paise = st.integers(min_value=-(10**15), max_value=10**15)


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "₹0.00"),
        (5, "₹0.05"),
        (100_00, "₹100.00"),
        (1_000_00, "₹1,000.00"),
        (1_00_000_00, "₹1,00,000.00"),
        (1_23_456_78, "₹1,23,456.78"),
        (12_34_56_789_00, "₹12,34,56,789.00"),
        (-1_23_456_78, "-₹1,23,456.78"),
    ],
)
def test_inr_formats_with_indian_grouping(amount, text):
    assert Money(amount).format() == text
    assert Money.parse(text) == Money(amount)


def test_other_currencies_group_in_thousands():
    assert Money(123_456_78, "USD").format() == "$123,456.78"
    assert Money(1500, "JPY").format() == "¥1,500"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rs. 100", Money(100_00)),
        ("rs 5.5", Money(5_50)),
        ("1,234.50 USD", Money(1_234_50, "USD")),
        ("INR 7", Money(7_00)),
        ("  -₹0.01 ", Money(-1)),
    ],
)
def test_parse_accepts_common_spellings(text, expected):
    assert Money.parse(text) == expected


@pytest.mark.parametrize("text", ["", "₹", "abc", "₹1,2,3", "₹1.234", "1e5", "₹12,34"])
def test_parse_rejects_garbage_and_sub_paisa(text):
    with pytest.raises(InvalidAmount):
        Money.parse(text)


@pytest.mark.parametrize("bad", [1.5, 100.0, float("nan"), True, "100", None, Decimal("1")])
def test_constructor_and_from_paise_reject_non_integers(bad):
    with pytest.raises(InvalidAmount) as err:
        Money.from_paise(bad)
    assert err.value.field == "amount"
    with pytest.raises(InvalidAmount):
        Money(bad)


def test_from_paise_enforces_bounds_and_names_the_field():
    with pytest.raises(InvalidAmount, match="at least 100"):
        Money.from_paise(99, minimum=100, field="amount")
    with pytest.raises(InvalidAmount, match="refund_amount"):
        Money.from_paise(-1, field="refund_amount")
    with pytest.raises(InvalidAmount, match="out of range"):
        Money.from_paise(MAX_PAISE + 1)
    assert Money.from_paise(-5, minimum=None) == Money(-5)


@pytest.mark.parametrize("currency", ["inr", "XYZ", "", None, 356])
def test_unknown_currency_is_rejected(currency):
    with pytest.raises(UnknownCurrency):
        Money(1, currency)


def test_mixed_currencies_never_combine():
    with pytest.raises(CurrencyMismatch):
        Money(1, "INR") + Money(1, "USD")
    with pytest.raises(CurrencyMismatch):
        _ = Money(1, "INR") < Money(2, "USD")
    assert Money(1, "INR") != Money(1, "USD")


def test_of_refuses_floats_and_extra_precision():
    assert Money.of("123.45") == Money(123_45)
    assert Money.of(7) == Money(7_00)
    for bad in (0.1, "1.001", "NaN", "Infinity", "x"):
        with pytest.raises(InvalidAmount):
            Money.of(bad)


def test_percent_rounds_half_up_by_default():
    # 1.99% MDR on ₹100.50 is 199.995 paise -> 200 (half up), 199 (floor)
    assert Money(100_50).percent("1.99") == Money(200)
    assert Money(100_50).percent("1.99", Rounding.FLOOR) == Money(199)
    # 18% GST on a 25-paise fee is 4.5 paise: half-up 5, banker's 4
    assert Money(25).percent(18) == Money(5)
    assert Money(25).percent(18, Rounding.HALF_EVEN) == Money(4)
    with pytest.raises(InvalidAmount):
        Money(100).percent(1.99)
    with pytest.raises(InvalidAmount):
        Money(100).percent("-1")


def test_multiplying_by_a_float_is_a_type_error():
    with pytest.raises(TypeError):
        Money(100) * 1.5
    assert 3 * Money(100) == Money(300)


@given(a=paise, b=paise, c=paise)
def test_addition_is_exact_associative_and_commutative(a, b, c):
    x, y, z = Money(a), Money(b), Money(c)
    assert (x + y) + z == x + (y + z)
    assert x + y == y + x
    assert (x + y) - y == x
    assert x + Money.zero() == x


@given(a=paise, b=paise)
def test_ordering_matches_integer_ordering(a, b):
    assert (Money(a) < Money(b)) == (a < b)
    assert (Money(a) >= Money(b)) == (a >= b)


@given(amount=paise)
def test_format_and_parse_round_trip(amount):
    assert Money.parse(Money(amount).format()) == Money(amount)


@settings(max_examples=200)
@given(amount=paise, weights=st.lists(st.integers(0, 1000), min_size=1, max_size=8).filter(any))
def test_allocate_conserves_every_paisa(amount, weights):
    parts = Money(amount).allocate(weights)
    assert money_sum(parts) == Money(amount)
    total = sum(weights)
    for part, w in zip(parts, weights, strict=True):
        assert abs(part.paise - amount * w / total) < 1 + 1e-9


@given(amount=st.integers(0, 10**12), rate=st.decimals(0, 100, places=2))
def test_percent_is_within_half_a_paisa_of_exact(amount, rate):
    fee = Money(amount).percent(rate)
    assert abs(Decimal(fee.paise) - Decimal(amount) * rate / 100) <= Decimal("0.5")
