"""Checkout: the customer's steps of an order — in the browser, or server to server.

Scenario: the shop's page opens Razorpay Checkout with the shop's *key id* (public) and
an ``order_id``; or the shop's own (PCI-compliant) server collects the card and calls
Razorpay's S2S JSON API with key id and secret. Either way the customer must then
authenticate — type the OTP the issuer texted, or approve the UPI collect request in
their app — before the bank is asked to charge. When the payment is authorised, the
answer is ``razorpay_payment_id``, ``razorpay_order_id`` and ``razorpay_signature``,
which the shop's server verifies
(:func:`~razorlab.payments.orders.checkout_signature`) before shipping.

Two route families, one engine (:class:`Checkout`):

======  =============================================  ===================================
POST    ``/v1/checkout/{order_id}/pay``                Checkout.js (key id only):
                                                       ``{"method": "card", "card": {...}}``
                                                       or ``{"method": "upi", "vpa": ...}``
POST    ``/v1/checkout/payments/{id}/otp_submit``      ``{"otp": "123456"}``
POST    ``/v1/checkout/payments/{id}/upi_collect``     ``{"approve": true}`` — the payer's app
POST    ``/v1/payments/create/json``                   S2S card payment (key id + secret):
                                                       Razorpay's body (``amount``,
                                                       ``currency``, ``order_id``, ``email``,
                                                       ``contact``, ``method``, ``card``)
POST    ``/v1/payments/{id}/otp/submit``               ``{"otp": "123456"}`` (S2S)
POST    ``/v1/payments/{id}/otp/resend``               the same ``next`` actions again
POST    ``/v1/payments/create/upi``                    S2S UPI collect: ``vpa``, ``upi:
                                                       {"flow": "collect", "expiry_time":
                                                       minutes}``; ``next``: poll the payment
POST    ``/v1/payments/validate/vpa``                  ``{"vpa"}`` → ``{"vpa", "success",
                                                       "customer_name"}``
======  =============================================  ===================================

These are the shapes of Razorpay's S2S JSON API and the SDK's ``createPaymentJson``,
``otpSubmit``, ``otpResend``, ``createUpi`` and ``validateVpa``
(razorpay.com/docs/payments/payment-gateway/s2s-integration/json/v2). The amount and
currency come from the order; a partial-payment order lets the customer pay less.

Design note — where the waiting customer lives. The card does not wait in a worker's
memory: the issuer's ACS holds it (:meth:`~razorlab.payments.bank.SimulatedBank.
begin_authentication`) in a session named by the payment id, so any worker of a fleet can
take the OTP and the gateway stores nothing for the step. A UPI collect waits at the payer's PSP
(:meth:`~razorlab.payments.bank.SimulatedBank.begin_collect`); a timer on the gateway's
clock plays its callback — the test payers answer after a few seconds, anyone else's
collect expires after ``expiry_time`` (NPCI ``U69``). A timer, not the reconciler's tick:
the reconciler runs every 30 s in ``razorlab serve`` and only in worker 0, while
``success@razorpay`` must answer within seconds; on a ManualClock the timer fires as soon
as the test advances the clock. If the timer's worker dies, the bank's status answer
(``pending``, then ``declined`` with the expiry reason) lets the reconciler settle it.

Where we simplify (test mode, as Razorpay's): OTP ``123456`` authenticates; any other is
refused (400 ``BAD_REQUEST_ERROR``, reason ``incorrect_otp``) and the third wrong one fails
the payment (``AUTHENTICATION_FAILED``, ``payment.failed``). There is no 3-D Secure
redirect, no UPI intent flow and no netbanking; ``email``, ``contact``, ``notes`` and
``description`` are checked (:mod:`razorlab.payments.notes`) and kept on the payment, as
Razorpay shows them (S2S requires ``email`` and ``contact``; Checkout.js takes them as
its prefill, optionally); ``ip``, ``user_agent`` and friends are checked for type and not
stored; ``validate/vpa`` knows no
names (``customer_name`` is null). A payment whose order was paid meanwhile is failed
without a bank call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from razorlab.errors import RazorlabError, ValidationError
from razorlab.payments.bank import Authentication
from razorlab.payments.gateway import Gateway, Response
from razorlab.payments.methods import (
    VPA_PATTERN,
    Card,
    PaymentMethod,
    PaymentRequest,
    Upi,
    parse_payment_request,
)
from razorlab.payments.orders import Order, OrderAlreadyPaid, OrderStatus
from razorlab.payments.payment import Payment, PaymentStatus

__all__ = [
    "Checkout",
    "CHECKOUT_METHODS",
    "IncorrectOtp",
    "DEFAULT_COLLECT_MINUTES",
    "MAX_COLLECT_MINUTES",
]

CHECKOUT_METHODS = {"card": "otp_submit", "upi": "upi_collect"}  # method -> the step it waits on
DEFAULT_COLLECT_MINUTES = 5  # a collect request's life when the request names none (ours)
MAX_COLLECT_MINUTES = 24 * 60  # the longest collect we accept (ours)
_PAYMENT_FIELDS = ("email", "contact", "notes", "description")  # kept on the payment
_CUSTOMER_FIELDS = frozenset({"method", "card", "vpa", "amount", *_PAYMENT_FIELDS})
_S2S_FIELDS = frozenset({
    "amount", "currency", "order_id", "email", "contact", "method", "card", "vpa", "upi",
    "notes", "description", "ip", "referer", "user_agent", "callback_url", "save",
})  # fmt: skip
_S2S_CARD_FIELDS = frozenset({"number", "name", "expiry_month", "expiry_year", "cvv"})
_log = logging.getLogger(__name__)
Form = Callable[[Order, object], dict[str, Any]]  # (the order, the body) -> the payment request


class IncorrectOtp(ValidationError):
    """The OTP is wrong; the payment still waits (until the last attempt)."""

    code = "INCORRECT_OTP"


def _not_waiting(payment_id: str, step: str) -> ValidationError:
    return ValidationError(f"payment {payment_id} is not waiting for {step}", field="id")


def _payment_body(order: Order, body: object) -> dict[str, Any]:
    """The customer's checkout form as a payment request for ``order``."""
    if order.status is OrderStatus.PAID:
        raise OrderAlreadyPaid(f"order {order.id} is already paid", field="order_id")
    if not isinstance(body, dict):
        raise ValidationError("the checkout body must be a JSON object", field=None)
    unknown = sorted(set(body) - _CUSTOMER_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!s:.40}", field=unknown[0][:40])
    if not isinstance(body.get("method"), str) or body["method"] not in CHECKOUT_METHODS:
        raise ValidationError(f"method must be one of {', '.join(CHECKOUT_METHODS)}",
                              field="method")  # fmt: skip
    if "amount" in body and not order.partial_payment:
        raise ValidationError("the amount comes from the order", field="amount")
    return {**body, "amount": body.get("amount", order.amount_due),
            "currency": order.amount.currency, "order_id": order.id}  # fmt: skip


def _digits(value: object, field: str) -> int:
    """Razorpay sends card expiries as strings ("12", "30"); integers are taken too."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 4:
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9999:
        return value
    raise ValidationError(f"{field} must be a number", field=field)


def _s2s_card(raw: object) -> dict[str, Any]:
    """Razorpay's ``card`` object as razorlab's: 2-digit years widened, the CVV checked and
    dropped (never kept: PCI DSS forbids storing it even encrypted)."""
    if not isinstance(raw, dict) or set(raw) - _S2S_CARD_FIELDS:
        raise ValidationError(f"card takes {', '.join(sorted(_S2S_CARD_FIELDS))}", field="card")
    cvv = raw.get("cvv")
    if not (isinstance(cvv, str) and cvv.isascii() and cvv.isdigit() and 3 <= len(cvv) <= 4):
        raise ValidationError("card.cvv must be 3 or 4 digits", field="card.cvv")
    if not isinstance(raw.get("name", ""), str):
        raise ValidationError("card.name must be a string", field="card.name")
    year = _digits(raw.get("expiry_year"), "card.expiry_year")
    return {"number": raw.get("number"), "expiry_year": year + 2000 if year < 100 else year,
            "expiry_month": _digits(raw.get("expiry_month"), "card.expiry_month")}  # fmt: skip


def _s2s_form(body: dict[str, Any], method: str) -> Form:
    """A Razorpay S2S create body as the customer's form (checked against the order later)."""

    def form(order: Order, _: object) -> dict[str, Any]:
        if body.get("currency") != order.amount.currency:
            raise ValidationError(f"currency must be {order.amount.currency}", field="currency")
        amount = body.get("amount")
        if not order.partial_payment and amount != order.amount_due:
            raise ValidationError(f"amount must be the order's amount due, {order.amount_due}",
                                  field="amount")  # fmt: skip
        chosen = {"card": _s2s_card(body.get("card"))} if method == "card" else {}
        if method == "upi":
            chosen = {"vpa": body.get("vpa")}
        extra = {"amount": amount} if order.partial_payment else {}
        kept = {name: body[name] for name in _PAYMENT_FIELDS if name in body}
        return _payment_body(order, {"method": method, **chosen, **extra, **kept})

    return form


def _check_s2s(body: object, method: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object", field=None)
    unknown = sorted(set(body) - _S2S_FIELDS)
    if unknown:
        raise ValidationError(f"unknown field {unknown[0]!s:.40}", field=unknown[0][:40])
    if body.get("method") != method:
        raise ValidationError(f"method must be {method}", field="method")
    for name in ("email", "contact"):  # their shape is checked with the payment's fields
        if body.get(name) is None:
            raise ValidationError(f"{name} is required", field=name)
    if not isinstance(body.get("order_id"), str):
        raise ValidationError("order_id is required", field="order_id")
    return body


def _collect_minutes(body: dict[str, Any]) -> int:
    upi = body.get("upi", {"flow": "collect"})
    if not isinstance(upi, dict) or upi.get("flow") != "collect" or set(upi) - {
        "flow", "expiry_time",
    }:  # fmt: skip
        raise ValidationError('upi is {"flow": "collect", "expiry_time": minutes}', field="upi")
    minutes = upi.get("expiry_time", DEFAULT_COLLECT_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int) \
            or not 1 <= minutes <= MAX_COLLECT_MINUTES:  # fmt: skip
        raise ValidationError(f"upi.expiry_time must be 1..{MAX_COLLECT_MINUTES} minutes",
                              field="upi.expiry_time")  # fmt: skip
    return minutes


def _otp_actions(payment_id: str) -> list[dict[str, str]]:
    base = f"/v1/payments/{payment_id}/otp"
    return [{"action": "otp_submit", "url": f"{base}/submit", "method": "post"},
            {"action": "otp_resend", "url": f"{base}/resend", "method": "post"}]  # fmt: skip


class Checkout:
    """The customer steps over a :class:`~razorlab.payments.gateway.Gateway`.

    ``await close()`` cancels the UPI collect timers still running (the server's cleanup).
    """

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self._timers: set[asyncio.Task[None]] = set()

    async def close(self) -> None:
        for timer in list(self._timers):
            timer.cancel()
        await asyncio.gather(*self._timers, return_exceptions=True)

    # ----- starting a payment ------------------------------------------------------------
    async def _start(
        self, merchant_id: str, order_id: object, body: object, form: Form = _payment_body,
        collect_minutes: int = DEFAULT_COLLECT_MINUTES, *, order_field: str = "order_id",
    ) -> tuple[Payment, Order]:  # fmt: skip
        """The payment intent, then the customer's step opened at the bank."""
        gw = self.gateway
        gw.trace = []  # a payment starts: its steps, as create_payment's (else it grows forever)
        async with gw.order_queue(order_id if isinstance(order_id, str) else None):
            order = await gw.get_order(merchant_id, order_id, field=order_field)
            request = parse_payment_request(form(order, body), now=gw.clock.now())
            payment = await gw.start_payment(
                merchant_id, request, auto_capture=order.payment_capture, order=order
            )
        if isinstance(payment, Response):  # a replay: cannot happen without an idempotency key
            raise ValidationError("this payment was already started", field=None)
        method = request.method
        if isinstance(method, Card):
            gw.bank.begin_authentication(payment.id, payment.amount, method)
        elif isinstance(method, Upi):
            collect = gw.bank.begin_collect(
                payment.id, payment.amount, method.vpa, collect_minutes * 60.0
            )
            self._watch(merchant_id, payment.id, collect.payer_answers_after_s,
                        collect_minutes * 60.0)  # fmt: skip
        return payment, order

    async def pay(self, merchant_id: str, order_id: str, body: object) -> Response:
        """Checkout.js: the customer submits the payment form for ``order_id``."""
        try:
            payment, order = await self._start(merchant_id, order_id, body, order_field="id")
        except RazorlabError as err:
            return Response.error(err)
        step = CHECKOUT_METHODS[payment.method]
        url = f"/v1/checkout/payments/{payment.id}/{step}"
        return Response(200, {"razorpay_payment_id": payment.id, "razorpay_order_id": order.id,
                              "next": [{"action": step, "url": url, "method": "post"}]})  # fmt: skip

    async def create_json(self, merchant_id: str, body: object) -> Response:
        """``POST /v1/payments/create/json``: a card payment that waits for its OTP."""
        try:
            body = _check_s2s(body, "card")
            payment, _ = await self._start(
                merchant_id, body["order_id"], body, _s2s_form(body, "card")
            )
        except RazorlabError as err:
            return Response.error(err)
        return Response(200, {"razorpay_payment_id": payment.id,
                              "next": _otp_actions(payment.id)})  # fmt: skip

    async def create_upi(self, merchant_id: str, body: object) -> Response:
        """``POST /v1/payments/create/upi``: a collect request; the merchant polls the payment."""
        try:
            body = _check_s2s(body, "upi")
            minutes = _collect_minutes(body)
            payment, _ = await self._start(
                merchant_id, body["order_id"], body, _s2s_form(body, "upi"), minutes
            )
        except RazorlabError as err:
            return Response.error(err)
        poll = {"action": "poll", "url": f"/v1/payments/{payment.id}", "method": "get"}
        return Response(200, {"razorpay_payment_id": payment.id, "next": [poll]})

    async def validate_vpa(self, merchant_id: str, body: object) -> Response:
        """``POST /v1/payments/validate/vpa``: is this a VPA a collect can reach?"""
        vpa = body.get("vpa") if isinstance(body, dict) and set(body) == {"vpa"} else None
        if not isinstance(vpa, str) or not VPA_PATTERN.match(vpa):
            return Response.error(ValidationError("vpa must look like name@handle", field="vpa"))
        valid = vpa != "failure@razorpay"  # the test VPA that no collect reaches
        return Response(200, {"vpa": vpa, "success": valid, "customer_name": None})

    # ----- the customer's steps ----------------------------------------------------------
    async def otp_submit(self, merchant_id: str, payment_id: str, body: object) -> Response:
        """The customer types the OTP the issuer sent; once authenticated the bank charges."""
        otp = body.get("otp") if isinstance(body, dict) and set(body) == {"otp"} else None
        if not (isinstance(otp, str) and otp.isascii() and otp.isdigit() and 4 <= len(otp) <= 8):
            return Response.error(ValidationError('the body is {"otp": "4 to 8 digits"}',
                                                  field="otp"))  # fmt: skip
        return await self._complete(merchant_id, payment_id, "otp_submit", otp=otp)

    async def otp_resend(self, merchant_id: str, payment_id: str, body: object) -> Response:
        """``otp/resend``: the same next actions (test mode sends no OTP; it stays 123456)."""
        try:
            if body not in ({}, None):
                raise ValidationError("otp/resend takes no body", field=None)
            payment = await self.gateway.get_payment(merchant_id, payment_id)
            if payment.status is not PaymentStatus.CREATED or payment.method != "card":
                raise _not_waiting(payment_id, "otp_submit")
        except RazorlabError as err:
            return Response.error(err)
        return Response(200, {"razorpay_payment_id": payment_id,
                              "next": _otp_actions(payment_id)})  # fmt: skip

    async def upi_collect(self, merchant_id: str, payment_id: str, body: object) -> Response:
        """The simulated payer approves (or declines) the collect request in their UPI app."""
        approve = body.get("approve") if isinstance(body, dict) and set(body) == {"approve"} else 0
        if not isinstance(approve, bool):
            return Response.error(ValidationError('the body is {"approve": true|false}',
                                                  field="approve"))  # fmt: skip
        decline = None if approve else "UPI_COLLECT_DECLINED"
        return await self._complete(merchant_id, payment_id, "upi_collect", decline=decline)

    def _watch(
        self, merchant_id: str, payment_id: str, answers_after_s: float | None, expiry_s: float
    ) -> None:
        """Start the collect's timer: the test payer's answer, else the expiry (U69)."""

        async def timer() -> None:
            try:
                if answers_after_s is not None and answers_after_s < expiry_s:
                    await self.gateway.clock.sleep(answers_after_s)
                    await self._complete(merchant_id, payment_id, "upi_collect")
                else:
                    await self.gateway.clock.sleep(expiry_s)
                    await self._complete(merchant_id, payment_id, "upi_collect",
                                         decline="UPI_COLLECT_EXPIRED")  # fmt: skip
            except Exception:  # the server is stopping, or a bug: the reconciler settles it
                _log.exception("UPI collect timer of %s failed", payment_id)

        task = asyncio.create_task(timer())
        self._timers.add(task)
        task.add_done_callback(self._timers.discard)

    async def _method(self, payment: Payment, step: str, otp: str | None) -> PaymentMethod | str:
        """The instrument to charge once the customer's step is done, or a decline reason."""
        if step == "upi_collect":
            return Upi(dict(payment.method_details)["vpa"])
        gw = self.gateway
        answer = Authentication("unknown")
        if otp is not None:
            answer = gw.bank.complete_authentication(payment.id, otp)
        if answer.status == "authenticated" and answer.card is not None:
            return answer.card
        if answer.status == "incorrect":
            raise IncorrectOtp(f"the OTP is incorrect; {answer.attempts_left} attempt(s) left",
                               field="otp")  # fmt: skip
        if answer.status == "failed":
            return "AUTHENTICATION_FAILED"
        raise _not_waiting(payment.id, step)

    async def _complete(
        self, merchant_id: str, payment_id: str, step: str, *, otp: str | None = None,
        decline: str | None = None,
    ) -> Response:  # fmt: skip
        gw = self.gateway
        try:
            payment = await gw.get_payment(merchant_id, payment_id)
            async with gw.order_queue(payment.order_id):
                payment = await gw.get_payment(merchant_id, payment_id)  # fresh, in the queue
                if payment.status is not PaymentStatus.CREATED \
                        or CHECKOUT_METHODS.get(payment.method) != step \
                        or payment.order_id is None:  # fmt: skip
                    raise _not_waiting(payment_id, step)
                order = await gw.get_order(merchant_id, payment.order_id)
                method = await self._method(payment, step, otp)
                try:
                    order.check_payable(payment.amount.paise, payment.currency)
                except ValidationError:  # paid (or paid down) by another payment meanwhile
                    return await gw.decline(payment, "ORDER_ALREADY_PAID")
                if isinstance(method, str) or decline is not None:
                    return await gw.decline(payment, decline or str(method))
                request = PaymentRequest(payment.amount, method, payment.auto_capture, order.id)
                response = await gw.finish_payment(payment, request, order=order)
        except RazorlabError as err:
            return Response.error(err)
        status = response.body.get("status")
        if response.status == 201 and status in ("authorized", "captured"):
            signed = await gw.signed_result(merchant_id, order.id, payment_id)
            return Response(200, signed)
        if response.status == 201:  # the bank's answer is pending: reconciliation decides
            return Response(202, {"razorpay_payment_id": payment_id,
                                  "razorpay_order_id": order.id, "status": status})  # fmt: skip
        return response
