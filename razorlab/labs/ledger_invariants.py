"""The ledger lab's invariants: small pure functions over (history, final ledger state).

Scenario: after a run of retried, duplicated and concurrent transfers and a crash or two, do
the books still add up? Each rule is one sentence an interviewer at a payments company asks
about a ledger, judged from what clients were *told* (``ok`` answers) and what a fresh
instance reports at the end: every transfer id's record (``lookup``) and every account's
posted debits and credits (``balances``).

Design note. Like :mod:`~razorlab.labs.invariants`, each checker is
``(history, final) -> list[str]``, pure, and tested against hand-written states that break
it. The ledger's own records are the yardstick for its counters: an account's debits must be
the sum of the posted transfers that debit it, each counted once. When they differ, the
difference tells what happened: a posted transfer counted again
(:func:`transfer_applied_at_most_once`, found by trying up to :data:`MAX_REPEATS` extra
applications of posted transfers), one side of a transfer lost or doubled
(:func:`money_is_conserved`), or a whole transfer missing or extra
(:func:`balances_match_transfers`). Timeouts (``info``) promise nothing, so only ``ok``
answers are read; which of a timed-out id's outcomes happened is whatever the ledger's record
says, as long as its counters agree. The limit is judged on the final balances only (the
history does not show intermediate ones) — an overdraft that later money covered goes unseen.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import combinations_with_replacement

from razorlab.labs.history import Event, History, inr
from razorlab.labs.ledger import ACCOUNTS, AccountBalance, LedgerFinal, TransferResult, signed_inr

__all__ = [
    "LEDGER_INVARIANTS",
    "LedgerInvariant",
    "transfer_applied_at_most_once",
    "money_is_conserved",
    "balance_within_limit",
    "acknowledged_transfer_survives_crash",
    "retry_returns_first_answer",
    "balances_match_transfers",
]

LedgerInvariant = Callable[[History, LedgerFinal], list[str]]
MAX_REPEATS = 3  # extra applications searched for when counters exceed the records

Movement = tuple[tuple[str, int, int], ...]  # (account, debits, credits), sorted, nonzero


def _answers(history: History) -> dict[str, list[tuple[Event, TransferResult]]]:
    """Every answer a client received, per transfer id, in the order received."""
    found: dict[str, list[tuple[Event, TransferResult]]] = defaultdict(list)
    for event in history.of_kind("ok"):
        result = event.get("result")
        if isinstance(result, TransferResult) and event.key is not None:
            found[event.key].append((event, result))
    return found


def _posted(final: LedgerFinal) -> list[str]:
    return [k for k, r in final.transfers.items() if r is not None and r.status == "posted"]


def _movement(final: LedgerFinal, ids: list[str]) -> Counter[tuple[str, str]]:
    """(account, "debits" | "credits") -> paise, for the transfers ``ids`` applied once each."""
    moved: Counter[tuple[str, str]] = Counter()
    for key in ids:
        debit, credit, amount = final.asked[key]
        moved[debit, "debits"] += amount
        moved[credit, "credits"] += amount
    return moved


def _unexplained(final: LedgerFinal) -> Counter[tuple[str, str]]:
    """What the counters show minus what the posted records explain (zero entries dropped)."""
    actual: Counter[tuple[str, str]] = Counter()
    for account, b in final.balances.items():
        actual[account, "debits"] += b.debits_paise
        actual[account, "credits"] += b.credits_paise
    actual.subtract(_movement(final, _posted(final)))
    return Counter({k: v for k, v in actual.items() if v})


def _describe(final: LedgerFinal, key: str) -> str:
    debit, credit, amount = final.asked[key]
    return f"{key} ({debit} → {credit} {inr(amount)})"


def transfer_applied_at_most_once(history: History, final: LedgerFinal) -> list[str]:
    """A transfer id moves money at most once.

    The transfer id is the idempotency key: a retry, a duplicate delivery or a replay after a
    crash must find the first application and move nothing. An account that was debited again
    for a transfer it has one record of is a customer charged twice.
    """
    extra = _unexplained(final)
    if not extra or any(v < 0 for v in extra.values()):
        return []
    posted = _posted(final)
    for size in range(1, MAX_REPEATS + 1):
        for again in combinations_with_replacement(posted, size):
            if _movement(final, list(again)) == extra:
                counts = Counter(again)
                return [f"{_describe(final, k)} was applied {n + 1} times; the ledger records it "
                        "once" for k, n in sorted(counts.items())]  # fmt: skip
    return []


def money_is_conserved(history: History, final: LedgerFinal) -> list[str]:
    """Money is conserved: the sum of all debits equals the sum of all credits.

    Double entry's one law: every paisa leaves one account and enters another, so the
    balances always sum to what they summed to at the start (zero). A debit written without
    its credit — a lost update when two transfers rewrite one balance, or a crash between the
    two writes — creates or destroys money.
    """
    debits = sum(b.debits_paise for b in final.balances.values())
    credits = sum(b.credits_paise for b in final.balances.values())
    if debits == credits:
        return []
    return [f"Σ debits {inr(debits)} ≠ Σ credits {inr(credits)}: the balances sum to "
            f"{signed_inr(credits - debits)}, not ₹0.00"]  # fmt: skip


def balance_within_limit(history: History, final: LedgerFinal) -> list[str]:
    """No account ends below its limit (its lowest allowed balance).

    An account's limit is what it may owe: zero for a plain wallet, the overdraft for one that
    has it. Checking the balance and then writing it as two steps lets two transfers pass the
    same check; the balance must be checked and moved in one step nobody interleaves with.
    """
    problems = []
    for account, b in sorted(final.balances.items()):
        floor = ACCOUNTS.get(account)
        if floor is not None and b.balance_paise < floor:
            problems.append(f"account {account} ends at {signed_inr(b.balance_paise)}, below "
                            f"its limit of {signed_inr(floor)}")  # fmt: skip
    return problems


def acknowledged_transfer_survives_crash(history: History, final: LedgerFinal) -> list[str]:
    """Every transfer a client was told is posted is still posted after a crash and restart.

    "Posted" is a promise: the payer has been told the money left. A ledger that answered
    before its write was durable, or whose write a crash rolled back, denies a transfer the
    client saw succeed.
    """
    problems = []
    for key, answers in sorted(_answers(history).items()):
        if any(r.status == "posted" for _, r in answers):
            now = final.transfers.get(key)
            if now is None or now.status != "posted":
                problems.append(f"{key}: client was told posted, after the restart: "
                                f"{now if now else 'no record'}")  # fmt: skip
    return problems


def retry_returns_first_answer(history: History, final: LedgerFinal) -> list[str]:
    """A retried transfer id gets its first answer back — a refusal included.

    A client that was told "refused: insufficient funds" has acted on it (shown an error,
    tried another card). If a retry of the same id later posts because money arrived
    meanwhile, the payer pays for something they were told failed. Every answer for an id, and
    the ledger's record of it at the end, must have the first answer's status.
    """
    problems = []
    for key, answers in sorted(_answers(history).items()):
        (_, first), *rest = answers
        for event, result in rest:
            if result.status != first.status:
                problems.append(f"{key}: first told {first.status}, then {result.status} "
                                f"(t={event.t:.3f}s)")  # fmt: skip
                break
        now = final.transfers.get(key)
        if now is None or now.status != first.status:
            problems.append(f"{key}: first told {first.status}, the ledger's record at the end: "
                            f"{now if now else 'none'}")  # fmt: skip
    return problems


def balances_match_transfers(history: History, final: LedgerFinal) -> list[str]:
    """Each account's debits and credits are exactly those of its posted transfers.

    The transfers are the books; the balances are a running total of them. A transfer
    recorded as posted but missing from the totals, or totals moved by a transfer recorded
    as refused or not at all, means the two disagree and one of them is lying.
    """
    recorded = _movement(final, _posted(final))
    problems = []
    for account, side in sorted(_unexplained(final)):
        b = final.balances.get(account, AccountBalance(0, 0))
        shown = b.debits_paise if side == "debits" else b.credits_paise
        problems.append(f"account {account}: {side} are {inr(shown)}, its posted transfers "
                        f"add up to {inr(recorded[account, side])}")  # fmt: skip
    return problems


LEDGER_INVARIANTS: tuple[LedgerInvariant, ...] = (
    transfer_applied_at_most_once,
    money_is_conserved,
    balance_within_limit,
    acknowledged_transfer_survives_crash,
    retry_returns_first_answer,
    balances_match_transfers,
)
