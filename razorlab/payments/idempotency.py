"""Idempotency keys: a retried request returns the first answer instead of charging again.

Scenario: a merchant's server sends ``POST /v1/payments``, the network drops the reply,
and the server retries. Without a key the customer pays twice. With an
``Idempotency-Key`` header the gateway remembers the first request under that key and
answers every repeat with the same status and body. The behaviour follows Stripe's
(docs.stripe.com/idempotency); the status codes follow the IETF draft
``draft-ietf-httpapi-idempotency-key-header`` ("Error Scenarios"):

* same key, same request → the stored status and body are replayed — *errors
  included* (a declined payment replays its error, never a second attempt);
* same key, different request → 422, ``reason: idempotency_key_reused`` (a client bug).
  422 is the draft's code; Stripe reports the same misuse as an ``idempotency_error``
  with HTTP 400, and so does Razorpay for its refund key (see
  :mod:`razorlab.payments.refunds`);
* same key while the first request is still running → 409, ``reason:
  idempotency_key_in_use`` (the draft's 409; Stripe's ``idempotency_key_in_use``, a 409);
  nothing is saved for the duplicate, so retrying it later is safe;
* a request that fails validation, is rate-limited or is refused by an open breaker
  saves nothing: nothing was attempted, so the key stays free;
* keys expire after :data:`IDEMPOTENCY_TTL_S` (24 h) and may then be reused.

Design note: the key is claimed with a row in SQLite (``state='in_progress'``) in the
same transaction that stores the payment intent, *before* the bank is called: the row
is the lock (a unique key, so two claims cannot both succeed), and it is durable,
unlike the seed's cache keyed by a request id, which a retry (new request id) or a
restart bypasses. Because the row names its payment, reconciliation can finish a key
orphaned by a crash with the payment's final state (Brandur Leach's "recovery point"
idea for Stripe-style keys). The response is stored in the transaction that stores
the result, so the replay and the payment can never disagree.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from razorlab.clock import Clock
from razorlab.errors import ConflictError, StateError, ValidationError
from razorlab.payments.store import Batch, PaymentStore

__all__ = [
    "IdempotencyKeys",
    "IdempotencyKeyReused",
    "IdempotencyKeyInUse",
    "StoredResponse",
    "request_fingerprint",
    "IDEMPOTENCY_TTL_S",
    "MAX_KEY_LENGTH",
]

IDEMPOTENCY_TTL_S = 24 * 3600.0  # seconds a key is remembered (Stripe prunes after 24 h)
MAX_KEY_LENGTH = 255  # characters, Stripe's limit


class IdempotencyKeyReused(StateError):
    code = "IDEMPOTENCY_KEY_REUSED"


class IdempotencyKeyInUse(ConflictError):
    code = "IDEMPOTENCY_KEY_IN_USE"


class KeyTaken(ConflictError):
    """Internal: the claim found the key held; read :meth:`IdempotencyKeys.existing`."""


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """The first response for a key, replayed verbatim."""

    status: int
    body: dict


def request_fingerprint(method: str, path: str, body: object) -> str:
    """SHA-256 of the request in canonical JSON (key order and spacing do not matter)."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(
            f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    return key


class IdempotencyKeys:
    """The key table: ``claim_tx`` (with the intent) → bank → ``finish_tx`` (with the result).

    ``forget_tx`` drops a claim refused before the bank call; ``existing`` reads what a
    holder left; ``prune`` deletes expired keys.
    """

    def __init__(self, store: PaymentStore, clock: Clock, *, ttl_s: float = IDEMPOTENCY_TTL_S):
        self.store = store
        self.clock = clock
        self.ttl_s = ttl_s

    async def claim_tx(
        self, tx: Batch, merchant_id: str, key: str, fingerprint: str, payment_id: str
    ) -> None:
        """Claim ``key`` for ``payment_id`` inside the intent's transaction.

        One atomic statement: insert the key, or take over an *expired* row. If neither
        happens someone holds the key: the whole transaction rolls back (so the payment
        intent is not stored either) with :class:`KeyTaken`, and the caller reads what
        the holder left with :meth:`existing`.
        """
        await tx.execute(
            "INSERT INTO idempotency_keys (merchant_id, key, fingerprint, state, payment_id, "
            "created_at) VALUES (?, ?, ?, 'in_progress', ?, ?) ON CONFLICT (merchant_id, key) "
            "DO UPDATE SET fingerprint = excluded.fingerprint, state = 'in_progress', "
            "payment_id = excluded.payment_id, status = NULL, body = NULL, "
            "created_at = excluded.created_at "
            "WHERE idempotency_keys.created_at + ? <= excluded.created_at",
            (merchant_id, key, fingerprint, payment_id, self.clock.now(), self.ttl_s),
            expect_rows=1,
            error=KeyTaken("idempotency key already claimed"),
        )

    async def existing(self, merchant_id: str, key: str, fingerprint: str) -> StoredResponse | None:
        """What an earlier request left under ``key``: its response, or an error, or None."""
        row = await self.store.fetchone(
            "SELECT fingerprint, state, status, body, created_at FROM idempotency_keys "
            "WHERE merchant_id = ? AND key = ?",
            (merchant_id, key),
        )
        if row is None or row[4] + self.ttl_s <= self.clock.now():
            return None
        fingerprint_then, state, status, body, _ = row
        if fingerprint_then != fingerprint:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key",
                field="Idempotency-Key",
            )
        if state == "in_progress":
            raise IdempotencyKeyInUse(
                "a request with this Idempotency-Key is still being processed; retry shortly",
                field="Idempotency-Key",
            )
        return StoredResponse(status, json.loads(body))

    @staticmethod
    async def finish_tx(tx: Batch, merchant_id: str, key: str, response: StoredResponse) -> None:
        """Store the response to replay, in the same transaction as the result it reports."""
        await tx.execute(
            "UPDATE idempotency_keys SET state = 'done', status = ?, body = ? "
            "WHERE merchant_id = ? AND key = ?",
            (response.status, json.dumps(response.body), merchant_id, key),
        )

    @staticmethod
    async def finish_for_payment_tx(tx: Batch, payment_id: str, response: StoredResponse) -> None:
        """Complete a key orphaned by a crash, once reconciliation knows the outcome."""
        await tx.execute(
            "UPDATE idempotency_keys SET state = 'done', status = ?, body = ? "
            "WHERE payment_id = ? AND state = 'in_progress'",
            (response.status, json.dumps(response.body), payment_id),
        )

    @staticmethod
    async def forget_tx(tx: Batch, merchant_id: str, key: str) -> None:
        """Drop a claim whose request was refused before anything was attempted."""
        await tx.execute(
            "DELETE FROM idempotency_keys WHERE merchant_id = ? AND key = ? "
            "AND state = 'in_progress'",
            (merchant_id, key),
        )

    async def prune(self) -> int:
        """Delete expired keys; returns how many."""
        async with self.store.transaction() as tx:
            await tx.execute(
                "DELETE FROM idempotency_keys WHERE created_at + ? <= ?",
                (self.ttl_s, self.clock.now()),
            )
        return tx.rowcounts[0]

    async def count(self) -> int:
        row = await self.store.fetchone("SELECT COUNT(*) FROM idempotency_keys")
        return int(row[0]) if row else 0
