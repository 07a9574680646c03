"""Checkout: the customer's side of an order, as Checkout.js would drive it.

Scenario: the shop's page opens Razorpay Checkout with the shop's *key id* (public) and
an ``order_id``. The customer's browser — never the shop's server — then talks to
Razorpay: it sends the card (and later the OTP the issuer texted) or a UPI id (and the
payer approves the collect request in their UPI app). When the payment is authorised,
checkout gives the page ``razorpay_payment_id``, ``razorpay_order_id`` and
``razorpay_signature``; the page posts them to the shop's server, which verifies the
signature (:func:`~razorlab.payments.orders.checkout_signature`) before shipping.

Endpoints (key id only, as Checkout.js authenticates; a secret, if sent, is ignored):

======  ============================================  ===================================
POST    ``/v1/checkout/{order_id}/pay``               ``{"method": "card", "card": {...}}``
                                                      or ``{"method": "upi", "vpa": ...}``
POST    ``/v1/checkout/payments/{id}/otp_submit``     ``{"otp": "123456"}`` (4–8 digits)
POST    ``/v1/checkout/payments/{id}/upi_collect``    ``{"approve": true}`` — the payer's app
======  ============================================  ===================================

``pay`` answers like Razorpay's S2S JSON payment API: the payment id and a ``next``
list naming the one action left. The amount and currency come from the order; only a
``partial_payment`` order lets the customer name an ``amount`` (at most what is due).

Where we simplify: the simulated issuer accepts any well-formed OTP (card outcomes come
from :mod:`~razorlab.payments.bank`'s test instruments); there is no 3-D Secure redirect,
no polling endpoint, and no netbanking. The card waits for its OTP *in memory only*
(storing a full card number would break PCI DSS): after a restart, or beyond
:data:`MAX_WAITING` open checkouts, the payment stays ``created`` and reconciliation
fails it (the bank never saw it). A payment whose order was paid meanwhile is failed
without a bank call.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from razorlab.errors import RazorlabError, ValidationError
from razorlab.payments.gateway import Gateway, Response
from razorlab.payments.methods import PaymentRequest, parse_payment_request
from razorlab.payments.orders import Order, OrderAlreadyPaid, OrderStatus
from razorlab.payments.payment import PaymentStatus

__all__ = ["Checkout", "MAX_WAITING", "CHECKOUT_METHODS"]

MAX_WAITING = 10_000  # open checkouts (awaiting OTP or UPI approval) held in memory
CHECKOUT_METHODS = {"card": "otp_submit", "upi": "upi_collect"}  # method -> the step it waits on
_CUSTOMER_FIELDS = frozenset({"method", "card", "vpa", "amount"})


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


class Checkout:
    """The checkout steps over a :class:`~razorlab.payments.gateway.Gateway`."""

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self._waiting: OrderedDict[str, tuple[PaymentRequest, str]] = OrderedDict()

    async def pay(self, merchant_id: str, order_id: str, body: object) -> Response:
        """The customer submits the payment form for ``order_id``."""
        gw = self.gateway
        gw.trace = []  # a payment starts: its steps, as create_payment's (else it grows forever)
        try:
            async with gw.order_queue(order_id):  # read the order once, in its queue
                order = await gw.get_order(merchant_id, order_id)
                request = parse_payment_request(_payment_body(order, body), now=gw.clock.now())
                payment = await gw.start_payment(
                    merchant_id, request, auto_capture=order.payment_capture, order=order
                )
        except RazorlabError as err:
            return Response.error(err)
        if isinstance(payment, Response):  # a replay: cannot happen without an idempotency key
            return payment
        step = CHECKOUT_METHODS[request.method.name]
        self._waiting[payment.id] = (request, step)
        if len(self._waiting) > MAX_WAITING:
            self._waiting.popitem(last=False)  # abandoned: reconciliation will fail it
        url = f"/v1/checkout/payments/{payment.id}/{step}"
        return Response(200, {"razorpay_payment_id": payment.id, "razorpay_order_id": order.id,
                              "next": [{"action": step, "url": url}]})  # fmt: skip

    async def otp_submit(self, merchant_id: str, payment_id: str, body: object) -> Response:
        """The customer types the OTP the issuer sent; the bank is then asked to charge."""
        otp = body.get("otp") if isinstance(body, dict) and set(body) == {"otp"} else None
        if not (isinstance(otp, str) and otp.isascii() and otp.isdigit() and 4 <= len(otp) <= 8):
            return Response.error(ValidationError('the body is {"otp": "4 to 8 digits"}',
                                                  field="otp"))  # fmt: skip
        return await self._complete(merchant_id, payment_id, "otp_submit", approved=True)

    async def upi_collect(self, merchant_id: str, payment_id: str, body: object) -> Response:
        """The simulated payer approves (or declines) the collect request in their UPI app."""
        approve = body.get("approve") if isinstance(body, dict) and set(body) == {"approve"} else 0
        if not isinstance(approve, bool):
            return Response.error(ValidationError('the body is {"approve": true|false}',
                                                  field="approve"))  # fmt: skip
        return await self._complete(merchant_id, payment_id, "upi_collect", approved=approve)

    async def _complete(
        self, merchant_id: str, payment_id: str, step: str, *, approved: bool
    ) -> Response:
        gw = self.gateway
        try:
            payment = await gw.get_payment(merchant_id, payment_id)
            async with gw.order_queue(payment.order_id):
                payment = await gw.get_payment(merchant_id, payment_id)  # fresh, in the queue
                waiting = self._waiting.get(payment_id)
                if payment.status is not PaymentStatus.CREATED or waiting is None \
                        or waiting[1] != step:  # fmt: skip
                    raise ValidationError(f"payment {payment_id} is not waiting for {step}",
                                          field="id")  # fmt: skip
                del self._waiting[payment_id]
                order = await gw.get_order(merchant_id, payment.order_id)
                try:
                    order.check_payable(payment.amount.paise, payment.currency)
                except ValidationError:  # paid (or paid down) by another payment meanwhile
                    return await gw.decline(payment, "ORDER_ALREADY_PAID")
                if not approved:
                    return await gw.decline(payment, "UPI_COLLECT_DECLINED")
                response = await gw.finish_payment(payment, waiting[0], order=order)
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
