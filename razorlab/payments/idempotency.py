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

The fingerprint (what "the same request" means) is a *keyed* HMAC-SHA256 (RFC 2104)
under a server-side secret the gateway holds, not a plain SHA-256: a card body holds
the full card number, and the payment row shows its network and last four digits, so
an unkeyed hash of it could be reversed by trying the few million numbers left —
whoever reads the table would read the PANs. The card number is also replaced, before
hashing, by a keyed token of itself (HMAC under the same secret, domain-separated), so
the PAN never enters the hashed material in clear. The same request still gets the same
fingerprint (same card → same token) and a different card a different one. The secret
must outlive restarts (a retry after a restart must still match): ``razorlab serve``
takes it from ``RAZORLAB_FINGERPRINT_KEY`` or from a key file created once next to the
database (:func:`fingerprint_key_for`); tests inject one. Like any key it belongs in a
KMS in production — a key file is the teaching simplification.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping
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
    "fingerprint_key_for",
    "FINGERPRINT_KEY_ENV",
    "MIN_FINGERPRINT_KEY_BYTES",
    "IDEMPOTENCY_TTL_S",
    "MAX_KEY_LENGTH",
]

IDEMPOTENCY_TTL_S = 24 * 3600.0  # seconds a key is remembered (Stripe prunes after 24 h)
MAX_KEY_LENGTH = 255  # characters, Stripe's limit
FINGERPRINT_KEY_ENV = "RAZORLAB_FINGERPRINT_KEY"  # the secret for `razorlab serve`, if set
MIN_FINGERPRINT_KEY_BYTES = 16  # shorter HMAC keys are refused (RFC 2104 §3: >= 16 bytes, L)
_KEY_FILE_BYTES = 32  # a generated key: 256 bits, SHA-256's output length


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


def _check_secret(secret: bytes, field: str | None = None) -> bytes:
    if not isinstance(secret, bytes) or len(secret) < MIN_FINGERPRINT_KEY_BYTES:
        raise ValidationError(
            f"a fingerprint key must be at least {MIN_FINGERPRINT_KEY_BYTES} bytes", field=field
        )
    return secret


def _hmac(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode(), hashlib.sha256).hexdigest()


def _tokenise_card(body: object, secret: bytes) -> object:
    """``body`` with ``card.number`` replaced by a keyed token of it (other bodies as they are)."""
    card = body.get("card") if isinstance(body, dict) else None
    if not isinstance(card, dict) or not isinstance(card.get("number"), str):
        return body
    token = "pan_hmac:" + _hmac(secret, "card-number\x00" + card["number"])
    return {**body, "card": {**card, "number": token}}


def request_fingerprint(method: str, path: str, body: object, *, secret: bytes) -> str:
    """HMAC-SHA256 under ``secret`` of the request in canonical JSON, the PAN tokenised.

    Key order and spacing do not matter; the card number enters only as its keyed token.
    """
    canonical = json.dumps(
        [method, path, _tokenise_card(body, _check_secret(secret))],
        sort_keys=True,
        separators=(",", ":"),
    )
    return _hmac(secret, canonical)


def fingerprint_key_for(db_path: str, environ: Mapping[str, str] = os.environ) -> bytes:
    """The fingerprint secret ``razorlab serve`` uses for the database at ``db_path``.

    ``$RAZORLAB_FINGERPRINT_KEY`` (UTF-8, at least 16 bytes) if set; else the key file
    ``<db_path>.fingerprint-key``, created once (32 bytes from the OS CSPRNG, mode 0600)
    and read on every later start, so keys stored before a restart still match after
    it. An in-memory database gets a fresh key: nothing of it survives a restart. A
    ``postgresql://`` database is shared by processes that may share no disk: it needs
    the variable.
    """
    if environ.get(FINGERPRINT_KEY_ENV):
        return _check_secret(environ[FINGERPRINT_KEY_ENV].encode(), FINGERPRINT_KEY_ENV)
    if db_path.startswith(("postgresql://", "postgres://")):
        raise ValidationError(
            f"a gateway on PostgreSQL needs ${FINGERPRINT_KEY_ENV} (at least 16 bytes), "
            "the same in every process",
            field=FINGERPRINT_KEY_ENV,
        )
    if db_path == ":memory:":
        return secrets.token_bytes(_KEY_FILE_BYTES)
    path = f"{db_path}.fingerprint-key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        with open(path, "rb") as existing:
            return _check_secret(existing.read(), path)
    with os.fdopen(fd, "wb") as new:
        key = secrets.token_bytes(_KEY_FILE_BYTES)
        new.write(key)
    return key


def check_key(key: object) -> str:
    if not isinstance(key, str) or not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise ValidationError(
            f"Idempotency-Key must be 1..{MAX_KEY_LENGTH} characters", field="Idempotency-Key"
        )
    return key


class IdempotencyKeys:
    """The key table: ``claim_tx`` (with the intent) → bank → ``finish_tx`` (with the result).

    ``secret`` keys the request fingerprints (:meth:`fingerprint`).

    ``forget_tx`` drops a claim refused before the bank call; ``existing`` reads what a
    holder left; ``prune`` deletes expired keys.
    """

    def __init__(
        self, store: PaymentStore, clock: Clock, *, secret: bytes,
        ttl_s: float = IDEMPOTENCY_TTL_S,
    ):  # fmt: skip
        self.store = store
        self.clock = clock
        self.secret = _check_secret(secret)
        self.ttl_s = ttl_s

    def fingerprint(self, method: str, path: str, body: object) -> str:
        """:func:`request_fingerprint` under this gateway's secret."""
        return request_fingerprint(method, path, body, secret=self.secret)

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
