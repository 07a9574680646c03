"""The recorded history of a lab run: what each client asked, what it was told, what happened.

Scenario: a client sends ``create_payment(k1, ₹499)``, the reply is lost, it retries, the
service crashes, the bank charges. To judge the service afterwards we need the run as a
list of facts in order, not logs. Jepsen calls it a *history*: an ``invoke`` when a client
sends an operation and exactly one completion — ``ok`` (it happened, here is the answer),
``fail`` (it definitely did not happen) or ``info`` (the client cannot know: a timeout).
An ``info`` operation may or may not have taken effect, so a checker must accept either.
Alongside the clients' view we record what the service, the bank and the harness did
(deliveries, charges, crashes, restarts), which is what a learner needs to *see* the bug.

Design note. An :class:`Event` is immutable and holds only plain values (strings, ints,
virtual-time floats, tuples), so a history compares with ``==`` and hashes to a
:func:`History.digest` that is identical for identical runs — the determinism tests rely
on it. Time is the loop's virtual time in seconds; nothing here reads a clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from razorlab.money import Money

__all__ = ["Event", "History", "Recorder", "CLIENT_KINDS", "inr"]

#: The client-side event kinds, Jepsen's vocabulary.
CLIENT_KINDS = ("invoke", "ok", "fail", "info")


def inr(paise: int) -> str:
    """``49900`` -> ``'₹499.00'`` (money is integer paise everywhere in the labs)."""
    return Money.from_paise(paise).format()


@dataclass(frozen=True)
class Event:
    """One fact of a run. ``lane`` is who did it: ``client 1``, ``service``, ``bank``, ``harness``.

    ``op`` and ``attempt`` tie client events to the operation they belong to; ``key`` is
    the idempotency key (or seat) involved; ``value`` is the answer or the bank outcome;
    ``to`` names the lane a message goes to (for arrows in the figure).
    """

    t: float
    lane: str
    kind: str
    text: str
    key: str | None = None
    op: int | None = None
    attempt: int | None = None
    value: tuple[tuple[str, object], ...] = ()
    to: str | None = None

    def get(self, name: str, default: object = None) -> object:
        """A field of :attr:`value` (stored as sorted pairs so events stay hashable)."""
        return dict(self.value).get(name, default)


@dataclass(frozen=True)
class History:
    """An ordered, immutable run history."""

    events: tuple[Event, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __len__(self) -> int:
        return len(self.events)

    def of_kind(self, *kinds: str) -> list[Event]:
        return [e for e in self.events if e.kind in kinds]

    def digest(self) -> str:
        """SHA-256 of the whole history: equal digests mean bit-for-bit equal runs."""
        return hashlib.sha256(repr(self.events).encode("utf-8")).hexdigest()

    def lanes(self) -> list[str]:
        """Clients in number order, then the service, the bank, the harness (those present)."""
        seen = {e.lane for e in self.events} | {e.to for e in self.events if e.to}
        clients = sorted((x for x in seen if x.startswith("client")), key=lambda s: int(s[7:]))
        rest = [x for x in ("service", "bank", "harness") if x in seen]
        return clients + rest

    def timeline(self) -> str:
        """The history as numbered lines: ``3. t=0.012s  service → bank  charge pay_k1 ₹499.00``."""
        width = max((len(_who(e)) for e in self.events), default=0)
        lines = [
            f"{i:>2}. t={e.t:7.3f}s  {_who(e):<{width}}  {e.text}"
            for i, e in enumerate(self.events, 1)
        ]
        return "\n".join(lines)


def _who(event: Event) -> str:
    return f"{event.lane} → {event.to}" if event.to else event.lane


class Recorder:
    """Appends events stamped with the current virtual time from ``now``."""

    def __init__(self, now: object) -> None:
        self._now = now
        self.events: list[Event] = []

    def record(
        self,
        lane: str,
        kind: str,
        text: str,
        *,
        key: str | None = None,
        op: int | None = None,
        attempt: int | None = None,
        to: str | None = None,
        **value: object,
    ) -> Event:
        event = Event(
            t=round(self._now(), 6),  # type: ignore[operator]
            lane=lane, kind=kind, text=text, key=key, op=op, attempt=attempt,
            value=tuple(sorted(value.items())), to=to,
        )  # fmt: skip
        self.events.append(event)
        return event

    def history(self, events: Sequence[Event] | None = None) -> History:
        return History(tuple(self.events if events is None else events))
