"""The gateway pipeline: one request from validation to webhook, every step a real engine.

Scenario: ``create_payment`` is the path the seed sketches in ten steps. Ours is::

    validate → rate-limit → breaker (open? fail fast) → cache (merchant config)
      → [tx] persist intent + claim the idempotency key → breaker permit
      → bank call (no transaction open)
      → [tx] persist result + outbox row + the key's stored response → cache invalidate

Design note — where it differs from the seed and why:

* **No transaction across the bank call.** The intent (a ``created`` payment) commits
  before the bank is called; the result commits after, with its webhook (outbox) row
  and the idempotency key's stored response in the *same* transaction, so a state
  change, its announcement and its replay can never disagree.
* **Unknown outcomes stay unknown.** A bank timeout or "pending" leaves the payment
  ``created``; :class:`~razorlab.payments.reconcile.Reconciler` asks the bank later.
  Marking it failed would lose money the bank took; retrying the charge would take it
  twice.
* **Idempotency is durable and keyed by the client's key**, not a cache keyed by a
  request id (see :mod:`razorlab.payments.idempotency`).
* **The cache serves reads** (merchant config, payment status) and is invalidated after
  every committed change, so a capture or refund is never followed by a stale status.
* **Breakers count only the bank's health**: timeouts and errors, not declines.

Capture and refund use the same discipline: the decision commits first (with its
outbox row), then the bank is told; refunds carry their own id, which the bank
de-duplicates, so re-sending one after a crash is safe. A refund is announced twice:
``refund.created`` with the reservation, then ``refund.processed`` when the bank paid it
or ``refund.failed`` when it refused (Razorpay's refund statuses: pending → processed |
failed) — each written only by the update that moves the refund out of ``pending``, so
a re-send announces it once. A failed refund gives its amount back to the payment
(``amount_refunded`` and ``refund_status`` restored) in the transaction that marks it
failed, so the money is refundable again; a retry under its ``X-Refund-Idempotency``
key returns the failed refund and never sends a second one (a new key asks again).
A capture later than 3 days after authorization is refused at request time
(:class:`~razorlab.payments.payment.CaptureWindowExpired`): that money is the auto-refund
sweeper's, whether or not it has run yet.

Orders (:mod:`razorlab.payments.orders`, Razorpay's Orders API): a payment naming an
``order_id`` must be for the order's amount due and currency; its intent counts an
attempt on the order and its capture adds to ``amount_paid``, each in the transaction
that moves the payment. Work on one order is queued in this process (as refunds of one
payment are), so two payments of an order cannot both be taken in-process; across
processes the store's conditional update refuses the second (a 400, nothing changed).
The capture that completes an order also writes ``order.paid``, guarded in SQL by the
order's status after that update, so exactly one capture announces it and a rolled-back
one announces nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from razorlab.clock import Clock
from razorlab.errors import NotFoundError, RazorlabError, ValidationError
from razorlab.infra.breaker import BreakerRegistry, BreakerState, CircuitOpen
from razorlab.infra.cache import MultiLevelCache
from razorlab.infra.ratelimit import RateLimited, RateLimiter
from razorlab.money import Money
from razorlab.payments import payment as lifecycle
from razorlab.payments.bank import BankOutcome, BankReply, SimulatedBank
from razorlab.payments.error_contract import UnknownId, razorpay_error
from razorlab.payments.idempotency import (
    IdempotencyKeyInUse,
    IdempotencyKeys,
    KeyTaken,
    StoredResponse,
    check_key,
)
from razorlab.payments.ids import IdFactory
from razorlab.payments.methods import Card, PaymentRequest, parse_payment_request
from razorlab.payments.orders import (
    Order,
    OrderStatus,
    checkout_signature,
    parse_order_edit,
    parse_order_request,
)
from razorlab.payments.payment import Payment, PaymentStatus
from razorlab.payments.refunds import (
    RefundKeyReused,
    RefundRequest,
    check_refund_key,
    parse_refund_request,
    refund_fingerprint,
    refund_json,
)
from razorlab.payments.store import ConcurrentUpdate, Merchant, PaymentStore
from razorlab.payments.webhooks import event_body

__all__ = ["Gateway", "Response", "PaymentFailed", "SimulatedCrash", "CRASH_POINTS", "crash_at"]

#: Where a test may inject a crash: after the intent committed, after the bank replied.
CRASH_POINTS = ("after_intent", "after_bank")
MAX_PAGE = 100  # payments per list page (Razorpay's ``count`` maximum)
MAX_EPOCH_S = 253_402_300_799  # 9999-12-31T23:59:59Z: the largest ``from``/``to`` we accept
MAX_SKIP = 1_000_000_000  # list offset bound (SQLite's OFFSET is a 64-bit integer)
REFUND_RETRIES = 3  # re-reads after another process changed the payment under us


class PaymentFailed(RazorlabError):
    """The bank declined or could not process the payment; the payment is ``failed``."""

    http_status = 402

    def __init__(self, payment: Payment):
        super().__init__(payment.error_description or "payment failed", code=payment.error_code)
        self.payment = payment

    @property
    def metadata(self) -> dict[str, str]:
        if self.payment.order_id is None:
            return {"payment_id": self.payment.id}
        return {"payment_id": self.payment.id, "order_id": self.payment.order_id}

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "metadata": self.metadata}


class SimulatedCrash(Exception):
    """Raised by an injected fault: the process 'dies' at this point of the pipeline."""


def crash_at(point: str) -> Callable[[str], None]:
    """A fault for ``gateway.fault`` that "kills the process" at ``point`` of CRASH_POINTS."""
    if point not in CRASH_POINTS:  # a typo would otherwise never crash, and prove nothing
        raise ValueError(f"point must be one of {CRASH_POINTS}, got {point!r}")

    def fault(at: str) -> None:
        if at == point:
            raise SimulatedCrash(at)

    return fault


@dataclass(frozen=True)
class Response:
    """An HTTP-shaped answer: status, JSON body and extra headers."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, err: RazorlabError) -> Response:
        """``err`` in Razorpay's error contract (:mod:`razorlab.payments.error_contract`)."""
        headers = {}
        if isinstance(err, RateLimited | CircuitOpen):
            headers["Retry-After"] = str(max(1, math.ceil(err.retry_after_s)))  # whole seconds
        status, body = razorpay_error(err)
        return cls(status, body, headers)


_DECLINE_TEXT = {
    "INSUFFICIENT_FUNDS": "the customer's account has insufficient funds",
    "LIMIT_EXCEEDED": "the amount exceeds the customer's transaction limit",
    "CARD_DECLINED": "the card issuer declined the payment",
    "PAYMENT_DECLINED": "the bank declined the payment",
    "BANK_UNAVAILABLE": "the bank could not process the payment; nothing was charged",
    "BANK_NO_RECORD": "the bank never received the payment; nothing was charged",
    "UPI_COLLECT_DECLINED": "the customer declined the UPI collect request",
    "ORDER_ALREADY_PAID": "the order was paid by another payment; nothing was charged",
    "AUTHENTICATION_FAILED": "the customer entered a wrong OTP too often; nothing was charged",
    "AUTHENTICATION_EXPIRED": "the customer did not complete authentication in time",
    "UPI_COLLECT_EXPIRED": "the payer did not approve the collect request in time (NPCI U69)",
}


class Gateway:
    """The payment gateway. Build with ``await Gateway.open(clock=..., bank=...)``.

    ``fingerprint_key`` is the server-side secret keying idempotency fingerprints
    (:mod:`razorlab.payments.idempotency`); by default it comes from the id factory, so a
    seeded gateway is reproducible — a server passes a key that survives restarts.
    """

    def __init__(
        self,
        store: PaymentStore,
        bank: SimulatedBank,
        clock: Clock,
        *,
        limiter: RateLimiter | None = None,
        breakers: BreakerRegistry | None = None,
        ids: IdFactory | None = None,
        idempotency_ttl_s: float | None = None,
        fingerprint_key: bytes | None = None,
        cache: Callable[..., MultiLevelCache] = MultiLevelCache,  # (loader, clock): a fleet's
    ):
        self.store = store
        self.bank = bank
        self.clock = clock
        self.limiter = limiter
        self.breakers = breakers if breakers is not None else BreakerRegistry(clock)
        self.ids = ids if ids is not None else IdFactory()
        self.event_ids = self.ids.stream("event-ids")  # webhook ids: X-Razorpay-Event-Id
        self.card_ids = self.ids.stream("card-ids")  # card entity ids: shift no payment id
        kwargs = {} if idempotency_ttl_s is None else {"ttl_s": idempotency_ttl_s}
        if fingerprint_key is None:  # seeded ids: a reproducible key; else the OS CSPRNG
            fingerprint_key = self.ids.stream("fingerprint-key").secret().encode()
        self.keys = IdempotencyKeys(store, clock, secret=fingerprint_key, **kwargs)
        self.cache = cache(self._load, clock)  # shared L2: razorlab.payments.fleet
        self.fault: Callable[[str], None] | None = None  # crash injection for tests
        self.trace: list[str] = []  # the steps the last create_payment went through
        self._queues: dict[str, tuple[asyncio.Lock, list[int]]] = {}  # refunds per payment

    @classmethod
    async def open(
        cls, path: str = ":memory:", *, clock: Clock, bank: SimulatedBank | None = None,
        seed: int | None = None, schema: str | None = None, **kwargs: Any,
    ) -> Gateway:  # fmt: skip
        """Open (or create) the database at ``path``; ``seed`` makes ids reproducible.

        ``path`` is a SQLite file (or ``:memory:``), or a ``postgresql://`` URL: then the
        tables live in that server, in ``schema`` (default ``razorlab_payments``), and
        several gateway processes may share them.
        """
        if path.startswith(("postgresql://", "postgres://")):
            from razorlab.infra.backends.postgres_payments import PostgresPaymentStore

            store: PaymentStore = await PostgresPaymentStore.open(path, schema=schema)
        else:
            store = await PaymentStore.open(path)
        bank = bank if bank is not None else SimulatedBank(clock)
        return cls(store, bank, clock, ids=IdFactory(seed), **kwargs)

    async def close(self) -> None:
        await self.store.close()

    # ----- merchants ---------------------------------------------------------------------
    async def create_merchant(
        self, name: str, *, webhook_url: str | None = None
    ) -> tuple[Merchant, str]:
        """Register a merchant; returns it and its key secret (shown once, stored hashed)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("merchant name must be a non-empty string", field="name")
        merchant = Merchant(
            self.ids.new("mer"), name.strip(), self.ids.new("rzp_test"), self.ids.secret(),
            webhook_url,
        )  # fmt: skip
        secret = self.ids.secret()
        await self.store.add_merchant(merchant, secret, self.clock.now())
        return merchant, secret

    async def _load(self, key: object) -> object:
        """The cache's L3: payments and merchants by id."""
        key = str(key)
        if key.startswith("mer_"):
            return await self.store.merchant(key)
        return await self.store.payment(key)

    # ----- create ------------------------------------------------------------------------
    async def create_payment(
        self, merchant_id: str, body: object, idempotency_key: str | None = None
    ) -> Response:
        """Run the whole pipeline for ``POST /v1/payments``; never raises a RazorlabError."""
        self.trace = []
        key = idempotency_key
        try:
            request = self._step("validate", parse_payment_request, body, now=self.clock.now())
            fingerprint = ""
            if key is not None:
                check_key(key)
                fingerprint = self.keys.fingerprint("POST", "/v1/payments", body)
            async with self.order_queue(request.order_id):  # payments of one order queue
                started = await self.start_payment(merchant_id, request, key, fingerprint)
                if isinstance(started, Response):
                    return started
                return await self.finish_payment(started, request, key)
        except RazorlabError as err:
            self.trace.append(f"rejected: {err.code}")
            return Response.error(err)

    async def start_payment(
        self, merchant_id: str, request: PaymentRequest, key: str | None = None,
        fingerprint: str = "", *, auto_capture: bool | None = None, order: Order | None = None,
    ) -> Payment | Response:  # fmt: skip
        """Up to the committed intent: the ``created`` payment, or a replayed answer.

        The caller holds the order's queue (``order_queue``) if the request names one;
        ``order`` is that order if the caller has read it in the queue (else it is read).
        """
        if self.limiter is not None:
            self._step("rate-limit", self.limiter.acquire, merchant_id)
        breaker = self.breakers.get(request.method.route)
        if breaker.state is BreakerState.OPEN:  # fail fast — but a finished key still replays
            stored = await self.keys.existing(merchant_id, key, fingerprint) if key else None
            if stored is not None:
                return self._replay(stored)
            breaker.reject_if_open()  # may have gone half-open during the lookup
        if await self.cache.get(merchant_id) is None:
            raise NotFoundError(f"no merchant {merchant_id}", field="merchant_id")
        self.trace.append("cache: merchant config")
        if request.order_id is not None:
            if order is None or order.id != request.order_id:
                order = await self.get_order(merchant_id, request.order_id, field="order_id")
            order.check_payable(request.amount.paise, request.amount.currency)
        details = request.method.details()
        if isinstance(request.method, Card):  # Razorpay's card entity id (never the number)
            details += (("card_id", self.card_ids.new("card")),)
        payment = Payment(
            id=self.ids.new("pay"), merchant_id=merchant_id, amount=request.amount,
            method=request.method.name,
            auto_capture=request.auto_capture if auto_capture is None else auto_capture,
            method_details=details, created_at=self.clock.now(), order_id=request.order_id,
            email=request.email, contact=request.contact, notes=request.notes,
            description=request.description,
        )  # fmt: skip
        stored = await self._persist_intent(payment, key, fingerprint)
        if stored is not None:
            return self._replay(stored)
        self.trace.append(
            "tx: persist intent (created)" + (" + claim idempotency key" if key else "")
        )
        self._crash_point("after_intent")
        return payment

    async def finish_payment(
        self, payment: Payment, request: PaymentRequest, key: str | None = None, *,
        order: Order | None = None,
    ) -> Response:  # fmt: skip
        """From the committed intent to the committed result: breaker, bank, persist.

        ``order`` is the payment's order if the caller read it in the order's queue (which
        it holds): the capture's ``order.paid`` event is then built without reading it again.
        """
        try:
            self._step(
                "breaker " + request.method.route, self.breakers.get(request.method.route).allow
            )
        except CircuitOpen:  # half-open and its probes are all out: undo the intent
            await self._forget_intent(payment, key)
            raise
        reply = await self._call_bank(payment, request)
        return await self._persist_result(payment, reply, key, order)

    def order_queue(self, order_id: str | None) -> contextlib.AbstractAsyncContextManager[None]:
        """Queue behind other work on ``order_id`` in this process (no-op without one)."""
        return contextlib.nullcontext() if order_id is None else self._queue(order_id)

    async def _persist_intent(
        self, payment: Payment, key: str | None, fingerprint: str
    ) -> StoredResponse | None:
        """Commit the ``created`` payment and its key claim together; or find the key taken."""
        for _ in range(3):  # the holder may release the key between our claim and our read
            try:
                async with self.store.transaction() as tx:
                    if key is not None:
                        await self.keys.claim_tx(tx, payment.merchant_id, key, fingerprint,
                                                 payment.id)  # fmt: skip
                    await self.store.insert_payment_tx(tx, payment)
                    if payment.order_id is not None:
                        await self.store.order_attempt_tx(tx, payment.order_id,
                                                          payment.amount.paise)  # fmt: skip
                return None
            except KeyTaken:
                stored = await self.keys.existing(payment.merchant_id, key, fingerprint)
                if stored is not None:
                    return stored
        raise IdempotencyKeyInUse(
            "this Idempotency-Key is contended; retry", field="Idempotency-Key"
        )

    async def _forget_intent(self, payment: Payment, key: str | None) -> None:
        """Undo an intent refused before the bank call: nothing was attempted, keep nothing."""
        async with self.store.transaction() as tx:
            if key is not None:
                await self.keys.forget_tx(tx, payment.merchant_id, key)
            await tx.execute("DELETE FROM payments WHERE id = ? AND status = 'created'",
                             (payment.id,))  # fmt: skip

    def _replay(self, stored: StoredResponse) -> Response:
        self.trace.append("idempotency: replay of the stored response")
        return Response(stored.status, stored.body, {"Idempotent-Replayed": "true"})

    def _step(self, name: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        result = fn(*args, **kwargs)
        self.trace.append(name)
        return result

    def _crash_point(self, point: str) -> None:
        if self.fault is not None:
            self.fault(point)

    async def _call_bank(self, payment: Payment, request: PaymentRequest) -> BankReply:
        breaker = self.breakers.get(request.method.route)
        reply = await self.bank.charge(payment.id, payment.amount, request.method)
        if reply.outcome in (BankOutcome.ERROR, BankOutcome.TIMEOUT):
            breaker.record_failure()
        else:
            breaker.record_success()
        self.trace.append(f"bank: {reply.outcome.value} (no transaction open)")
        self._crash_point("after_bank")
        return reply

    def resolve(self, payment: Payment, outcome: BankOutcome, reference: str | None,
                reason: str | None) -> Payment:  # fmt: skip
        """The payment after the bank's definitive answer (auto-capture applied)."""
        now = self.clock.now()
        if outcome is BankOutcome.SUCCESS:
            done = lifecycle.authorize(payment, at=now, bank_reference=reference or "")
            return lifecycle.capture(done, at=now) if done.auto_capture else done
        code = reason or "PAYMENT_DECLINED"
        return lifecycle.fail(payment, code=code, description=_DECLINE_TEXT.get(code, code))

    async def _persist_result(
        self, payment: Payment, reply: BankReply, key: str | None, order: Order | None = None
    ) -> Response:
        if reply.outcome in (BankOutcome.TIMEOUT, BankOutcome.PENDING):
            new = payment  # unknown: leave it to reconciliation
        else:
            new = self.resolve(payment, reply.outcome, reply.reference, reply.reason)
        response = self.response_for(new)
        paid = await self._paid_order(payment, new, order)
        async with self.store.transaction() as db:
            if new is not payment:
                await self._move_tx(db, payment, new, self._events_for(new), paid)
            if key is not None:
                await self.keys.finish_tx(
                    db, payment.merchant_id, key, StoredResponse(response.status, response.body)
                )
        self.trace.append(f"tx: persist result ({new.status.value}) + outbox + key response")
        await self.cache.invalidate(new.id)
        self.trace.append("cache: invalidate payment")
        if new.status is PaymentStatus.CAPTURED:
            self.bank.capture(new.id)
        return response

    @staticmethod
    def response_for(p: Payment) -> Response:
        if p.status is PaymentStatus.FAILED:
            return Response.error(PaymentFailed(p))
        return Response(201, p.to_json())

    @staticmethod
    def _events_for(p: Payment) -> list[str]:
        if p.status is PaymentStatus.CAPTURED and p.auto_capture:
            return ["payment.authorized", "payment.captured"]  # auto-capture: both at once
        return [f"payment.{p.status.value}"]

    async def _paid_order(
        self, before: Payment, after: Payment, order: Order | None = None
    ) -> Order | None:
        """The order ``after``'s capture adds to, as it reads once paid in full (else None).

        ``order`` is used if it is that order (read by a caller holding its queue), else
        the order is read. In-process nothing changes an order while its queue is held
        (payments, captures and notes edits all queue), so the copy is as fresh as a read.
        """
        if after.order_id is None or not after.captured_at or before.captured_at:
            return None
        if order is None or order.id != after.order_id:
            order = await self.store.order(after.order_id)
        return replace(order, status=OrderStatus.PAID, amount_paid=order.amount.paise)

    async def _move_tx(
        self, db: Any, before: Payment, after: Payment, events: list[str], paid: Order | None
    ) -> None:
        """Move the payment and its order, with their events, in the caller's transaction.

        ``paid`` (from :meth:`_paid_order`) is announced as ``order.paid`` only if the
        order's conditional update in this transaction left it ``paid``: exactly once,
        by the capture that completes it, even when another process paid part of it.
        """
        await self.store.update_payment_tx(db, before, after)
        await self._events_tx(db, after, events)
        if paid is not None:
            await self.store.order_paid_tx(db, paid.id, after.amount.paise)
            payload = {"payment": {"entity": after.to_json()}, "order": {"entity": paid.to_json()}}
            when = ("EXISTS (SELECT 1 FROM orders WHERE id = ? AND status = 'paid')", (paid.id,))
            await self._event_tx(db, after.merchant_id, "order.paid", payload, when)

    async def _events_tx(
        self, db: Any, p: Payment, events: list[str], refund: dict | None = None,
        when: tuple[str, tuple] = ("1", ()),
    ) -> None:  # fmt: skip
        """Outbox rows announcing ``events`` about ``p``, in the caller's transaction."""
        entity = p.to_json()  # one payment, one entity: auto-capture announces it twice
        for event in events:
            payload: dict[str, Any] = {"refund": {"entity": refund}} if refund else {}
            payload["payment"] = {"entity": entity}  # Razorpay: refund first, then payment
            await self._event_tx(db, p.merchant_id, event, payload, when)

    async def _event_tx(
        self, db: Any, merchant_id: str, event: str, payload: dict[str, Any],
        when: tuple[str, tuple] = ("1", ()),
    ) -> None:  # fmt: skip
        """One outbox row (written only if the SQL condition ``when`` holds)."""
        now = self.clock.now()
        body = event_body(merchant_id, event, payload, now)
        await self.store.add_event_tx(
            db, merchant_id, self.event_ids.new("evt"), event, body, now, when=when
        )

    async def finish_resolution(self, before: Payment, after: Payment) -> None:
        """Commit a reconciled outcome (and the orphaned idempotency key's response)."""
        response = self.response_for(after)
        paid = await self._paid_order(before, after)
        async with self.store.transaction() as db:
            await self._move_tx(db, before, after, self._events_for(after), paid)
            await self.keys.finish_for_payment_tx(
                db, after.id, StoredResponse(response.status, response.body)
            )
        await self.cache.invalidate(after.id)
        if after.status is PaymentStatus.CAPTURED:
            self.bank.capture(after.id)

    async def late_authorize(self, payment: Payment, bank_reference: str) -> Payment:
        """The bank confirmed a payment we had failed as unknown to it: authorize it late.

        A conditional update (the row must still be that failed payment), with its
        ``payment.authorized`` event; a second confirmation finds it moved and raises
        :class:`ConcurrentUpdate`, so the event is written once.
        """
        after = lifecycle.late_authorize(payment, at=self.clock.now(),
                                         bank_reference=bank_reference)  # fmt: skip
        async with self.store.transaction() as db:
            await self._move_tx(db, payment, after, ["payment.authorized"], None)
        await self.cache.invalidate(payment.id)
        return after

    # ----- reads -------------------------------------------------------------------------
    async def get_payment(self, merchant_id: str, payment_id: str) -> Payment:
        """A merchant's payment via the cache; any other id is :class:`UnknownId` (a 400)."""
        payment = None
        if isinstance(payment_id, str) and payment_id.startswith("pay_"):  # not a merchant key
            payment = await self.cache.get(payment_id)
        if not isinstance(payment, Payment) or payment.merchant_id != merchant_id:
            raise UnknownId()
        return payment

    async def list_payments(
        self, merchant_id: str, *, since: int = 0, until: int | None = None,
        count: int = 10, skip: int = 0,
    ) -> list[Payment]:  # fmt: skip
        until = self._page(since, until, count, skip)
        return await self.store.payments_of(
            merchant_id, since=since, until=until, count=count, skip=skip
        )

    def _page(self, since: int, until: int | None, count: int, skip: int) -> int:
        """Check list parameters (bounded, so SQLite never sees an overflowing integer)."""
        until = int(self.clock.now()) + 1 if until is None else until
        for name, value, low, high in (
            ("count", count, 1, MAX_PAGE), ("skip", skip, 0, MAX_SKIP),
            ("from", since, 0, MAX_EPOCH_S), ("to", until, 0, MAX_EPOCH_S),
        ):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValidationError(f"{name} must be an integer in [{low}, {high}]", field=name)
        return until

    # ----- orders ------------------------------------------------------------------------
    async def create_order(self, merchant_id: str, body: object) -> Order:
        """``POST /v1/orders``: validate, then store a ``created`` order."""
        request = parse_order_request(body)
        order = Order(
            self.ids.new("order"), merchant_id, request.amount, request.receipt, request.notes,
            request.partial_payment, request.payment_capture, created_at=self.clock.now(),
        )  # fmt: skip
        await self.store.insert_order(order)
        return order

    async def get_order(self, merchant_id: str, order_id: object, *, field: str = "id") -> Order:
        """One of the merchant's orders; any other id is :class:`UnknownId` (Razorpay's 400)."""
        order = None
        if isinstance(order_id, str) and order_id.startswith("order_"):
            order = await self.store.order(order_id)
        if order is None or order.merchant_id != merchant_id:
            raise UnknownId(field)
        return order

    async def list_orders(
        self, merchant_id: str, *, since: int = 0, until: int | None = None,
        count: int = 10, skip: int = 0,
    ) -> list[Order]:  # fmt: skip
        until = self._page(since, until, count, skip)
        return await self.store.orders_of(
            merchant_id, since=since, until=until, count=count, skip=skip
        )

    async def order_payments(self, merchant_id: str, order_id: str) -> list[Payment]:
        """The payments attempted for one of the merchant's orders, oldest first."""
        order = await self.get_order(merchant_id, order_id)
        return await self.store.payments_of_order(order.id)

    async def edit_order(self, merchant_id: str, order_id: str, body: object) -> Order:
        """``PATCH /v1/orders/{id}``: replace the order's ``notes``."""
        async with self.order_queue(order_id):
            edited = parse_order_edit(await self.get_order(merchant_id, order_id), body)
            await self.store.set_order_notes(edited.id, edited.notes)
        return edited

    async def signed_result(
        self, merchant_id: str, order_id: str, payment_id: str
    ) -> dict[str, str]:
        """What checkout hands the merchant's page for a successful order payment."""
        secret = await self.store.key_secret(merchant_id)
        if secret is None:
            raise ValidationError("this merchant has no signing secret on file", field=None)
        return {
            "razorpay_payment_id": payment_id,
            "razorpay_order_id": order_id,
            "razorpay_signature": checkout_signature(order_id, payment_id, secret),
        }

    async def decline(self, payment: Payment, reason: str) -> Response:
        """Fail a ``created`` payment before any bank call (e.g. the payer said no)."""
        reply = BankReply(BankOutcome.DECLINED, None, reason)
        return await self._persist_result(payment, reply, None)

    # ----- capture and refunds -----------------------------------------------------------
    async def capture(
        self, merchant_id: str, payment_id: str, amount: object = None,
        currency: object = None, *, required: bool = False,
    ) -> Payment:  # fmt: skip
        """Capture an authorized payment: commit the decision, then tell the bank.

        Razorpay's capture names ``amount`` (equal to the authorised amount) and
        ``currency``; the HTTP API passes ``required=True`` so both must be present.
        """
        payment = await self._own_payment(merchant_id, payment_id)
        async with self.order_queue(payment.order_id):
            return await self._capture(payment, amount, currency, required)

    async def _capture(
        self, payment: Payment, amount: object, currency: object, required: bool
    ) -> Payment:
        payment = await self._own_payment(payment.merchant_id, payment.id)  # re-read in queue
        if required or amount is not None:
            if isinstance(amount, bool) or amount != payment.amount.paise:
                raise ValidationError(
                    f"amount must equal the authorised amount, {payment.amount.paise} paise",
                    field="amount",
                )
        if required or currency is not None:
            if currency != payment.currency:
                raise ValidationError(f"currency must be {payment.currency}", field="currency")
        captured = lifecycle.capture(payment, at=self.clock.now())
        paid = await self._paid_order(payment, captured)
        async with self.store.transaction() as db:
            await self._move_tx(db, payment, captured, ["payment.captured"], paid)
        await self.cache.invalidate(payment.id)
        self.bank.capture(payment.id)
        return captured

    async def _own_payment(self, merchant_id: str, payment_id: object) -> Payment:
        payment = None
        if isinstance(payment_id, str) and payment_id.startswith("pay_"):
            payment = await self.store.payment(payment_id)
        if payment is None or payment.merchant_id != merchant_id:
            raise UnknownId()
        return payment

    @contextlib.asynccontextmanager
    async def _queue(self, payment_id: str) -> AsyncIterator[None]:
        """Serialise work on one payment in this process: a FIFO lock per payment id."""
        lock, users = self._queues.setdefault(payment_id, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._queues[payment_id]

    async def refund(
        self, merchant_id: str, payment_id: str, amount: object = None, *,
        body: object = None, idempotency_key: str | None = None,
    ) -> tuple[dict[str, Any], Payment]:  # fmt: skip
        """Refund ``amount`` paise (default: all that is left) of a captured payment.

        ``body`` is Razorpay's refund request (``amount``, ``speed``, ``notes``,
        ``receipt``) and replaces ``amount``; under ``idempotency_key`` a retry returns the
        first refund. Refunds of one payment queue behind each other.
        """
        request = parse_refund_request({"amount": amount} if body is None else body)
        fingerprint = None
        if idempotency_key is not None:
            check_refund_key(idempotency_key)
            fingerprint = refund_fingerprint(str(payment_id), request, secret=self.keys.secret)
        await self._own_payment(merchant_id, payment_id)
        async with self._queue(payment_id):
            for _ in range(REFUND_RETRIES):
                if idempotency_key is not None:
                    row = await self.store.refund_by_key(merchant_id, idempotency_key)
                    if row is not None:
                        if row[9] != fingerprint:
                            raise RefundKeyReused(
                                "this X-Refund-Idempotency key was used for another refund",
                                field="X-Refund-Idempotency",
                            )
                        return refund_json(row), await self._own_payment(merchant_id, payment_id)
                payment = await self._own_payment(merchant_id, payment_id)
                paise = payment.refundable if request.amount is None else request.amount
                after = lifecycle.refund(payment, Money.from_paise(max(paise, 1), payment.currency))
                try:
                    refund = await self._refund(
                        payment, after, paise, request, idempotency_key, fingerprint
                    )
                except ConcurrentUpdate:
                    continue  # another process refunded or changed it: read again
                except RefundKeyReused:  # another process stored this key first
                    continue  # read its refund: a replay if the request matches
                if refund["status"] == "failed":  # the bank refused: the money is back
                    after = await self._own_payment(merchant_id, payment_id)
                return refund, after
        raise ConcurrentUpdate(f"payment {payment_id} keeps changing; retry", field="id")

    async def auto_refund(self, payment: Payment) -> Payment:
        """Reverse an authorization that was never captured (used by the sweeper)."""
        after = lifecycle.auto_refund(payment)
        await self._refund(payment, after, payment.amount.paise, RefundRequest())
        return after

    async def _refund(
        self, before: Payment, after: Payment, paise: int, request: RefundRequest,
        key: str | None = None, fingerprint: str | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        now = self.clock.now()
        rid = self.ids.new("rfnd")
        row = (rid, before.id, paise, before.currency, "pending", request.speed, None,
               request.receipt, now)  # fmt: skip
        refund = {**refund_json(row), "notes": request.notes}
        async with self.store.transaction() as db:  # reserve the amount before the bank call
            await self.store.update_payment_tx(db, before, after)
            await self.store.insert_refund_tx(
                db, rid, before.id, paise, now, merchant_id=before.merchant_id,
                speed=request.speed, notes=request.notes, receipt=request.receipt,
                idem_key=key, fingerprint=fingerprint,
                error=RefundKeyReused(
                    "this X-Refund-Idempotency key was used for another refund",
                    field="X-Refund-Idempotency",
                ),
            )  # fmt: skip
            await self._events_tx(db, after, ["refund.created"], refund)
        await self.cache.invalidate(before.id)
        return await self.finish_refund(refund, after)

    async def finish_refund(self, refund: dict[str, Any], payment: Payment) -> dict[str, Any]:
        """Have the bank pay a ``pending`` refund out, then commit its outcome with its event.

        The bank de-duplicates by refund id (and answers a re-send as it answered first),
        so re-sending after a crash is safe; each outcome's event is written only by the
        update that moves the row out of ``pending``, so a refund re-sent by the
        reconciler is announced ``refund.processed`` (or ``refund.failed``) once.
        """
        if self.bank.refund(payment.id, refund["id"], refund["amount"]) == "failed":
            return await self._fail_refund(payment.merchant_id, refund["id"])
        done = {**refund, "status": "processed"}
        async with self.store.transaction() as db:
            await self.store.mark_refund_processed_tx(db, refund["id"])
            await self._events_tx(
                db, payment, ["refund.processed"], done, PaymentStore.PREVIOUS_CHANGED
            )
        return done

    async def _fail_refund(self, merchant_id: str, refund_id: str) -> dict[str, Any]:
        """Mark a refund the bank refused ``failed`` and give its amount back, atomically.

        One transaction: the refund leaves ``pending`` (exactly one writer can do that),
        the payment's reservation is released by a conditional update, and
        ``refund.failed`` is queued. A refund already settled is returned as it is.
        """
        for _ in range(REFUND_RETRIES):
            row = await self.store.refund(merchant_id, refund_id)
            if row[4] != "pending":
                return refund_json(row)  # failed (or settled) by an earlier send
            failed = {**refund_json(row), "status": "failed"}
            before = await self.store.payment(failed["payment_id"])
            after = lifecycle.release_refund(before, failed["amount"])
            try:
                async with self.store.transaction() as db:
                    await self.store.mark_refund_failed_tx(db, refund_id)
                    await self.store.update_payment_tx(db, before, after)
                    await self._events_tx(db, after, ["refund.failed"], failed)
            except ConcurrentUpdate:
                continue  # another writer settled the refund or moved the payment: re-read
            await self.cache.invalidate(before.id)
            return failed
        raise ConcurrentUpdate(f"refund {refund_id} keeps changing; retry", field="id")

    async def resend_refund(self, refund_id: str, payment_id: str) -> None:
        """Finish a refund left ``pending`` (the reconciler's path after a crash)."""
        async with self._queue(payment_id):  # behind the payment's other refunds
            payment = await self.store.payment(payment_id)
            row = await self.store.refund(payment.merchant_id, refund_id)
            if row[4] == "pending":
                await self.finish_refund(refund_json(row), payment)

    # ----- refund reads ------------------------------------------------------------------
    async def get_refund(
        self, merchant_id: str, refund_id: str, payment_id: str | None = None
    ) -> dict[str, Any]:
        """One of the merchant's refunds (of ``payment_id``, when given)."""
        row = (
            await self.store.refund(merchant_id, refund_id) if isinstance(refund_id, str) else None
        )
        if row is None or (payment_id is not None and row[1] != payment_id):
            raise UnknownId()
        return refund_json(row)

    async def list_refunds(
        self, merchant_id: str, *, payment_id: str | None = None, since: int = 0,
        until: int | None = None, count: int = 10, skip: int = 0,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """The merchant's refunds, newest first (of one payment: it must be theirs)."""
        until = self._page(since, until, count, skip)
        if payment_id is not None:
            await self._own_payment(merchant_id, payment_id)
        rows = await self.store.refunds_of(
            merchant_id, payment_id=payment_id, since=since, until=until, count=count, skip=skip
        )
        return [refund_json(r) for r in rows]
