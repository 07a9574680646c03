"""Webhooks from an outbox: every state change is announced, at least once, signed.

Scenario: a merchant's server must learn that payment ``pay_…`` was captured even if
our process crashes right after the capture commits. So the announcement is written
as an *outbox* row in the same transaction as the state change (no change without its
event, no event without its change), and a separate dispatcher delivers rows to the
merchant's URL, retrying with exponential backoff for up to 24 hours, as Razorpay does.

Each delivery carries :data:`SIGNATURE_HEADER`: the hex HMAC-SHA256 of the *raw* body
keyed with the merchant's webhook secret, the scheme of Razorpay's
``X-Razorpay-Signature``. The receiver recomputes it over the bytes it received —
never over re-serialised JSON, whose key order or spacing may differ — and compares in
constant time with :func:`verify_signature`.

Design note: delivery is at-least-once and may be out of order (a retry of an old
event can land after a newer one); receivers de-duplicate by event and read the
payment's current status when order matters. The HTTP call happens outside any
database transaction, like the bank call.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from razorlab.clock import Clock
from razorlab.payments.store import PaymentStore

__all__ = [
    "SIGNATURE_HEADER",
    "sign",
    "verify_signature",
    "WebhookDispatcher",
    "DeliveryReport",
    "RecordingEndpoint",
    "http_transport",
    "RETRY_FOR_S",
]

SIGNATURE_HEADER = "X-Razorlab-Signature"
BASE_BACKOFF_S = 30.0  # first retry after 30 s, then 60, 120, …
MAX_BACKOFF_S = 3600.0  # never wait more than an hour between attempts
RETRY_FOR_S = 24 * 3600.0  # give up on an event 24 h after it was created
DELIVERY_TIMEOUT_S = 5.0  # seconds a merchant endpoint has to answer

#: ``await transport(url, body, headers)`` → the HTTP status the endpoint returned.
Transport = Callable[[str, bytes, dict[str, str]], Awaitable[int]]


def sign(body: bytes, secret: str) -> str:
    """Hex HMAC-SHA256 of the raw ``body`` keyed with ``secret``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, signature: str, secret: str) -> bool:
    """True if ``signature`` is ``body``'s HMAC under ``secret`` (constant-time compare)."""
    if not isinstance(signature, str):
        return False
    return hmac.compare_digest(sign(body, secret), signature)


async def http_transport(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST with aiohttp; connection errors count as status 0 (retry later)."""
    timeout = aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT_S)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(url, data=body, headers=headers) as resp:
                return resp.status
    except (aiohttp.ClientError, TimeoutError):
        return 0


@dataclass
class RecordingEndpoint:
    """An in-memory merchant endpoint: records deliveries, fails the first ``fail_first``."""

    fail_first: int = 0
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)
    attempts: int = 0

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return 503
        self.received.append((url, body, headers))
        return 200


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    skipped: int = 0  # merchant has no webhook URL


class WebhookDispatcher:
    """Deliver due outbox rows: ``await dispatcher.deliver_due()`` (or ``run`` forever)."""

    def __init__(self, store: PaymentStore, clock: Clock, transport: Transport = http_transport):
        self.store = store
        self.clock = clock
        self.transport = transport

    async def deliver_due(self, limit: int = 100) -> DeliveryReport:
        now = self.clock.now()
        rows = await self.store.fetchall(
            "SELECT o.id, o.event, o.body, o.attempts, o.created_at, m.webhook_url, "
            "m.webhook_secret FROM outbox o JOIN merchants m ON m.id = o.merchant_id "
            "WHERE o.state = 'pending' AND o.next_attempt_at <= ? ORDER BY o.id LIMIT ?",
            (now, limit),
        )
        counts = {"delivered": 0, "retrying": 0, "dead": 0, "skipped": 0}
        for row_id, event, body, attempts, created_at, url, secret in rows:
            if not url:
                await self._update(row_id, "skipped", attempts, now, None)
                counts["skipped"] += 1
                continue
            raw = body.encode()
            headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign(raw, secret),
                       "X-Razorlab-Event": event}  # fmt: skip
            status = await self.transport(url, raw, headers)  # no transaction is open here
            if 200 <= status < 300:
                await self._update(row_id, "delivered", attempts + 1, now, None)
                counts["delivered"] += 1
                continue
            backoff = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2**attempts)
            dead = now + backoff > created_at + RETRY_FOR_S
            state = "dead" if dead else "pending"
            await self._update(row_id, state, attempts + 1, now + backoff, f"HTTP {status}")
            counts["dead" if dead else "retrying"] += 1
        return DeliveryReport(**counts)

    async def _update(
        self, row_id: int, state: str, attempts: int, next_at: float, error: str | None
    ) -> None:
        async with self.store.transaction() as db:
            await db.execute(
                "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? "
                "WHERE id = ?",
                (state, attempts, next_at, error, row_id),
            )

    async def run(self, *, interval_s: float = 1.0, rounds: int | None = None) -> None:
        """Deliver every ``interval_s`` clock seconds (forever, or ``rounds`` times)."""
        n = 0
        while rounds is None or n < rounds:
            await self.deliver_due()
            await self.clock.sleep(interval_s)
            n += 1
