"""The HTTP API (aiohttp): Razorpay's endpoints over the gateway pipeline.

Scenario: a merchant's server (or the official ``razorpay`` SDK) calls the API with
HTTP Basic auth (``key_id:key_secret``; the scheme is case-insensitive) and a JSON body.

======  ========================================  ========================================
POST    ``/v1/payments``                          create (razorlab's teaching shortcut; an
                                                  ``Idempotency-Key`` replays the answer)
GET     ``/v1/payments``                          ``from``, ``to`` (epoch s), ``count`` ≤ 100,
                                                  ``skip``
GET     ``/v1/payments/{id}``                     one payment (another merchant's → 400)
POST    ``/v1/payments/{id}/capture``             ``{"amount", "currency"}``: the authorised
                                                  amount
POST    ``/v1/payments/{id}/refund``              ``amount`` (default: the rest), ``speed``,
                                                  ``notes``, ``receipt``; idempotent under
                                                  ``X-Refund-Idempotency``
GET     ``/v1/payments/{id}/refunds[/{rid}]``     a payment's refunds, or one of them
GET     ``/v1/refunds``, ``/v1/refunds/{id}``     the merchant's refunds, or one
POST    ``/v1/orders``                            ``amount`` ≥ 100 paise, ``currency`` INR,
                                                  ``receipt``, ``notes``, ``partial_payment``
GET     ``/v1/orders``, ``/v1/orders/{id}``       the merchant's orders (``from``, ``to``,
                                                  ``count``, ``skip``), or one
GET     ``/v1/orders/{id}/payments``              the order's payments
PATCH   ``/v1/orders/{id}``                       ``{"notes": {...}}``
POST    ``/v1/payments/create/json``,             S2S checkout (Razorpay's S2S JSON API and
        ``/v1/payments/create/upi``,              the SDK's ``createPaymentJson``,
        ``/v1/payments/{id}/otp/submit``,         ``createUpi``, ``otpSubmit``,
        ``/v1/payments/{id}/otp/resend``,         ``otpResend``, ``validateVpa``;
        ``/v1/payments/validate/vpa``             :mod:`razorlab.payments.checkout`)
POST    ``/v1/checkout/...``                      the customer's steps, key id only
                                                  (:mod:`razorlab.payments.checkout`)
GET     ``/v1/openapi.json``                      this table as OpenAPI 3.1, no credentials
                                                  (:mod:`razorlab.payments.openapi`)
======  ========================================  ========================================

``POST /v1/payments/{id}/refunds`` is kept as an alias of ``/refund`` (razorlab's
older spelling). The OpenAPI description needs no credentials: it holds no merchant's
data (Razorpay publishes the same facts in its API reference), and tools — client
generators, API explorers, schemathesis — load it before they are given any keys.

Design note: every non-2xx answer is Razorpay's error contract,
``{"error": {"code", "description", "source", "step", "reason", "metadata", "field"}}``
(:mod:`razorlab.payments.error_contract`) with the status that fits — 400 bad input or
state, and (as Razorpay) an id that is unknown or not yours, "The id provided does not
exist" (:class:`~razorlab.payments.error_contract.UnknownId`: we do not reveal that another
merchant's payment exists); 401 bad credentials, 404 no such route, 405 wrong method, 409
a concurrent request holds the key, 413 oversized body, 415 wrong content type, 429
rate-limited with ``Retry-After``, 503 breaker open. The body is read with a hard size
limit before parsing, query integers are bounded, and parsing errors are caught, so no
bad request reaches the database and no input produces a 5xx (a property test throws
random requests at the app, and schemathesis checks every answer against the OpenAPI
description). One answer is outside the contract: a request aiohttp's HTTP parser refuses
before any route is matched (a request line or header over 8190 bytes, malformed HTTP)
gets aiohttp's own plain-text 400.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from aiohttp import web

from razorlab.errors import NotFoundError, RazorlabError, ValidationError
from razorlab.payments.checkout import Checkout
from razorlab.payments.error_contract import server_error
from razorlab.payments.gateway import Gateway, Response
from razorlab.payments.openapi import OPENAPI_PATH, render
from razorlab.payments.refunds import REFUND_KEY_HEADER
from razorlab.payments.store import Merchant

__all__ = ["create_app", "start_server", "MAX_BODY_BYTES", "Unauthorized", "CHECKOUT_PREFIX"]

IDEMPOTENCY_HEADER = "Idempotency-Key"
#: Inputs that reach the database as text, besides the body: checked by the middleware.
_TEXT_HEADERS = (IDEMPOTENCY_HEADER, REFUND_KEY_HEADER)
MAX_BODY_BYTES = 16 * 1024  # a payment request is < 1 KiB; 16 KiB leaves room, stops abuse
AUTH_CACHE_SIZE = 10_000  # verified credentials remembered in-process
GATEWAY_KEY = web.AppKey("gateway", Gateway)
MERCHANT_KEY = web.RequestKey("merchant", Merchant)  # the authenticated merchant
CHECKOUT_KEY = web.AppKey("checkout", Checkout)
CHECKOUT_PREFIX = "/v1/checkout/"  # the customer's routes: key id only, as Checkout.js
_log = logging.getLogger(__name__)


class Unauthorized(RazorlabError):
    code = "UNAUTHORIZED"
    http_status = 401


class _Http(RazorlabError):
    """Protocol-level errors (size, content type, JSON syntax) with their own status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description, code=code)
        self.http_status = status


def _json(response: Response) -> web.Response:
    return web.json_response(response.body, status=response.status, headers=response.headers)


def _error(err: RazorlabError) -> web.Response:
    return _json(Response.error(err))


class _Credentials:
    """Basic-auth checks, remembering verified pairs so the hot path skips the database.

    Merchants and their keys never change once created, so a remembered answer cannot go
    stale. Public (key id only) lookups are remembered too, under ``(key_id, None)`` —
    never equal to a verified ``(key_id, secret)`` pair, as a secret is a string.
    Unknown keys are not remembered: a merchant created a moment later must get in.
    """

    def __init__(self, gateway: Gateway):
        self.gateway = gateway
        self._known: OrderedDict[tuple[str, str | None], Merchant] = OrderedDict()

    def _remember(self, pair: tuple[str, str | None], merchant: Merchant) -> Merchant:
        self._known[pair] = merchant
        if len(self._known) > AUTH_CACHE_SIZE:
            self._known.popitem(last=False)
        return merchant

    async def merchant(self, header: str | None, *, key_id_only: bool = False) -> Merchant:
        """The merchant the header names; ``key_id_only``: the public key id suffices."""
        scheme, _, token = (header or "").strip().partition(" ")
        if scheme.lower() != "basic":  # RFC 7235: the auth scheme is case-insensitive
            raise Unauthorized("use HTTP Basic auth with key_id:key_secret")
        try:
            key_id, _, secret = (
                base64.b64decode(token.strip(), validate=True).decode().partition(":")
            )
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("malformed Basic credentials") from None
        if _text_fault(key_id) or _text_fault(secret):  # never looked up
            raise Unauthorized("malformed Basic credentials")
        pair = (key_id, None) if key_id_only else (key_id, secret)
        cached = self._known.get(pair)
        if cached is not None:
            return cached
        if key_id_only:
            public = await self.gateway.store.merchant_by_key_id(key_id)
            if public is None:
                raise Unauthorized("the key id is wrong")
            return self._remember(pair, public)
        merchant = await self.gateway.store.authenticate(key_id, secret)
        if merchant is None:
            raise Unauthorized("the key id or secret is wrong")
        return self._remember(pair, merchant)


def _text_fault(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None``: PostgreSQL's text refuses NUL,
    and no database can encode an unpaired surrogate (JSON's ``"\\ud800"``, or a header
    byte that is not UTF-8, which aiohttp passes on as one)."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError:
            return "must be UTF-8 text"
    return None


def _check_text(value: object, field: str | None) -> None:
    """Refuse (400) any string in ``value`` — keys too, at any depth — that cannot be
    stored; ``field`` names the top-level key it came under. Iterative: JSON may nest deep."""
    stack = [(value, field)]
    while stack:
        item, name = stack.pop()
        if isinstance(item, str):
            fault = _text_fault(item)
            if fault is not None:
                raise ValidationError(f"{name or 'the body'} {fault}", field=name)
        elif isinstance(item, dict):
            stack.extend(pair for key, inner in item.items() for pair in
                         ((key, name or key), (inner, name or key)))  # fmt: skip
        elif isinstance(item, list):
            stack.extend((inner, name) for inner in item)


async def _body(request: web.Request, *, required: bool = True) -> object:
    if not request.can_read_body:
        if required:
            raise ValidationError("a JSON body is required", field=None)
        return {}
    if request.content_type != "application/json":
        raise _Http(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _Http(413, "REQUEST_TOO_LARGE", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _Http(
            413, "REQUEST_TOO_LARGE", f"the body must be at most {MAX_BODY_BYTES} bytes"
        ) from None
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        raise ValidationError("the body is not valid JSON", field=None) from None
    _check_text(body, None)
    return body


def _int_query(request: web.Request, name: str, default: int | None) -> int | None:
    text = request.query.get(name)
    if text is None:
        return default
    if not (text.isascii() and text.lstrip("-").isdigit() and len(text) <= 20):
        raise ValidationError(f"{name} must be an integer", field=name)
    return int(text)


def _page(request: web.Request) -> dict[str, int | None]:
    return {
        "since": _int_query(request, "from", 0),
        "until": _int_query(request, "to", None),
        "count": _int_query(request, "count", 10),
        "skip": _int_query(request, "skip", 0),
    }


def _collection(items: list) -> web.Response:
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


CREDENTIALS_KEY = web.AppKey("credentials", _Credentials)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _route(request: web.Request) -> str:
    """The template of the route the router matched ("" for none). Auth is decided by the
    route, not the raw path, so no spelling of a merchant route passes with less."""
    resource = request.match_info.route.resource
    return "" if resource is None else resource.canonical


@web.middleware
async def _errors_and_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        route = _route(request)
        for name, value in request.match_info.items():  # ids in the path
            _check_text(value, name)
        for name in _TEXT_HEADERS:
            _check_text(request.headers.get(name), name)
        if route != OPENAPI_PATH:  # the description is public (see the module docstring)
            request[MERCHANT_KEY] = await request.app[CREDENTIALS_KEY].merchant(
                request.headers.get("Authorization"),
                key_id_only=route.startswith(CHECKOUT_PREFIX),
            )
        return await handler(request)
    except RazorlabError as err:
        return _error(err)
    except web.HTTPNotFound:
        return _error(NotFoundError("no such endpoint", field=None))
    except web.HTTPMethodNotAllowed as exc:  # RFC 9110 §15.5.6: a 405 lists what is allowed
        response = _error(_Http(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here"))
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response
    except web.HTTPException as exc:  # any other protocol answer aiohttp raises, as JSON
        status = exc.status if 400 <= exc.status < 500 else 400
        return _error(_Http(status, exc.reason.upper().replace(" ", "_"), exc.reason))
    except Exception:  # a bug: log it, answer in the contract, reveal nothing
        _log.exception("unhandled error on %s %s", request.method, request.path)
        status, body = server_error()
        return web.json_response(body, status=status)


async def _create(request: web.Request) -> web.Response:
    body = await _body(request)
    key = request.headers.get(IDEMPOTENCY_HEADER)
    gateway = request.app[GATEWAY_KEY]
    return _json(await gateway.create_payment(request[MERCHANT_KEY].id, body, key))


async def _get(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    payment = await gateway.get_payment(request[MERCHANT_KEY].id, request.match_info["id"])
    return web.json_response(payment.to_json())


async def _capture(request: web.Request) -> web.Response:
    body = await _body(request, required=False)
    if not isinstance(body, dict) or set(body) - {"amount", "currency"}:
        raise ValidationError('the capture body is {"amount": paise, "currency": "INR"}')
    gateway = request.app[GATEWAY_KEY]
    payment = await gateway.capture(
        request[MERCHANT_KEY].id, request.match_info["id"], body.get("amount"),
        body.get("currency"), required=True,
    )  # fmt: skip
    return web.json_response(payment.to_json())


async def _refund(request: web.Request) -> web.Response:
    body = await _body(request, required=False)
    gateway = request.app[GATEWAY_KEY]
    refund, _ = await gateway.refund(
        request[MERCHANT_KEY].id, request.match_info["id"], body=body,
        idempotency_key=request.headers.get(REFUND_KEY_HEADER),
    )  # fmt: skip
    return web.json_response(refund, status=201)


async def _list(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    payments = await gateway.list_payments(request[MERCHANT_KEY].id, **_page(request))
    return _collection([p.to_json() for p in payments])


async def _get_refund(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    payment_id = request.match_info.get("id")
    refund = await gateway.get_refund(
        request[MERCHANT_KEY].id, request.match_info["refund_id"], payment_id
    )
    return web.json_response(refund)


async def _list_refunds(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    refunds = await gateway.list_refunds(
        request[MERCHANT_KEY].id, payment_id=request.match_info.get("id"), **_page(request)
    )
    return _collection(refunds)


async def _create_order(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    order = await gateway.create_order(request[MERCHANT_KEY].id, await _body(request))
    return web.json_response(order.to_json())


async def _get_order(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    order = await gateway.get_order(request[MERCHANT_KEY].id, request.match_info["id"])
    return web.json_response(order.to_json())


async def _list_orders(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    orders = await gateway.list_orders(request[MERCHANT_KEY].id, **_page(request))
    return _collection([o.to_json() for o in orders])


async def _order_payments(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    payments = await gateway.order_payments(request[MERCHANT_KEY].id, request.match_info["id"])
    return _collection([p.to_json() for p in payments])


async def _edit_order(request: web.Request) -> web.Response:
    gateway = request.app[GATEWAY_KEY]
    order = await gateway.edit_order(
        request[MERCHANT_KEY].id, request.match_info["id"], await _body(request)
    )
    return web.json_response(order.to_json())


def _checkout_step(name: str, *, body_required: bool = True) -> Handler:
    """A checkout route calling ``Checkout.<name>(merchant_id, id, body)``, or
    ``Checkout.<name>(merchant_id, body)`` on a route without an ``{id}``."""

    async def handler(request: web.Request) -> web.Response:
        step = getattr(request.app[CHECKOUT_KEY], name)
        body = await _body(request, required=body_required)
        ids = [request.match_info["id"]] if "id" in request.match_info else []
        return _json(await step(request[MERCHANT_KEY].id, *ids, body))

    return handler


async def _stop_checkout(app: web.Application) -> None:
    await app[CHECKOUT_KEY].close()


def _openapi(text: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text=text, content_type="application/json")

    return handler


def create_app(gateway: Gateway) -> web.Application:
    """The aiohttp application serving ``gateway`` (it does not own or close the gateway)."""
    app = web.Application(middlewares=[_errors_and_auth], client_max_size=MAX_BODY_BYTES)
    app[GATEWAY_KEY] = gateway
    app[CREDENTIALS_KEY] = _Credentials(gateway)
    app[CHECKOUT_KEY] = Checkout(gateway)
    app.router.add_post("/v1/payments", _create)
    for step in ("create/json", "create/upi", "validate/vpa"):  # S2S checkout (key + secret)
        app.router.add_post(f"/v1/payments/{step}", _checkout_step(step.replace("/", "_")))
    app.router.add_post("/v1/payments/{id}/otp/submit", _checkout_step("otp_submit"))
    app.router.add_post("/v1/payments/{id}/otp/resend",
                        _checkout_step("otp_resend", body_required=False))  # fmt: skip
    app.router.add_get("/v1/payments", _list)
    app.router.add_get("/v1/payments/{id}", _get)
    app.router.add_post("/v1/payments/{id}/capture", _capture)
    app.router.add_post("/v1/payments/{id}/refund", _refund)
    app.router.add_post("/v1/payments/{id}/refunds", _refund)  # razorlab's older spelling
    app.router.add_get("/v1/payments/{id}/refunds", _list_refunds)
    app.router.add_get("/v1/payments/{id}/refunds/{refund_id}", _get_refund)
    app.router.add_get("/v1/refunds", _list_refunds)
    app.router.add_get("/v1/refunds/{refund_id}", _get_refund)
    app.router.add_post("/v1/orders", _create_order)
    app.router.add_get("/v1/orders", _list_orders)
    app.router.add_get("/v1/orders/{id}", _get_order)
    app.router.add_patch("/v1/orders/{id}", _edit_order)
    app.router.add_get("/v1/orders/{id}/payments", _order_payments)
    app.router.add_post(CHECKOUT_PREFIX + "{id}/pay", _checkout_step("pay"))
    for step in ("otp_submit", "upi_collect"):
        app.router.add_post(CHECKOUT_PREFIX + "payments/{id}/" + step, _checkout_step(step))
    app.router.add_get(OPENAPI_PATH, _openapi(render()))
    app.on_cleanup.append(_stop_checkout)
    return app


async def start_server(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``app``; returns the runner (``await runner.cleanup()`` stops it) and base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]  # the real port when port=0
    return runner, f"http://{host}:{bound}"
