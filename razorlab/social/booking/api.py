"""HTTP API for booking (aiohttp), the way BookMyShow's apps drive it.

``GET /v1/shows`` → ``GET /v1/shows/{show_id}`` (seat map with what is free) →
``POST /v1/holds`` → ``POST /v1/holds/{token}/pay`` (charge, then confirm or roll back) →
``GET /v1/holds/{token}`` → ``DELETE /v1/holds/{token}?user_id=…`` (cancel a hold).

Design note: errors follow the payment gateway's contract (``razorlab.payments.api``): a
JSON body ``{"error": {"code", "description", "field"}}`` whose status travels with the
error class (400 validation, 404 unknown, 409 conflict, 422 state). Every input is checked
for type and size before the engine sees it — ids are short strings, a hold names at most
``MAX_SEATS_PER_HOLD`` seats, bodies are at most ``MAX_BODY_BYTES`` — so bad input is a 4xx
and stores nothing.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

from razorlab.errors import NotFoundError, RazorlabError, ValidationError
from razorlab.social.booking.models import MAX_SEATS_PER_HOLD, Hold, NotHolder
from razorlab.social.booking.service import BookingResult, BookingService

__all__ = ["create_app", "MAX_BODY_BYTES", "MAX_ID_CHARS"]

MAX_BODY_BYTES = 4 * 1024  # a hold request is ~200 bytes; 4 KiB leaves room, stops abuse
MAX_ID_CHARS = 64  # longest show, seat or user id accepted
SERVICE_KEY = web.AppKey("booking", BookingService)
SHOWS_KEY = web.AppKey("show_ids", tuple)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Http(RazorlabError):
    """Protocol-level errors (size, content type, method) with their own status."""

    def __init__(self, status: int, code: str, description: str):
        super().__init__(description, code=code)
        self.http_status = status


def _error(err: RazorlabError) -> web.Response:
    return web.json_response({"error": err.to_dict()}, status=err.http_status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except RazorlabError as err:
        return _error(err)
    except web.HTTPNotFound:
        return _error(NotFoundError("no such endpoint"))
    except web.HTTPMethodNotAllowed:
        return _error(_Http(405, "METHOD_NOT_ALLOWED", f"{request.method} is not allowed here"))
    except web.HTTPRequestEntityTooLarge:
        return _error(_Http(413, "REQUEST_TOO_LARGE", f"at most {MAX_BODY_BYTES} bytes"))


async def _body(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise _Http(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise _Http(413, "REQUEST_TOO_LARGE", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(await request.read())
    except (ValueError, RecursionError):
        raise ValidationError("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ValidationError("the body must be a JSON object")
    return body


def _id(value: object, name: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_ID_CHARS:
        raise ValidationError(
            f"{name} must be a string of 1..{MAX_ID_CHARS} characters", field=name
        )
    return value


def _seat_ids(value: object) -> list[str]:
    if not isinstance(value, list) or not 0 < len(value) <= MAX_SEATS_PER_HOLD:
        raise ValidationError(
            f"seat_ids must be a list of 1..{MAX_SEATS_PER_HOLD} seat ids", field="seat_ids"
        )
    return [_id(s, "seat_ids") for s in value]


def _token(request: web.Request) -> int:
    text = request.match_info["token"]
    if not text.isdigit() or len(text) > 18:
        raise ValidationError("token must be a positive integer", field="token")
    return int(text)


def _hold_json(hold: Hold) -> dict:
    return {
        "token": hold.token,
        "show_id": hold.show_id,
        "user_id": hold.user_id,
        "seat_ids": list(hold.seat_ids),
        "amount_paise": hold.amount.paise,
        "expires_at": hold.expires_at,
        "status": hold.status.value,
        "payment_id": hold.payment_id,
    }


def _result_json(result: BookingResult) -> dict:
    return {
        "outcome": result.outcome.value,
        "token": result.token,
        "seat_ids": list(result.seat_ids),
        "payment_id": result.payment_id,
        "refunded": result.refunded,
    }


async def _own_hold(request: web.Request, user_id: str) -> Hold:
    service = request.app[SERVICE_KEY]
    hold = await service.store.get(_token(request), service.clock.now())
    if hold.user_id != user_id:
        raise NotHolder(f"hold {hold.token} belongs to another user", field="user_id")
    return hold


async def _shows(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    shows = [await service.store.show(s) for s in request.app[SHOWS_KEY]]
    items = [{"show_id": s.show_id, "title": s.title, "starts_at": s.starts_at} for s in shows]
    return web.json_response({"entity": "collection", "count": len(items), "items": items})


async def _show(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    show = await service.store.show(_id(request.match_info["show_id"], "show_id"))
    await service.store.sweep(service.clock.now())
    taken = {c.seat_id for c in await service.store.claims(show.show_id)}
    seats = [
        {"seat_id": s.seat_id, "category": s.category, "price_paise": s.price.paise,
         "free": s.seat_id not in taken}
        for s in show.seats
    ]  # fmt: skip
    return web.json_response({"show_id": show.show_id, "title": show.title, "seats": seats})


async def _hold(request: web.Request) -> web.Response:
    body = await _body(request)
    show_id, user_id = _id(body.get("show_id"), "show_id"), _id(body.get("user_id"), "user_id")
    hold = await request.app[SERVICE_KEY].hold(show_id, _seat_ids(body.get("seat_ids")), user_id)
    return web.json_response(_hold_json(hold), status=201)


async def _get(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    return web.json_response(
        _hold_json(await service.store.get(_token(request), service.clock.now()))
    )


async def _pay(request: web.Request) -> web.Response:
    body = await _body(request)
    hold = await _own_hold(request, _id(body.get("user_id"), "user_id"))
    result = await request.app[SERVICE_KEY].pay_and_confirm(hold)
    return web.json_response(_result_json(result))


async def _cancel(request: web.Request) -> web.Response:
    user_id = _id(request.query.get("user_id"), "user_id")
    hold = await request.app[SERVICE_KEY].release(_token(request), user_id)
    return web.json_response(_hold_json(hold))


def create_app(service: BookingService, show_ids: Sequence[str]) -> web.Application:
    """The booking API over ``service``; ``show_ids`` is the catalogue ``GET /v1/shows`` lists."""
    app = web.Application(middlewares=[_errors], client_max_size=MAX_BODY_BYTES)
    app[SERVICE_KEY] = service
    app[SHOWS_KEY] = tuple(show_ids)
    app.router.add_get("/v1/shows", _shows)
    app.router.add_get("/v1/shows/{show_id}", _show)
    app.router.add_post("/v1/holds", _hold)
    app.router.add_get("/v1/holds/{token}", _get)
    app.router.add_post("/v1/holds/{token}/pay", _pay)
    app.router.add_delete("/v1/holds/{token}", _cancel)
    return app
