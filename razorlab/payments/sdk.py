"""The official ``razorpay`` SDK against a razorlab server, and the customer's checkout steps.

Scenario: a shop's server talks to Razorpay through the official Python SDK (PyPI
``razorpay``); pointed at a local razorlab server (its ``base_url`` option) it works
unchanged. The SDK has no checkout calls — in production the customer's browser runs
Checkout.js, which authenticates with the key id alone — so :func:`checkout_pay` and
:func:`checkout_step` play the browser through the SDK's generic ``post`` with
``use_public_auth=True`` (the SDK then sends ``(key_id, "")``).

Design note: the SDK is synchronous (``requests``) while the server runs on the caller's
asyncio loop (a notebook's or a test's); a blocking call on that loop would wait forever
for a server that cannot answer, so every call goes through :func:`call`, which runs it on
a thread. ``razorpay`` and ``requests`` are imported when a client is made, not when this
module is: the SDK is a test extra, and the rest of the package works without it. The
client's session ignores proxy settings from the environment (a server on 127.0.0.1 must
not be reached through a proxy); close it with ``client.session.close()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["sdk_client", "call", "checkout_pay", "checkout_step"]

T = TypeVar("T")
PUBLIC_AUTH = {"use_public_auth": True}  # the key id alone, as Checkout.js authenticates


def sdk_client(base_url: str, key_id: str, secret: str) -> Any:
    """A ``razorpay.Client`` for ``base_url`` (e.g. ``http://127.0.0.1:8000``)."""
    import razorpay
    import requests

    session = requests.Session()
    session.trust_env = False  # never route a local server through an environment proxy
    return razorpay.Client(session=session, auth=(key_id, secret), base_url=base_url)


async def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a synchronous SDK call on a thread, so the server keeps serving on this loop."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def checkout_pay(client: Any, order_id: str, form: dict[str, Any]) -> dict[str, Any]:
    """The customer submits checkout's form for ``order_id`` (card or UPI); key id only."""
    return client.post(f"/v1/checkout/{order_id}/pay", form, **PUBLIC_AUTH)


def checkout_step(client: Any, started: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """The step :func:`checkout_pay` asked for next (OTP or UPI approval); key id only."""
    return client.post(started["next"][0]["url"], body, **PUBLIC_AUTH)
