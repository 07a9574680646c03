"""Reconciliation: does the bank agree with our ledger? And the payout file we send it.

Scenario: each morning the aggregator downloads the escrow bank's statement (CSV) and matches
every line against the payouts and collections its ledger expects. Anything that does not
match is an *exception* for the operations team:

* ``missing``     — we expected it, the bank never shows it (a payout not executed);
* ``unexpected``  — the bank shows it, our ledger does not (a stray credit, a fraud);
* ``duplicated``  — the bank shows the same reference more than once (paid twice);
* ``amount_mismatch`` — same reference, different amount (fees deducted, a typo);
* ``late``        — matched, but value-dated after the expected day + tolerance (an SLA breach).

Design note: matching is by our reference, which we put in the payout file's narration field
so the bank echoes it; amounts are parsed from rupee strings with ``Money.of`` into int paise
(never float). The matcher is a pandas merge, so a day of millions of lines is one join.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pandas as pd

from razorlab.errors import ValidationError
from razorlab.money import Money
from razorlab.rand import rng

__all__ = [
    "ISSUES",
    "Reconciliation",
    "reconcile",
    "read_statement",
    "statement_csv",
    "simulate_statement",
    "payout_file",
]

ISSUES = ("missing", "unexpected", "duplicated", "amount_mismatch", "late")
LATE_AFTER_DAYS = 1  # days of value-date slack before a matched line counts as late
STATEMENT_COLUMNS = ("date", "reference", "amount")


@dataclass(frozen=True)
class Reconciliation:
    """``matched`` references and one row per exception (``issue`` column)."""

    matched: int
    exceptions: pd.DataFrame

    def counts(self) -> dict[str, int]:
        found = self.exceptions["issue"].value_counts()
        return {issue: int(found.get(issue, 0)) for issue in ISSUES}

    def refs(self, issue: str) -> set[str]:
        return set(self.exceptions.loc[self.exceptions["issue"] == issue, "reference"])


def read_statement(source: str | Path | io.StringIO) -> pd.DataFrame:
    """Parse a bank statement CSV (``date,reference,amount`` in rupees) into int paise."""
    raw = pd.read_csv(source, dtype=str, keep_default_na=False)
    missing = [c for c in STATEMENT_COLUMNS if c not in raw.columns]
    if missing:
        raise ValidationError(f"statement lacks columns {missing}", field="statement")
    amounts = []
    for line, text in enumerate(raw["amount"], start=2):
        try:
            amounts.append(Money.of(text.strip()).paise)
        except ValidationError as exc:
            raise ValidationError(f"line {line}: {exc.description}", field="amount") from None
    return pd.DataFrame({
        "date": pd.to_datetime(raw["date"], format="%Y-%m-%d").dt.date,
        "reference": raw["reference"].str.strip(),
        "amount": pd.array(amounts, dtype="int64"),
    })  # fmt: skip


def statement_csv(statement: pd.DataFrame) -> str:
    """Write a statement frame (int paise) as the bank's CSV (rupees with two decimals)."""
    out = pd.DataFrame({
        "date": [d.isoformat() for d in statement["date"]],
        "reference": statement["reference"],
        "amount": [str(Money(int(a)).to_decimal()) for a in statement["amount"]],
    })  # fmt: skip
    return out.to_csv(index=False)


def reconcile(
    expected: pd.DataFrame, statement: pd.DataFrame, *, late_after_days: int = LATE_AFTER_DAYS
) -> Reconciliation:
    """Match ``expected`` (reference, amount, date) against a bank ``statement``."""
    for name, df in (("expected", expected), ("statement", statement)):
        if not set(STATEMENT_COLUMNS) <= set(df.columns):
            raise ValidationError(f"{name} needs columns {STATEMENT_COLUMNS}", field=name)
    if expected["reference"].duplicated().any():
        raise ValidationError("expected references must be unique", field="expected")
    ours = expected[list(STATEMENT_COLUMNS)]
    seen = statement.groupby("reference").size()
    dup = statement[statement["reference"].isin(seen[seen > 1].index)]
    first = statement.drop_duplicates("reference", keep="first")
    both = ours.merge(first, on="reference", how="outer", suffixes=("_ours", "_bank"),
                      indicator=True)  # fmt: skip
    issues = []

    def add(rows: pd.DataFrame, issue: str) -> None:
        issues.append(rows.assign(issue=issue))

    add(both[both["_merge"] == "left_only"], "missing")
    add(both[both["_merge"] == "right_only"], "unexpected")
    matched = both[both["_merge"] == "both"]
    add(matched[matched["reference"].isin(dup["reference"])], "duplicated")
    add(matched[matched["amount_ours"] != matched["amount_bank"]], "amount_mismatch")
    slack = timedelta(days=late_after_days)
    add(matched[[b > o + slack for o, b in zip(matched["date_ours"], matched["date_bank"], strict=True)]],
        "late")  # fmt: skip
    table = pd.concat(issues, ignore_index=True).drop(columns="_merge")
    clean = ~matched["reference"].isin(table["reference"])
    cols = ["reference", "issue", "amount_ours", "amount_bank", "date_ours", "date_bank"]
    table = table[cols].astype({"amount_ours": "Int64", "amount_bank": "Int64"})
    table = table.sort_values(["issue", "reference"], ignore_index=True)
    return Reconciliation(matched=int(clean.sum()), exceptions=table)


def simulate_statement(
    expected: pd.DataFrame, *, seed: int, per_issue: int = 3
) -> tuple[pd.DataFrame, dict[str, set[str]]]:
    """The bank's statement for ``expected`` with ``per_issue`` injected discrepancies of each
    kind; returns (statement, {issue: references injected})."""
    if len(expected) < 4 * per_issue:
        raise ValidationError(
            "too few expected lines for that many discrepancies", field="per_issue"
        )
    g = rng(seed, "statement")
    picks = g.choice(len(expected), 4 * per_issue, replace=False)
    groups = dict(zip(("missing", "duplicated", "amount_mismatch", "late"),
                      picks.reshape(4, per_issue), strict=True))  # fmt: skip
    bank = expected[list(STATEMENT_COLUMNS)].copy().reset_index(drop=True)
    bank.loc[groups["amount_mismatch"], "amount"] -= g.integers(1, 1_000, per_issue)
    bank.loc[groups["late"], "date"] = [
        d + timedelta(days=int(k)) for d, k in zip(bank.loc[groups["late"], "date"],
                                                   g.integers(LATE_AFTER_DAYS + 1, 5, per_issue), strict=True)
    ]  # fmt: skip
    extra = pd.DataFrame({
        "date": [bank["date"].iloc[0]] * per_issue,
        "reference": [f"UNKNOWN{i:04d}" for i in range(per_issue)],
        "amount": g.integers(100, 1_000_000, per_issue).astype("int64"),
    })  # fmt: skip
    out = pd.concat([bank.drop(index=groups["missing"]), bank.loc[groups["duplicated"]], extra])
    out = out.iloc[g.permutation(len(out))].reset_index(drop=True)
    ref = expected["reference"].to_numpy()
    injected = {issue: set(ref[idx]) for issue, idx in groups.items()}
    injected["unexpected"] = set(extra["reference"])
    return out, injected


def payout_file(payouts: pd.DataFrame, beneficiaries: dict[str, tuple[str, str]]) -> str:
    """The bulk-payout CSV a bank ingests: one line per positive payout.

    ``payouts`` has merchant_id, settle_date and payout (paise); ``beneficiaries`` maps a
    merchant to (account number, IFSC). The reference goes in the narration so the statement
    echoes it back for reconciliation.
    """
    rows = []
    for r in payouts[payouts["payout"] > 0].itertuples(index=False):
        if r.merchant_id not in beneficiaries:
            raise ValidationError(f"no bank account for {r.merchant_id!r}", field="merchant_id")
        account, ifsc = beneficiaries[r.merchant_id]
        rows.append({"reference": f"STL-{r.merchant_id}-{r.settle_date:%Y%m%d}",
                     "account_number": account, "ifsc": ifsc,
                     "amount": str(Money(int(r.payout)).to_decimal()),
                     "value_date": r.settle_date.isoformat(), "mode": "NEFT"})  # fmt: skip
    cols = ["reference", "account_number", "ifsc", "amount", "value_date", "mode"]
    return pd.DataFrame(rows, columns=cols).to_csv(index=False)
