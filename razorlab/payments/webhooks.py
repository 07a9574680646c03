"""Webhooks from an outbox: every state change is announced, at least once, signed.

Scenario: a merchant's server must learn that payment ``pay_…`` was captured even if
our process crashes right after the capture commits. So the announcement is written
as an *outbox* row in the same transaction as the state change (no change without its
event, no event without its change), and a separate dispatcher delivers rows to the
merchant's URL, retrying with exponential backoff for up to 24 hours after the event
was created, as Razorpay's webhook best-practices page documents; an endpoint must
answer 2xx within 5 seconds or the attempt counts as failed (Razorpay's rule too).

Format — Razorpay's, as its webhook docs and sample payloads show:

* body ``{"entity": "event", "account_id", "event", "contains", "payload",
  "created_at"}`` (:func:`event_body`), ``contains`` naming the entities in
  ``payload`` in order (``["payment"]``; ``["refund", "payment"]`` for refund events),
  each as ``{"entity": {…}}``;
* events: ``payment.authorized`` / ``captured`` / ``failed``; ``order.paid`` when a
  capture leaves an order paid, with ``contains: ["payment", "order"]`` (Razorpay's
  Orders webhook events page: "This payload includes both order and payment entities");
  ``refund.created`` when a refund is created, then ``refund.processed`` when it is
  processed or ``refund.failed`` when the bank refused it (the payment in its payload
  shows the amount given back), each ``["refund", "payment"]`` (Razorpay's Refunds
  webhook events page, which also sends them for auto-refunds of uncaptured payments,
  as we do);
* ``X-Razorpay-Signature``: hex HMAC-SHA256 of the *raw* body keyed with the
  merchant's webhook secret — what the official SDK's
  ``utility.verify_webhook_signature(body, signature, secret)`` checks. The receiver
  recomputes it over the bytes it received, never over re-serialised JSON, and
  compares in constant time (:func:`verify_signature`);
* ``X-Razorpay-Event-Id``: one id per event, fixed when the outbox row is written, so
  every retry carries the same id and the receiver de-duplicates by it.

Simplified: ``account_id`` is ``acc_`` plus our merchant id's suffix (razorlab has no
separate account entity); event ids are ``evt_`` plus 14 base62 characters (Razorpay's
are opaque strings); the backoff schedule (30 s doubling, capped at 1 h) is ours, as
Razorpay does not publish its intervals; an event that fails for 24 h is dropped
("dead"), whereas Razorpay also disables the webhook and e-mails the merchant; no
``refund.speed_changed``, as the simulated bank pays refunds at one speed;
``refund.created`` shows the refund ``pending`` (Razorpay's
sample of an instant refund already shows it ``processed``).

Design note — lanes: deliveries run in one *lane per merchant*. A lane delivers its
merchant's due rows with at most :data:`LANE_CONCURRENCY` requests in flight, a batch
at a time, and fetches the next batch until none is due (rows written meanwhile
included), so a busy merchant's events flow at the rate its endpoint answers, not one
batch per poll; each batch's outcomes commit in one transaction. The poller
(:meth:`WebhookDispatcher.poll`) starts a lane only for a merchant whose lane is idle,
so a merchant whose endpoint hangs for the full timeout, or fails and backs off, holds
up only its own lane — every other merchant's events keep flowing. All lanes share one
HTTP client session (:class:`HttpTransport`): kept-alive connections, not a new one
per event.

Design note — several dispatchers: a lane *claims* its batch with one statement that
leases the rows (``UPDATE outbox SET next_attempt_at = now + LEASE_S WHERE id IN (SELECT
… LIMIT n) RETURNING …``), so they are not due for anyone else until the lease ends,
and each outcome is written only while the row still carries that lease. On
PostgreSQL the subquery adds ``FOR UPDATE SKIP LOCKED``: two claims at once take
disjoint rows (the second skips rows the first has locked, and re-checks a row the
first has just leased, which is no longer due) — the queue pattern of PostgreSQL's
``SELECT`` docs. On SQLite one writer makes the same claim safe. Two dispatchers
therefore never deliver one event at the same time; one that dies mid-batch leaves its
rows leased, and they are delivered again (same event id) once the lease runs out.
Delivery is at-least-once and may be out of order (a retry of an old event can land
after a newer one); receivers de-duplicate by event id and read the payment's current
status when order matters. The HTTP call happens outside any database transaction; a
crash after the merchant's 2xx but before the row is marked delivered sends the event
again, with the same id. ``razorlab serve`` runs its dispatcher as a *relay*, a process
of its own beside the API's (:mod:`razorlab.payments.fleet` says why and what it costs).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aiohttp

from razorlab.clock import Clock
from razorlab.payments.store import Merchant, PaymentStore

__all__ = [
    "SIGNATURE_HEADER",
    "EVENT_ID_HEADER",
    "LANE_CONCURRENCY",
    "LEASE_S",
    "sign",
    "verify_signature",
    "event_body",
    "account_id",
    "WebhookDispatcher",
    "DeliveryReport",
    "RecordingEndpoint",
    "HttpTransport",
    "RETRY_FOR_S",
]

SIGNATURE_HEADER = "X-Razorpay-Signature"
EVENT_ID_HEADER = "X-Razorpay-Event-Id"
BASE_BACKOFF_S = 30.0  # first retry after 30 s, then 60, 120, …
MAX_BACKOFF_S = 3600.0  # never wait more than an hour between attempts
RETRY_FOR_S = 24 * 3600.0  # give up on an event 24 h after it was created
DELIVERY_TIMEOUT_S = 5.0  # seconds a merchant endpoint has to answer (Razorpay's window)
LANE_CONCURRENCY = 16  # requests one merchant's lane keeps in flight
#: How long a claimed row is this dispatcher's: more than a batch of 100 rows takes
#: (7 waves of 16 requests at 5 s each), so a live dispatcher's rows are never taken over.
LEASE_S = 300.0

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


def account_id(merchant_id: str) -> str:
    """``mer_X`` → ``acc_X``: the ``account_id`` a webhook names (a simplification)."""
    return "acc_" + merchant_id.partition("_")[2]


def event_body(merchant_id: str, event: str, payload: dict[str, Any], now: float) -> dict:
    """A webhook body in Razorpay's shape; ``payload`` maps entity name → ``{"entity": …}``."""
    return {"entity": "event", "account_id": account_id(merchant_id), "event": event,
            "contains": list(payload), "payload": payload, "created_at": int(now)}  # fmt: skip


class HttpTransport:
    """POST with aiohttp; a connection error or no answer within ``timeout_s`` is status 0.

    One client session (one connection pool, keep-alive per endpoint) serves every
    delivery: a session per delivery would pay a TCP connect (and a TLS handshake in
    production) per event, which caps the dispatcher well below the payment rate. The
    session is opened on first use, on the running loop; ``await close()`` ends it (the
    dispatcher's ``run`` closes the transport it made).
    """

    def __init__(self, timeout_s: float = DELIVERY_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s)
            )
        try:
            async with self._session.post(url, data=body, headers=headers) as resp:
                return resp.status
        except (aiohttp.ClientError, TimeoutError):
            return 0

    async def close(self) -> None:
        """Close the pooled connections (a later call opens a new session)."""
        if self._session is not None:
            await self._session.close()
            self._session = None


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


#: Take a merchant's due rows: lease them until ``?`` (next_attempt_at), so no other dispatcher
#: sees them due meanwhile. ``{lock}`` is the store's ``CLAIM_LOCK``.
_CLAIM_SQL = (
    "UPDATE outbox SET next_attempt_at = ? WHERE id IN (SELECT id FROM outbox "
    "WHERE merchant_id = ? AND state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?"
    "{lock}) RETURNING id, COALESCE(event_id, 'evt_' || id), body, attempts, created_at"
)
#: An attempt's outcome, written only if the row's lease is still this dispatcher's.
_OUTCOME_SQL = (
    "UPDATE outbox SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? "
    "WHERE id = ? AND state = 'pending' AND next_attempt_at = ?"
)


@dataclass(frozen=True, slots=True)
class _Outcome:
    """One delivery attempt's result: the outbox row's next state, and the report bucket."""

    row_id: int
    state: str
    attempts: int
    next_at: float
    error: str | None
    report: str  # delivered | retrying | dead | skipped


class WebhookDispatcher:
    """Deliver due outbox rows in per-merchant lanes.

    ``await poll()`` starts a lane for every merchant with due rows whose lane is idle
    and returns at once; ``await deliver_due()`` runs one such round to completion
    (tests, notebooks); ``run`` polls forever.
    """

    def __init__(
        self, store: PaymentStore, clock: Clock, transport: Transport | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self._own_transport = HttpTransport() if transport is None else None
        self.transport = transport if transport is not None else self._own_transport
        self.lanes: dict[str, asyncio.Task[Counter[str]]] = {}

    async def poll(self, limit: int = 100) -> list[asyncio.Task[Counter[str]]]:
        """Start idle merchants' lanes (batches of ``limit`` rows); return the lanes started."""
        rows = await self.store.fetchall(
            "SELECT DISTINCT merchant_id FROM outbox WHERE state = 'pending' "
            "AND next_attempt_at <= ?",
            (self.clock.now(),),
        )
        started = []
        for (merchant_id,) in rows:
            lane = self.lanes.get(merchant_id)
            if lane is not None and not lane.done():
                continue  # busy (slow endpoint): its rows wait in its own lane
            lane = asyncio.create_task(self._lane(merchant_id, limit))
            lane.add_done_callback(partial(self._forget, merchant_id))
            self.lanes[merchant_id] = lane
            started.append(lane)
        return started

    async def deliver_due(self, limit: int = 100) -> DeliveryReport:
        """One round: every idle merchant's due rows, all lanes concurrently."""
        counts: Counter[str] = Counter()
        for lane_counts in await asyncio.gather(*await self.poll(limit)):
            counts.update(lane_counts)
        return DeliveryReport(**counts)

    async def wait_idle(self) -> None:
        """Wait for every running lane to finish its rows."""
        await asyncio.gather(*list(self.lanes.values()))

    def _forget(self, merchant_id: str, lane: asyncio.Task) -> None:
        if self.lanes.get(merchant_id) is lane:  # a finished lane: drop it, merchants come and go
            del self.lanes[merchant_id]

    async def _lane(self, merchant_id: str, limit: int) -> Counter[str]:
        """Deliver the merchant's due rows, ``limit`` at a time, until none is due."""
        counts: Counter[str] = Counter()
        gate = asyncio.Semaphore(LANE_CONCURRENCY)

        async def one(row: tuple, merchant: Merchant | None, now: float) -> _Outcome:
            async with gate:
                return await self._attempt(row, merchant, now)

        while True:  # rows written meanwhile are due too: a busy merchant's lane keeps going
            now = self.clock.now()
            lease = now + LEASE_S
            claim = _CLAIM_SQL.format(lock=self.store.CLAIM_LOCK)
            rows = sorted(await self.store.write_returning(claim, (lease, merchant_id, now, limit)))
            if not rows:
                return counts
            merchant = await self.store.merchant(merchant_id)
            outcomes = await asyncio.gather(*(one(row, merchant, now) for row in rows))
            async with self.store.transaction() as db:  # one commit for the whole batch
                for outcome in outcomes:
                    await db.execute(
                        _OUTCOME_SQL,
                        (outcome.state, outcome.attempts, outcome.next_at, outcome.error,
                         outcome.row_id, lease),
                    )  # fmt: skip
            counts.update(outcome.report for outcome in outcomes)

    async def _attempt(self, row: tuple, merchant: Merchant | None, now: float) -> _Outcome:
        """Deliver one row (no transaction is open); the row's next state, not yet written."""
        row_id, event_id, body, attempts, created_at = row
        url = merchant.webhook_url if merchant else None
        if not url:
            return _Outcome(row_id, "skipped", attempts, now, None, "skipped")
        raw = body.encode()
        headers = {"Content-Type": "application/json",
                   SIGNATURE_HEADER: sign(raw, merchant.webhook_secret),
                   EVENT_ID_HEADER: event_id}  # fmt: skip
        status = await self.transport(url, raw, headers)
        if 200 <= status < 300:
            return _Outcome(row_id, "delivered", attempts + 1, now, None, "delivered")
        backoff = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2**attempts)
        dead = now + backoff > created_at + RETRY_FOR_S
        state, report = ("dead", "dead") if dead else ("pending", "retrying")
        return _Outcome(row_id, state, attempts + 1, now + backoff, f"HTTP {status}", report)

    async def run(self, *, interval_s: float = 1.0, rounds: int | None = None) -> None:
        """Poll every ``interval_s`` clock seconds (forever, or ``rounds`` times).

        Lanes outlive a poll: a slow merchant's lane keeps running while later polls
        start other merchants' lanes. Cancelling ``run`` cancels the lanes too (their
        rows stay pending and are delivered again: at-least-once).
        """
        n = 0
        try:
            while rounds is None or n < rounds:
                await self.poll()
                await self.clock.sleep(interval_s)
                n += 1
            await self.wait_idle()
        finally:
            for lane in list(self.lanes.values()):
                lane.cancel()
            await asyncio.gather(*self.lanes.values(), return_exceptions=True)
            if self._own_transport is not None:
                await self._own_transport.close()
