"""The ledger lab's invariants: small pure functions over (history, final ledger state).

Scenario: after a run of retried, duplicated and concurrent transfers and a crash or two, do
the books still add up, and did every reservation end once? Each rule is one sentence an
interviewer at a payments company asks about a ledger, judged from what clients were *told*
(``ok`` answers) and what a fresh instance reports at the end: every transfer id's record
(``lookup``) and every account's posted and pending debits and credits (``balances``).

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

Two-phase transfers: a posted post moves its pending's accounts by the post's own amount (the
record of the pending itself stays ``pending`` and moves nothing posted). Reservations are
judged at the end: every pending has by then been posted, voided or expired, so no account
may still hold one — unless a backward clock jump could keep a pending alive past the settle
(the service's clock times it out; :func:`~razorlab.labs.harness.clock_slack`). Whether a post
came after its pending expired is judged the same way: the pending's answer time plus its
timeout plus the slack, plus :data:`GRACE_S`, must be before the post was first delivered.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from itertools import combinations_with_replacement

from razorlab.labs.harness import SETTLE_S, clock_slack
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
    "pending_resolved_at_most_once",
    "posted_amount_within_pending",
    "expired_pending_is_not_posted",
    "reservations_are_released",
    "GRACE_S",
]

LedgerInvariant = Callable[[History, LedgerFinal], list[str]]
MAX_REPEATS = 3  # extra applications searched for when counters exceed the records
GRACE_S = 1.0  # seconds of slack between a service's clock read and its answer
RESOLVED = {"post_pending": "posted", "void_pending": "voided"}  # a resolution's success status

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
    """The ids that moved posted money: posted transfers and posted posts of a known pending."""
    return [k for k, r in final.transfers.items()
            if r is not None and r.status == "posted" and _move(final, k) is not None]  # fmt: skip


def _move(final: LedgerFinal, key: str) -> tuple[str, str, int] | None:
    """``(debit, credit, amount)`` that id ``key`` moves when posted (``None``: nothing)."""
    method = final.method(key)
    if method == "transfer":
        debit, credit, amount = final.asked[key]
        return debit, credit, amount
    if method == "post_pending":
        pending_id, amount = final.asked[key]
        if final.method(pending_id) == "pending" and pending_id in final.asked:
            debit, credit, _, _ = final.asked[pending_id]
            return debit, credit, amount
    return None


def _movement(final: LedgerFinal, ids: list[str]) -> Counter[tuple[str, str]]:
    """(account, "debits" | "credits") -> paise, for the transfers ``ids`` applied once each."""
    moved: Counter[tuple[str, str]] = Counter()
    for key in ids:
        debit, credit, amount = _move(final, key) or ("", "", 0)
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
    debit, credit, amount = _move(final, key) or final.asked[key][:3]
    post = f"post of {final.asked[key][0]}: " if final.method(key) == "post_pending" else ""
    return f"{key} ({post}{debit} → {credit} {inr(amount)})"


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
    """Money is conserved: Σ debits = Σ credits, posted and pending alike.

    Double entry's one law: every paisa leaves one account and enters another, so the
    balances always sum to what they summed to at the start (zero). A debit written without
    its credit — a lost update when two transfers rewrite one balance, or a crash between the
    two writes — creates or destroys money; a reservation held on the payer but not promised
    to the payee (or released on one side only) does the same to money in flight.
    """
    debits = sum(b.debits_paise for b in final.balances.values())
    credits = sum(b.credits_paise for b in final.balances.values())
    problems = []
    if debits != credits:
        problems.append(f"Σ debits {inr(debits)} ≠ Σ credits {inr(credits)}: the balances sum "
                        f"to {signed_inr(credits - debits)}, not ₹0.00")  # fmt: skip
    held = sum(b.debits_pending_paise for b in final.balances.values())
    owed = sum(b.credits_pending_paise for b in final.balances.values())
    if held != owed:
        problems.append(f"Σ pending debits {signed_inr(held)} ≠ Σ pending credits "
                        f"{signed_inr(owed)}: a reservation was made or released on one side "
                        "only")  # fmt: skip
    return problems


def balance_within_limit(history: History, final: LedgerFinal) -> list[str]:
    """No account ends below its limit, counting what its pending transfers reserve.

    An account's limit is what it may owe: zero for a plain wallet, the overdraft for one that
    has it. Checking the balance and then writing it as two steps lets two transfers pass the
    same check; the balance must be checked and moved in one step nobody interleaves with. A
    reservation is money already promised: a spend that ignores it overdraws the account the
    moment the pending is posted.
    """
    problems = []
    for account, b in sorted(final.balances.items()):
        floor = ACCOUNTS.get(account)
        if floor is not None and b.available_paise < floor:
            held = b.debits_pending_paise
            reserved = f" with {signed_inr(held)} reserved" if held else ""
            problems.append(f"account {account} ends at {signed_inr(b.available_paise)}"
                            f"{reserved}, below its limit of {signed_inr(floor)}")  # fmt: skip
    return problems


def acknowledged_transfer_survives_crash(history: History, final: LedgerFinal) -> list[str]:
    """Every transfer a client was told is posted (pending, voided) stays so after a crash.

    "Posted" is a promise: the payer has been told the money left. A ledger that answered
    before its write was durable, or whose write a crash rolled back, denies a transfer the
    client saw succeed.
    """
    problems = []
    for key, answers in sorted(_answers(history).items()):
        told = next((r.status for _, r in answers if r.status != "refused"), None)
        if told is not None:
            now = final.transfers.get(key)
            if now is None or now.status != told:
                problems.append(f"{key}: client was told {told}, after the restart: "
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


def _pendings(final: LedgerFinal) -> list[str]:
    return [k for k in final.asked if final.method(k) == "pending"]


def _resolutions(history: History, final: LedgerFinal) -> dict[str, dict[str, str]]:
    """pending id -> {post or void id: posted | voided} that told a client so or recorded so."""
    found: dict[str, dict[str, str]] = defaultdict(dict)
    told = {k: [r.status for _, r in a] for k, a in _answers(history).items()}
    for key in final.asked:
        success = RESOLVED.get(final.method(key))
        record = final.transfers.get(key)
        if success and (success in told.get(key, ()) or (record and record.status == success)):
            found[final.asked[key][0]][key] = success
    return found


def pending_resolved_at_most_once(history: History, final: LedgerFinal) -> list[str]:
    """A pending transfer is resolved at most once: posted, voided or expired — one of them.

    A reservation is a promise to the payee that ends exactly once. A post and a void that both
    succeed (two workers racing, each checking "still pending?" before writing) give the money
    back to the payer *and* to the payee; two posts capture it twice; one void applied twice
    releases the reservation twice (a pending counter below zero).
    """
    problems = []
    for pending_id, done in sorted(_resolutions(history, final).items()):
        if len(done) > 1:
            shown = " and ".join(f"{k} ({status})" for k, status in sorted(done.items()))
            problems.append(f"pending {pending_id} was resolved {len(done)} times: {shown}")
    for account, b in sorted(final.balances.items()):
        for side, paise in (
            ("debits", b.debits_pending_paise),
            ("credits", b.credits_pending_paise),
        ):
            if paise < 0:
                problems.append(f"account {account} has {signed_inr(paise)} of pending {side}: "
                                "a reservation was released more than once")  # fmt: skip
    return problems


def posted_amount_within_pending(history: History, final: LedgerFinal) -> list[str]:
    """A post captures at most what its pending reserved, and only a pending that exists.

    A card authorised for ₹400 may be captured for ₹300, never ₹600: the payer agreed to the
    reservation, not to more (TigerBeetle refuses it: ``exceeds_pending_transfer_amount``). A
    post of a pending the ledger refused or never recorded moves money nobody reserved.
    """
    problems = []
    for pending_id, done in sorted(_resolutions(history, final).items()):
        record = final.transfers.get(pending_id)
        for key, status in sorted(done.items()):
            if status != "posted":
                continue
            amount = final.asked[key][1]
            if pending_id not in final.asked or record is None or record.status != "pending":
                problems.append(f"{key} posted {inr(amount)} of pending {pending_id}, which the "
                                f"ledger records as {record or 'nothing'}")  # fmt: skip
            elif amount > (reserved := final.asked[pending_id][2]):
                problems.append(f"{key} posted {inr(amount)} of pending {pending_id}, which "
                                f"reserved {inr(reserved)}")  # fmt: skip
    return problems


def _first(history: History, kind: str, key: str, status: str | None = None) -> float | None:
    """When ``key`` was first delivered (``deliver``) or first answered ``status`` (``ok``)."""
    times = [
        e.t
        for e in history.of_kind(kind)
        if e.key == key and (status is None or getattr(e.get("result"), "status", None) == status)
    ]
    return min(times, default=None)


def expired_pending_is_not_posted(history: History, final: LedgerFinal) -> list[str]:
    """A pending transfer that has expired is never posted.

    Once its timeout passed, the reservation is released and the money may already be spent
    elsewhere; a late capture would take it a second time (TigerBeetle answers
    ``pending_transfer_expired``). An expiry is a state change, not a comparison redone at each
    read: a clock stepped back must not revive it.
    """
    slack = clock_slack(history)
    problems = []
    for pending_id, done in sorted(_resolutions(history, final).items()):
        answered = _first(history, "ok", pending_id, "pending")
        if answered is None or final.method(pending_id) != "pending":
            continue
        expired = answered + final.asked[pending_id][3]
        for key, status in sorted(done.items()):
            sent = _first(history, "deliver", key)
            if status == "posted" and sent is not None and sent > expired + slack + GRACE_S:
                problems.append(f"{key} posted pending {pending_id} (first delivered "
                                f"t={sent:.3f}s), which had expired by "
                                f"t={expired:.3f}s")  # fmt: skip
    return problems


def reservations_are_released(history: History, final: LedgerFinal) -> list[str]:
    """When every pending transfer has been posted, voided or expired, nothing stays reserved.

    A pending that outlives its timeout blocks its payer's money for ever: the payer cannot
    spend what they own. After the final settle every pending has timed out by the service's
    own clock (unless clock jumps could hold it back), so every account's pending debits and
    credits must be zero.
    """
    timeouts = [final.asked[k][3] for k in _pendings(final)]
    if max(timeouts, default=0) + clock_slack(history) + GRACE_S >= SETTLE_S:
        return []  # a pending may still be live by the service's clock
    return [f"account {account} still has {signed_inr(b.debits_pending_paise)} of pending "
            f"debits and {signed_inr(b.credits_pending_paise)} of pending credits after every "
            "pending ended"
            for account, b in sorted(final.balances.items())
            if b.debits_pending_paise or b.credits_pending_paise]  # fmt: skip


LEDGER_INVARIANTS: tuple[LedgerInvariant, ...] = (
    transfer_applied_at_most_once,
    money_is_conserved,
    balance_within_limit,
    acknowledged_transfer_survives_crash,
    retry_returns_first_answer,
    balances_match_transfers,
    pending_resolved_at_most_once,
    posted_amount_within_pending,
    expired_pending_is_not_posted,
    reservations_are_released,
)
