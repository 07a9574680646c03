"""The OpenAPI 3.1 description of ``razorlab serve``: every route, as data.

Scenario: a merchant's developer points a client generator, an API explorer or a fuzzer
(schemathesis) at ``GET /v1/openapi.json`` and gets every endpoint of the gateway — the
parameters, the request bodies, the entities (payment, order, refund, collections) and
Razorpay's error contract for every non-2xx answer
(:mod:`razorlab.payments.error_contract`). Razorpay documents the same endpoints in its
API reference (Payments, Orders, Refunds, Errors); this is ours, in a machine-readable form.

Design note — why committed *and* served: the served document is what tools load, so it
must describe the running code; the committed copy (``data/openapi/razorlab-payments.json``,
``json.dumps(..., sort_keys=True, indent=1)``, see :func:`render`) lets a reviewer see in a
diff how a change moves the contract. A test keeps the two equal, another keeps the paths
equal to the routes :func:`razorlab.payments.api.create_app` registers, and schemathesis
throws generated requests at a live server and checks every answer against this document
(status code, content type, body schema; no 5xx). The document is data built from the
engines' own constants (limits, enums, id shapes), so a changed limit changes it too.
Regenerate the committed copy, from the repository root, with ``python -c "import pathlib,
razorlab.payments.openapi as o; pathlib.Path(o.COMMITTED_PATH).write_text(o.render())"``.

Where we simplify: request bodies are described by what a well-formed request looks like
— checks the schema language cannot say (the Luhn digit, an expired card, an order's amount
due, which state a payment is in) are left to the server, which answers them with a 400
in the contract. The card number is documented as digits only (the server also strips
spaces), ``notes`` as an object or null (Razorpay's ``[]`` for "none" is accepted, not
advertised), and path ids by their shape (``pay_`` + 14 base62 characters): any other id
is answered 400 "The id provided does not exist", and an id holding a ``/`` matches no
route (404). JSON Schema counts ``100.0`` as an integer; the server refuses it (amounts
are integer paise, and a float is how a rupee/paise mix-up shows).
Error ``step`` and ``reason`` are open strings: ``reason`` is the engine's cause in lower
case and grows with the engines. ``500`` is listed because Razorpay's SDK handles a
``SERVER_ERROR``; the property tests show that no input reaches it.
"""

from __future__ import annotations

import copy
import functools
import json
import pathlib
from typing import Any

from razorlab.money import CURRENCIES
from razorlab.payments.checkout import CHECKOUT_METHODS, MAX_COLLECT_MINUTES
from razorlab.payments.error_contract import (
    BAD_REQUEST_ERROR,
    ERROR_FIELDS,
    GATEWAY_ERROR,
    SERVER_ERROR,
)
from razorlab.payments.gateway import MAX_EPOCH_S, MAX_PAGE, MAX_SKIP
from razorlab.payments.idempotency import MAX_KEY_LENGTH
from razorlab.payments.ids import ID_LENGTH
from razorlab.payments.methods import (
    CARD_NETWORK_NAMES,
    MAX_AMOUNT_PAISE,
    MIN_AMOUNT_PAISE,
    NETBANKING_BANKS,
    UPI_MAX_PAISE,
    VPA_PATTERN,
)
from razorlab.payments.notes import (
    CONTACT_PATTERN,
    EMAIL_PATTERN,
    MAX_DESCRIPTION_CHARS,
    MAX_EMAIL_CHARS,
    MAX_NOTE_CHARS,
    MAX_NOTES,
    MAX_RECEIPT_CHARS,
)
from razorlab.payments.orders import ORDER_CURRENCIES, OrderStatus
from razorlab.payments.refunds import REFUND_KEY_HEADER, REFUND_SPEEDS

__all__ = ["OPENAPI_PATH", "COMMITTED_PATH", "description", "render"]

OPENAPI_PATH = "/v1/openapi.json"
#: The committed copy, relative to the repository root.
COMMITTED_PATH = pathlib.PurePosixPath("data/openapi/razorlab-payments.json")

_JSON = "application/json"
_REF = "#/components/{}/{}"
_BASE62 = "[0-9A-Za-z]"  # ids.ALPHABET: an id is a prefix, "_" and 14 of these

#: Error statuses and what each means here (every body is the ``Error`` schema).
_ERRORS = {
    "400": 'Bad input, an id that is unknown or not yours ("The id provided does not '
    'exist"), or a state the request cannot apply to: Razorpay answers 400 where '
    "razorlab's engines say 402 (payment failed) or 422 (state conflict).",
    "401": "Missing or wrong credentials (HTTP Basic).",
    "404": "No route matches the path (for example an id holding a slash).",
    "409": "A concurrent request holds the key, or the payment changed under this request; "
    "nothing was stored, retry.",
    "413": "The body is larger than the API's limit.",
    "415": "The body is not application/json.",
    "422": "The Idempotency-Key was used for a different request (the IETF draft's status, "
    "kept by razorlab for POST /v1/payments).",
    "429": "Rate-limited; Retry-After says when to retry.",
    "500": "A bug: SERVER_ERROR, revealing nothing of the cause.",
    "503": "The bank route's circuit breaker is open; Retry-After says when to retry.",
}
_RETRY_AFTER = ("429", "503")


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": _REF.format(kind, name)}


def _id(prefix: str) -> dict[str, Any]:
    return {"type": "string", "pattern": f"^{prefix}_{_BASE62}{{{ID_LENGTH}}}$"}


def _obj(required: tuple[str, ...], closed: bool = True, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


_INT = {"type": "integer"}
_EPOCH = {"type": "integer", "minimum": 0, "description": "Unix time, seconds"}
_PAISE = {"type": "integer", "minimum": 0, "description": "paise (1/100 of a rupee)"}
_TEXT = {"type": "string"}
_CURRENCY = {"type": "string", "enum": sorted(CURRENCIES)}
_RECEIPT = {"type": "string", "maxLength": MAX_RECEIPT_CHARS}
_FLAG = {"anyOf": [{"type": "boolean"}, {"type": "integer", "enum": [0, 1]}]}
_EMAIL = {"type": "string", "maxLength": MAX_EMAIL_CHARS, "pattern": f"^{EMAIL_PATTERN.pattern}$"}
_CONTACT = {"type": "string", "pattern": f"^{CONTACT_PATTERN.pattern}$"}
_DESCRIPTION = {"type": "string", "maxLength": MAX_DESCRIPTION_CHARS}


def _entity_schemas() -> dict[str, Any]:
    """What the API answers: the entities, the collections and the checkout steps."""
    card_id = _nullable(_id("card"))
    card = _obj(
        ("id", "entity", "last4", "network", "type", "issuer", "international", "emi"),
        id=card_id, entity={"const": "card"}, last4={"type": "string", "pattern": "^[0-9]{4}$"},
        network={"enum": sorted(set(CARD_NETWORK_NAMES.values()))},
        type={"enum": [None, "credit", "debit", "prepaid"]}, issuer=_nullable(_TEXT),
        international={"type": "boolean"}, emi={"type": "boolean"},
    )  # fmt: skip
    fee = {**_PAISE, "description": "paise, GST included; null until captured"}
    payment = _obj(
        ("id", "entity", "amount", "currency", "status", "order_id", "international",
         "method", "amount_refunded", "refund_status", "captured", "description", "card_id",
         "bank", "wallet", "vpa", "email", "contact", "notes", "fee", "tax", "auto_capture",
         "bank_reference", "error_code", "error_description", "error_source", "error_step",
         "error_reason", "created_at"),
        id=_id("pay"), entity={"const": "payment"}, amount=_PAISE, currency=_CURRENCY,
        status={"enum": ["created", "authorized", "captured", "refunded", "failed"]},
        order_id=_nullable(_id("order")), international={"type": "boolean"},
        method={"enum": ["card", "upi", "netbanking"]}, amount_refunded=_PAISE,
        refund_status={"enum": [None, "partial", "full"]}, captured={"type": "boolean"},
        description=_nullable(_DESCRIPTION), card_id=card_id, card=card,
        bank={"enum": [None, *sorted(NETBANKING_BANKS)]}, wallet={"type": "null"},
        vpa=_nullable(_TEXT), email=_nullable(_EMAIL), contact=_nullable(_CONTACT),
        notes=_ref("schemas", "Notes"), fee=_nullable(fee),
        tax=_nullable({**_PAISE, "description": "paise of GST within fee; null until captured"}),
        auto_capture={"type": "boolean"}, bank_reference=_nullable(_TEXT),
        error_code=_nullable(_TEXT), error_description=_nullable(_TEXT),
        error_source=_nullable(_TEXT), error_step=_nullable(_TEXT),
        error_reason=_nullable(_TEXT), created_at=_EPOCH,
    )  # fmt: skip
    order = _obj(
        ("id", "entity", "amount", "amount_paid", "amount_due", "currency", "receipt",
         "offer_id", "status", "attempts", "notes", "partial_payment", "created_at"),
        id=_id("order"), entity={"const": "order"}, amount=_PAISE, amount_paid=_PAISE,
        amount_due=_PAISE, currency=_CURRENCY, receipt=_nullable(_RECEIPT),
        offer_id={"type": "null"}, status={"enum": [s.value for s in OrderStatus]},
        attempts={"type": "integer", "minimum": 0}, notes=_ref("schemas", "Notes"),
        partial_payment={"type": "boolean"}, created_at=_EPOCH,
    )  # fmt: skip
    speed = {"enum": list(REFUND_SPEEDS)}
    refund = _obj(
        ("id", "entity", "amount", "currency", "payment_id", "notes", "receipt",
         "acquirer_data", "created_at", "batch_id", "status", "speed_processed",
         "speed_requested"),
        id=_id("rfnd"), entity={"const": "refund"}, amount=_PAISE, currency=_CURRENCY,
        payment_id=_id("pay"), notes=_ref("schemas", "Notes"), receipt=_nullable(_RECEIPT),
        acquirer_data=_obj(("arn",), arn=_nullable(_TEXT)), created_at=_EPOCH,
        batch_id={"type": "null"}, status={"enum": ["pending", "processed", "failed"]},
        speed_processed=speed, speed_requested=speed,
    )  # fmt: skip
    step = {"enum": sorted(set(CHECKOUT_METHODS.values()))}
    schemas = {"Payment": payment, "Order": order, "Refund": refund}
    for name in list(schemas):
        schemas[f"{name}Collection"] = _obj(
            ("entity", "count", "items"), entity={"const": "collection"},
            count={"type": "integer", "minimum": 0, "maximum": MAX_PAGE},
            items={"type": "array", "items": _ref("schemas", name), "maxItems": MAX_PAGE},
        )  # fmt: skip
    schemas["CheckoutNext"] = _obj(
        ("razorpay_payment_id", "razorpay_order_id", "next"),
        razorpay_payment_id=_id("pay"), razorpay_order_id=_id("order"),
        next={"type": "array", "minItems": 1, "maxItems": 1,
              "items": _obj(("action", "url", "method"), action=step, url=_TEXT,
                            method={"const": "post"})},
    )  # fmt: skip
    schemas["S2SNext"] = _obj(
        ("razorpay_payment_id", "next"),
        razorpay_payment_id=_id("pay"),
        next={"type": "array", "minItems": 1, "maxItems": 2,
              "items": _obj(("action", "url", "method"),
                            action={"enum": ["otp_submit", "otp_resend", "poll"]}, url=_TEXT,
                            method={"enum": ["post", "get"]})},
    )  # fmt: skip
    schemas["VpaValidation"] = _obj(
        ("vpa", "success", "customer_name"), vpa=_TEXT, success={"type": "boolean"},
        customer_name={"type": "null"},
    )  # fmt: skip
    schemas["CheckoutSigned"] = _obj(
        ("razorpay_payment_id", "razorpay_order_id", "razorpay_signature"),
        razorpay_payment_id=_id("pay"), razorpay_order_id=_id("order"),
        razorpay_signature={"type": "string", "pattern": "^[0-9a-f]{64}$",
                            "description": "hex HMAC-SHA256 of order_id|payment_id"},
    )  # fmt: skip
    schemas["CheckoutPending"] = _obj(
        ("razorpay_payment_id", "razorpay_order_id", "status"),
        razorpay_payment_id=_id("pay"), razorpay_order_id=_id("order"),
        status={"const": "created"},
    )  # fmt: skip
    return schemas


def _error_schema() -> dict[str, Any]:
    """Razorpay's error contract: every non-2xx body, with exactly these keys."""
    schemas = {
        "code": {"enum": [BAD_REQUEST_ERROR, GATEWAY_ERROR, SERVER_ERROR]},
        "description": {"type": "string", "minLength": 1},
        "source": {"enum": ["business", "customer", "issuer_bank", "bank", "gateway", "internal"]},
        "step": _TEXT,
        "reason": {"type": "string", "minLength": 1},
        "metadata": {"type": "object", "additionalProperties": _TEXT},
        "field": _nullable(_TEXT),
    }
    fields = {name: schemas[name] for name in ERROR_FIELDS}  # the contract's keys, in order
    return _obj(("error",), error=_obj(ERROR_FIELDS, **fields))


def _request_schemas() -> dict[str, Any]:
    """What the API accepts: one schema per request body."""
    notes, receipt = _nullable(_ref("schemas", "Notes")), _nullable(_RECEIPT)  # null: none
    amount = {"type": "integer", "minimum": MIN_AMOUNT_PAISE, "maximum": MAX_AMOUNT_PAISE}
    card = _obj(
        ("number", "expiry_month", "expiry_year"), closed=False,
        number={"type": "string", "pattern": "^[0-9]{12,19}$",
                "description": "must pass the Luhn check"},
        expiry_month={"type": "integer", "minimum": 1, "maximum": 12},
        expiry_year={"type": "integer", "minimum": 2000, "maximum": 2100},
    )  # fmt: skip
    vpa = {"type": "string", "pattern": VPA_PATTERN.pattern}
    bank = {"enum": sorted(NETBANKING_BANKS)}
    inr = {"const": "INR"}
    customer = {"email": _nullable(_EMAIL), "contact": _nullable(_CONTACT), "notes": notes,
                "description": _nullable(_DESCRIPTION)}  # fmt: skip
    common = {"auto_capture": {"type": "boolean"}, "order_id": _nullable(_id("order")),
              **customer}  # fmt: skip
    required = ("amount", "currency", "method")
    upi_amount = {**amount, "maximum": UPI_MAX_PAISE}
    payment = {"oneOf": [
        _obj((*required, "card"), amount=amount, currency=_CURRENCY, method={"const": "card"},
             card=card, **common),
        _obj((*required, "vpa"), amount=upi_amount, currency=inr, method={"const": "upi"},
             vpa=vpa, **common),
        _obj((*required, "bank"), amount=amount, currency=inr,
             method={"const": "netbanking"}, bank=bank, **common),
    ]}  # fmt: skip
    order_currency = {"enum": list(ORDER_CURRENCIES)}
    s2s = {"amount": amount, "currency": _CURRENCY, "order_id": _id("order"),
           **customer, "email": _EMAIL, "contact": _CONTACT, "ip": _TEXT,
           "referer": _TEXT, "user_agent": _TEXT, "callback_url": _TEXT,
           "save": {"type": "boolean"}}  # fmt: skip
    s2s_required = ("amount", "currency", "order_id", "email", "contact", "method")
    return {
        "Notes": {
            "type": "object",
            "maxProperties": MAX_NOTES,
            "propertyNames": {"maxLength": MAX_NOTE_CHARS},
            "additionalProperties": {
                "anyOf": [{"type": "string", "maxLength": MAX_NOTE_CHARS}, {"type": "number"}]
            },
        },
        "PaymentCreate": payment,
        "CaptureRequest": _obj(("amount", "currency"), amount=_INT, currency=_CURRENCY),
        "RefundCreate": _nullable(  # no body, or null: refund all that is left
            _obj(
                (),
                amount=_nullable({"type": "integer", "minimum": 1}),
                speed={"enum": list(REFUND_SPEEDS)},
                notes=notes,
                receipt=receipt,
            )
        ),
        "OrderCreate": _obj(
            ("amount", "currency"),
            amount=amount,
            currency=order_currency,
            receipt=receipt,
            notes=notes,
            partial_payment=_FLAG,
            payment_capture=_FLAG,
        ),
        "OrderEdit": _obj(("notes",), notes=notes),
        "CheckoutPay": _obj(
            ("method",),
            method={"enum": list(CHECKOUT_METHODS)},
            card=card,
            vpa=vpa,
            amount={**amount, "description": "only for a partial_payment order"},
            **customer,
        ),
        "OtpSubmit": _obj(("otp",), otp={"type": "string", "pattern": "^[0-9]{4,8}$"}),
        "UpiCollect": _obj(("approve",), approve={"type": "boolean"}),
        "S2SCardPayment": _obj(
            (*s2s_required, "card"),
            method={"const": "card"},
            **s2s,
            card=_obj(
                ("number", "expiry_month", "expiry_year", "cvv"),
                number=card["properties"]["number"],
                name=_TEXT,
                expiry_month={"type": "string", "pattern": "^(0?[1-9]|1[0-2])$"},
                expiry_year={"type": "string", "pattern": "^[0-9]{2}$|^20[0-9]{2}$"},
                cvv={"type": "string", "pattern": "^[0-9]{3,4}$"},
            ),
        ),
        "S2SUpiPayment": _obj(
            (*s2s_required, "vpa"),
            method={"const": "upi"},
            **s2s,
            vpa=vpa,
            upi=_obj(
                ("flow",),
                flow={"const": "collect"},
                expiry_time={
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_COLLECT_MINUTES,
                    "description": "minutes",
                },
            ),
        ),
        "VpaValidate": _obj(("vpa",), vpa=vpa),
        "OtpResend": _nullable(_obj(())),
    }


def _parameters() -> dict[str, Any]:
    def query(name: str, low: int, high: int, text: str) -> dict[str, Any]:
        schema = {"type": "integer", "minimum": low, "maximum": high}
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": text}  # fmt: skip

    def path(name: str, prefix: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": _id(prefix)}

    def header(name: str, text: str) -> dict[str, Any]:
        schema = {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH}
        return {"name": name, "in": "header", "required": False, "schema": schema,
                "description": text}  # fmt: skip

    return {
        "From": query("from", 0, MAX_EPOCH_S, "created at or after (Unix seconds; default 0)"),
        "To": query("to", 0, MAX_EPOCH_S, "created before (Unix seconds; default now)"),
        "Count": query("count", 1, MAX_PAGE, "items per page (default 10)"),
        "Skip": query("skip", 0, MAX_SKIP, "items to skip (default 0)"),
        "PaymentId": path("id", "pay"),
        "OrderId": path("id", "order"),
        "RefundId": path("refund_id", "rfnd"),
        "IdempotencyKey": header(
            "Idempotency-Key", "a retry with the same key and body replays the first answer"
        ),
        "RefundIdempotency": header(
            REFUND_KEY_HEADER, "a retry with the same key returns the first refund"
        ),
    }


def _responses() -> dict[str, Any]:
    responses = {}
    for status, text in _ERRORS.items():
        response: dict[str, Any] = {
            "description": text,
            "content": {_JSON: {"schema": _ref("schemas", "Error")}},
        }
        if status in _RETRY_AFTER:
            response["headers"] = {"Retry-After": {
                "required": True, "description": "whole seconds",
                "schema": {"type": "integer", "minimum": 1},
            }}  # fmt: skip
        responses[status] = response
    return responses


def _operation(
    summary: str,
    ok: dict[str, str],
    *,
    errors: tuple[str, ...] = (),
    parameters: tuple[str, ...] = (),
    body: str | None = None,
    body_required: bool = True,
    security: str = "merchant",
) -> dict[str, Any]:
    """One operation: ``ok`` maps success statuses to schema names; errors are listed."""
    statuses = {"400", "401", "500", *errors}
    if any(p.endswith("Id") for p in parameters):  # a path id: a slash in it matches no route
        statuses.add("404")
    if body is not None:
        statuses |= {"413", "415"}
    responses: dict[str, Any] = {
        status: {"description": summary,
                 "content": {_JSON: {"schema": _ref("schemas", schema)}}}
        for status, schema in ok.items()
    }  # fmt: skip
    responses.update({s: _ref("responses", s) for s in sorted(statuses)})
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{security: []}],
        "parameters": [_ref("parameters", p) for p in parameters],
        "responses": responses,
    }
    if body is not None:
        op["requestBody"] = {
            "required": body_required,
            "content": {_JSON: {"schema": _ref("schemas", body)}},
        }
    return op


_PAGE = ("From", "To", "Count", "Skip")
_CHECKOUT_ERRORS = ("503",)


def _paths() -> dict[str, Any]:
    payment, collection = {"200": "Payment"}, {"200": "PaymentCollection"}
    refunds = {"200": "RefundCollection"}
    return {
        OPENAPI_PATH: {
            "get": {
                "summary": "This description (public: no credentials needed)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "the OpenAPI document",
                        "content": {_JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/v1/payments": {
            "post": _operation(
                "Create a payment (razorlab's teaching shortcut)",
                {"201": "Payment"},
                errors=("409", "422", "429", "503"),
                parameters=("IdempotencyKey",),
                body="PaymentCreate",
            ),
            "get": _operation("List payments, newest first", collection, parameters=_PAGE),
        },
        "/v1/payments/{id}": {
            "get": _operation("Fetch a payment", payment, parameters=("PaymentId",)),
        },
        "/v1/payments/{id}/capture": {
            "post": _operation(
                "Capture an authorized payment (amount: the authorised amount)",
                payment,
                errors=("409",),
                parameters=("PaymentId",),
                body="CaptureRequest",
            ),
        },
        "/v1/payments/{id}/refund": {"post": _refund_operation("Refund a captured payment")},
        "/v1/payments/{id}/refunds": {
            "post": _refund_operation("Refund a captured payment (razorlab's older spelling)"),
            "get": _operation(
                "List a payment's refunds", refunds, parameters=("PaymentId", *_PAGE)
            ),
        },
        "/v1/payments/{id}/refunds/{refund_id}": {
            "get": _operation(
                "Fetch one refund of a payment",
                {"200": "Refund"},
                parameters=("PaymentId", "RefundId"),
            ),
        },
        "/v1/refunds": {"get": _operation("List refunds, newest first", refunds, parameters=_PAGE)},
        "/v1/refunds/{refund_id}": {
            "get": _operation("Fetch a refund", {"200": "Refund"}, parameters=("RefundId",)),
        },
        "/v1/orders": {
            "post": _operation("Create an order", {"200": "Order"}, body="OrderCreate"),
            "get": _operation(
                "List orders, newest first", {"200": "OrderCollection"}, parameters=_PAGE
            ),
        },
        "/v1/orders/{id}": {
            "get": _operation("Fetch an order", {"200": "Order"}, parameters=("OrderId",)),
            "patch": _operation(
                "Replace an order's notes",
                {"200": "Order"},
                parameters=("OrderId",),
                body="OrderEdit",
            ),
        },
        "/v1/orders/{id}/payments": {
            "get": _operation(
                "List an order's payments, oldest first", collection, parameters=("OrderId",)
            ),
        },
        "/v1/payments/create/json": {
            "post": _s2s_start(
                "S2S: create a card payment that waits for its OTP", "S2SCardPayment"
            ),  # fmt: skip
        },
        "/v1/payments/create/upi": {
            "post": _s2s_start(
                "S2S: send a UPI collect request; poll the payment", "S2SUpiPayment"
            ),  # fmt: skip
        },
        "/v1/payments/validate/vpa": {
            "post": _operation("S2S: check a VPA", {"200": "VpaValidation"}, body="VpaValidate"),
        },
        "/v1/payments/{id}/otp/submit": {
            "post": _checkout_step("S2S: submit the card's OTP", "OtpSubmit", "merchant"),
        },
        "/v1/payments/{id}/otp/resend": {
            "post": _operation(
                "S2S: the OTP step's next actions again",
                {"200": "S2SNext"},
                parameters=("PaymentId",),
                body="OtpResend",
                body_required=False,
            ),  # fmt: skip
        },
        "/v1/checkout/{id}/pay": {
            "post": _operation(
                "Checkout: the customer pays an order (card or UPI)",
                {"200": "CheckoutNext"},
                errors=("429", *_CHECKOUT_ERRORS),
                parameters=("OrderId",),
                body="CheckoutPay",
                security="checkout",
            ),
        },
        "/v1/checkout/payments/{id}/otp_submit": {
            "post": _checkout_step("Checkout: the customer submits the card's OTP", "OtpSubmit"),
        },
        "/v1/checkout/payments/{id}/upi_collect": {
            "post": _checkout_step("Checkout: the payer answers the UPI collect", "UpiCollect"),
        },
    }


def _refund_operation(summary: str) -> dict[str, Any]:
    return _operation(
        summary, {"201": "Refund"}, errors=("409",),
        parameters=("PaymentId", "RefundIdempotency"), body="RefundCreate", body_required=False,
    )  # fmt: skip


def _checkout_step(summary: str, body: str, security: str = "checkout") -> dict[str, Any]:
    return _operation(
        summary, {"200": "CheckoutSigned", "202": "CheckoutPending"}, errors=_CHECKOUT_ERRORS,
        parameters=("PaymentId",), body=body, security=security,
    )  # fmt: skip


def _s2s_start(summary: str, body: str) -> dict[str, Any]:
    return _operation(summary, {"200": "S2SNext"}, errors=("429", *_CHECKOUT_ERRORS), body=body)


def description() -> dict[str, Any]:
    """The OpenAPI 3.1 document (a fresh copy each call, so a caller's edits stay its own)."""
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "razorlab payments API",
                "version": "1",
                "description": "Razorpay-shaped payments, orders, refunds and checkout over "
                "razorlab's simulated bank. Amounts are integer paise. Every non-2xx answer is "
                "Razorpay's error contract.",
            },
            "security": [{"merchant": []}],
            "paths": _paths(),
            "components": {
                "securitySchemes": {
                    "merchant": {
                        "type": "http",
                        "scheme": "basic",
                        "description": "the merchant's key_id:key_secret",
                    },
                    "checkout": {
                        "type": "http",
                        "scheme": "basic",
                        "description": "the merchant's public key id alone (key_id:), "
                        "as Checkout.js sends it; a secret, if sent, is ignored",
                    },
                },
                "schemas": {**_entity_schemas(), **_request_schemas(), "Error": _error_schema()},
                "parameters": _parameters(),
                "responses": _responses(),
            },
        }
    )


@functools.cache  # the document is fixed per process; every app serves the same text
def render() -> str:
    """The document as committed: sorted keys, one-space indent, a final newline."""
    return json.dumps(description(), sort_keys=True, indent=1) + "\n"
