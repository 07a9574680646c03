"""Reconciliation finds every injected discrepancy; the payout file round-trips."""

import io
from datetime import date

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.errors import ValidationError
from razorlab.settlement import (
    ISSUES,
    payout_file,
    read_statement,
    reconcile,
    simulate_statement,
    statement_csv,
)


def expected_lines(n):
    return pd.DataFrame(
        {
            "reference": [f"STL{i:05d}" for i in range(n)],
            "amount": [10_000 + 37 * i for i in range(n)],
            "date": [date(2026, 1, 5)] * n,
        }
    )


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), per_issue=st.integers(1, 5))
def test_every_injected_discrepancy_is_found(seed, per_issue):
    expected = expected_lines(40)
    statement, injected = simulate_statement(expected, seed=seed, per_issue=per_issue)
    parsed = read_statement(io.StringIO(statement_csv(statement)))
    result = reconcile(expected, parsed)
    for issue in ISSUES:
        assert result.refs(issue) == injected[issue], f"{issue} found exactly"
    assert result.matched == 40 - 4 * per_issue


def test_clean_statement_has_no_exceptions():
    expected = expected_lines(10)
    result = reconcile(expected, expected.copy())
    assert result.matched == 10 and result.exceptions.empty


def test_statement_amounts_are_parsed_exactly_and_bad_lines_named():
    good = read_statement(io.StringIO("date,reference,amount\n2026-01-05,A,0.10\n"))
    assert good["amount"].iloc[0] == 10
    with pytest.raises(ValidationError, match="line 2"):
        read_statement(io.StringIO("date,reference,amount\n2026-01-05,A,1.005\n"))
    with pytest.raises(ValidationError, match="columns"):
        read_statement(io.StringIO("when,ref,amt\n"))


def test_payout_file_lists_positive_payouts_in_rupees():
    payouts = pd.DataFrame(
        {"merchant_id": ["m1", "m2"], "settle_date": [date(2026, 1, 5)] * 2, "payout": [123_456, 0]}
    )
    text = payout_file(payouts, {"m1": ("0012345", "HDFC0000001"), "m2": ("9", "SBIN0000001")})
    lines = text.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("STL-m1-20260105,0012345,HDFC0000001,1234.56")
    with pytest.raises(ValidationError):
        payout_file(payouts, {})
