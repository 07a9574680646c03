"""An append-only, hash-chained audit log: who changed what, and proof nobody edited it later.

Scenario: a regulator (or an internal investigator) asks what happened to UPI transaction X
and wants evidence the record was not rewritten after the fact. Each entry stores the SHA-256
of the previous entry's hash plus its own canonical JSON, so editing, deleting, inserting or
reordering any entry breaks every hash after it; publishing (or anchoring) the latest hash
commits to the whole history. Blnk's ledger keeps a similar hash-chained audit trail.

Design note: the log offers no update or delete; ``entries`` returns copies. Canonical JSON
(sorted keys, no spaces) makes the hash independent of dict order. ``verify`` returns the first
broken sequence number and why, instead of a bare False, because that is what an auditor needs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from razorlab.clock import Clock, SystemClock

__all__ = ["GENESIS_HASH", "AuditEntry", "AuditLog", "Verification", "verify_chain"]

GENESIS_HASH = "0" * 64  # the "previous hash" of the first entry


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    at: float
    actor: str
    action: str
    subject: str
    data: Mapping[str, Any]
    prev_hash: str
    hash: str

    def body(self) -> str:
        """The canonical text the hash covers (everything but the hash itself)."""
        return json.dumps(
            {"seq": self.seq, "at": self.at, "actor": self.actor, "action": self.action,
             "subject": self.subject, "data": dict(self.data), "prev": self.prev_hash},
            sort_keys=True, separators=(",", ":"), default=str,
        )  # fmt: skip

    def expected_hash(self) -> str:
        return hashlib.sha256(self.body().encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str = ""


def verify_chain(entries: Iterable[AuditEntry], anchor: str | None = None) -> Verification:
    """Recompute the chain; ``anchor`` (a head hash published earlier) also catches truncation."""
    prev, n = GENESIS_HASH, 0
    for n, e in enumerate(entries, start=1):
        if e.seq != n:
            return Verification(False, n - 1, e.seq, f"expected seq {n}, found {e.seq}")
        if e.prev_hash != prev:
            return Verification(False, n - 1, e.seq, "prev_hash does not link to the entry before")
        if e.hash != e.expected_hash():
            return Verification(False, n - 1, e.seq, "contents do not match the hash")
        prev = e.hash
    if anchor is not None and anchor != prev:
        return Verification(False, n, None, "head hash differs from the published anchor")
    return Verification(True, n)


class AuditLog:
    """Append-only log; ``append`` is the only way in."""

    def __init__(self, clock: Clock | None = None):
        self._clock = clock or SystemClock()
        self._entries: list[AuditEntry] = []

    def append(self, actor: str, action: str, subject: str, **data: Any) -> AuditEntry:
        prev = self._entries[-1].hash if self._entries else GENESIS_HASH
        draft = AuditEntry(len(self._entries) + 1, self._clock.now(), actor, action, subject,
                           dict(data), prev, "")  # fmt: skip
        entry = replace(draft, hash=draft.expected_hash())
        self._entries.append(entry)
        return entry

    @property
    def head(self) -> str:
        """The latest hash: publish it and the whole history is committed."""
        return self._entries[-1].hash if self._entries else GENESIS_HASH

    def entries(self, subject: str | None = None) -> list[AuditEntry]:
        return [e for e in self._entries if subject is None or e.subject == subject]

    def __len__(self) -> int:
        return len(self._entries)

    def verify(self) -> Verification:
        return verify_chain(self._entries)
