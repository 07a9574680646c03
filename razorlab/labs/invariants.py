"""The payments lab's invariants: small pure functions over (history, final state).

Scenario: after a run full of retries, crashes and a moody bank, was the service correct?
Each rule below is one sentence a payments interviewer would ask about, checked against
what clients were *told* (the history's ``ok`` events) and what the bank's books say
(the final state). ``info`` outcomes (timeouts) promise nothing, so no rule reads them.

Design note. Every checker has the signature ``(history, final) -> list[str]`` and returns
one message per violation (empty: the rule held), so a verdict can quote the first one.
They are pure — no I/O, no randomness — and each is tested against hand-written histories
that break it (a checker that cannot fail is worse than none; Maelstrom's users found
exactly such holes). A charge is attributed to the idempotency key of the request the
service was serving when it sent it; a charge sent from ``reconcile()`` carries no key
and is attributed through its reference (the same reference charged under a known key,
or the payment id some client was told for a key).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

from razorlab.labs.history import Event, History, inr
from razorlab.labs.payments import PaymentResult, PaymentsFinal

__all__ = [
    "Invariant",
    "PAYMENT_INVARIANTS",
    "one_charge_per_key",
    "replay_returns_first_answer",
    "acknowledged_outcomes_survive_crash",
    "money_matches_records",
    "explain",
]

Invariant = Callable[[History, PaymentsFinal], list[str]]


def _answers(history: History) -> dict[str, list[tuple[Event, PaymentResult]]]:
    """Every answer a client received, per key, in the order received."""
    found: dict[str, list[tuple[Event, PaymentResult]]] = defaultdict(list)
    for event in history.of_kind("ok"):
        result = event.get("result")
        if isinstance(result, PaymentResult) and event.key is not None:
            found[event.key].append((event, result))
    return found


def _charges_by_key(history: History, final: PaymentsFinal) -> dict[str, list]:
    """The bank's successful charges, grouped by the key they are attributed to."""
    by_reference = {c.reference: c.key for c in final.charges if c.key is not None}
    for key, answers in _answers(history).items():
        for _, result in answers:
            by_reference.setdefault(result.payment_id, key)
    grouped: dict[str, list] = defaultdict(list)
    for charge in final.charges:
        if charge.state == "success":
            key = (
                charge.key or by_reference.get(charge.reference) or f"reference {charge.reference}"
            )
            grouped[key].append(charge)
    return grouped


def one_charge_per_key(history: History, final: PaymentsFinal) -> list[str]:
    """At most one successful bank charge per idempotency key.

    The whole point of an idempotency key: however many times a request is retried,
    duplicated or replayed after a crash, the customer pays once. A second charge is a
    refund ticket and a lost customer. (Declined charges move no money and do not count.)
    """
    return [
        f"{key} was charged {len(charges)} times: "
        + ", ".join(f"{c.id} {inr(c.amount_paise)}" for c in charges)
        for key, charges in sorted(_charges_by_key(history, final).items())
        if len(charges) > 1
    ]


def replay_returns_first_answer(history: History, final: PaymentsFinal) -> list[str]:
    """Every answer for a key names the same payment, and a final answer never changes.

    A retry with the same key must get the first request's answer back: same payment id,
    same amount. ``pending`` may later become ``captured`` or ``declined``, but once a client
    was told a final status, every later answer for that key must repeat it.
    """
    problems = []
    for key, answers in sorted(_answers(history).items()):
        (_, first), *rest = answers
        settled: PaymentResult | None = first if first.status != "pending" else None
        for event, result in rest:
            if (result.payment_id, result.amount_paise) != (first.payment_id, first.amount_paise):
                problems.append(f"{key}: first answer was {first}, a later one {result} "
                                f"(t={event.t:.3f}s)")  # fmt: skip
            elif settled is not None and result.status != settled.status:
                problems.append(f"{key}: told {settled.status}, later told {result.status} "
                                f"(t={event.t:.3f}s)")  # fmt: skip
            elif settled is None and result.status != "pending":
                settled = result
    return problems


def acknowledged_outcomes_survive_crash(history: History, final: PaymentsFinal) -> list[str]:
    """Every outcome a client was told (captured or declined) survives a crash and restart.

    An acknowledged payment is a promise: the merchant ships the goods. If the service
    answered "captured" from memory and crashed before that was durable, the restarted
    service denies a payment the customer saw succeed.
    """
    problems = []
    for key, answers in sorted(_answers(history).items()):
        told = [r for _, r in answers if r.status != "pending"]
        if not told:
            continue
        now = final.payments.get(key)
        if now is None:
            problems.append(f"{key}: client was told {told[-1]}, after the restart: no record")
        elif (now.status, now.payment_id) != (told[-1].status, told[-1].payment_id):
            problems.append(f"{key}: client was told {told[-1]}, after the restart: {now}")
    return problems


def money_matches_records(history: History, final: PaymentsFinal) -> list[str]:
    """After reconciliation, the service's records agree with the bank's books.

    A key shows ``captured`` exactly when the bank took the money, for the amount asked;
    money taken for a payment the service records as declined, pending or not at all is
    money taken without a trace — the crash-between-charge-and-commit bug.
    """
    charges = _charges_by_key(history, final)
    asked = _asked(history)
    problems = []
    for key in sorted(set(final.payments) | set(charges)):
        record, taken = final.payments.get(key), charges.get(key, [])
        if taken and (record is None or record.status != "captured"):
            shown = record.status if record else "no record"
            problems.append(f"{key}: the bank took {inr(taken[0].amount_paise)} "
                            f"({taken[0].id}) but the service says {shown}")  # fmt: skip
        elif record is not None and record.status == "captured" and not taken:
            problems.append(f"{key}: the service says captured but the bank took nothing")
        elif taken and key in asked and taken[0].amount_paise != asked[key]:
            problems.append(f"{key}: asked for {inr(asked[key])}, "
                            f"charged {inr(taken[0].amount_paise)}")  # fmt: skip
    return problems


def _asked(history: History) -> dict[str, int]:
    """The amount each key was created with, from the clients' invocations."""
    asked: dict[str, int] = {}
    for event in history.of_kind("invoke"):
        args = event.get("args")
        if event.key is not None and isinstance(args, tuple) and args:
            if isinstance(args[0], int):
                asked.setdefault(event.key, args[0])
    return asked


PAYMENT_INVARIANTS: tuple[Invariant, ...] = (
    one_charge_per_key,
    replay_returns_first_answer,
    acknowledged_outcomes_survive_crash,
    money_matches_records,
)


def explain(invariant: Invariant) -> str:
    """The rule in one sentence: the first line of the checker's docstring."""
    return (invariant.__doc__ or invariant.__name__).strip().splitlines()[0]
