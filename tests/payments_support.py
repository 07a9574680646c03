"""What the payments tests share: a razorlab server on a free 127.0.0.1 port, and SDK clients.

The official SDK (PyPI ``razorpay``) is synchronous, so tests run its calls on a thread
(:func:`razorlab.payments.sdk.call`, re-exported here) while the server keeps serving on
the test's event loop. Test modules
import the fixtures they use (``sdk_server``, ``sdk``) from here.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import requests
from aiohttp.test_utils import TestClient, TestServer

from razorlab.payments.api import create_app, start_server
from razorlab.payments.bank import SimulatedBank
from razorlab.payments.gateway import Gateway
from razorlab.payments.sdk import call, sdk_client

razorpay = pytest.importorskip("razorpay")

__all__ = ["UPI", "SdkServer", "basic_auth", "two_merchants", "call", "sdk_server", "sdk"]

UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


def basic_auth(key_id: str, secret: str, scheme: str = "Basic") -> dict[str, str]:
    """The Authorization header Razorpay's API takes (HTTP Basic: key id and secret)."""
    token = base64.b64encode(f"{key_id}:{secret}".encode()).decode()
    return {"Authorization": f"{scheme} {token}"}


@asynccontextmanager
async def two_merchants(clock, **gateway_options) -> AsyncIterator[tuple]:
    """``(client, gateway, acme_headers, other_headers)``: the API in-process, two merchants."""
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), **gateway_options)
    acme, acme_secret = await gw.create_merchant("Acme")
    other, other_secret = await gw.create_merchant("Other")
    client = TestClient(TestServer(create_app(gw)))
    await client.start_server()
    try:
        yield (
            client,
            gw,
            basic_auth(acme.key_id, acme_secret),
            basic_auth(other.key_id, other_secret),
        )
    finally:
        await client.close()
        await gw.close()


@dataclass
class SdkServer:
    """A served gateway, its first merchant's SDK client, and a factory for more clients."""

    gw: Gateway
    url: str
    key_id: str
    secret: str
    sessions: list[requests.Session] = field(default_factory=list)

    def client(self, key_id: str | None = None, secret: str | None = None) -> razorpay.Client:
        """An SDK client (the first merchant's unless other keys are given)."""
        client = sdk_client(
            self.url, key_id or self.key_id, self.secret if secret is None else secret
        )
        self.sessions.append(client.session)
        return client

    async def other_merchant(self, name: str = "Other") -> razorpay.Client:
        merchant, secret = await self.gw.create_merchant(name)
        return self.client(merchant.key_id, secret)


@pytest.fixture
async def sdk_server(clock, payment_db):
    """A razorlab server on a free 127.0.0.1 port with one merchant, stopped afterwards;
    once on SQLite and once on PostgreSQL (``payment_db``)."""
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=11, **payment_db)
    merchant, secret = await gw.create_merchant("Acme")
    runner, url = await start_server(create_app(gw), "127.0.0.1", 0)
    served = SdkServer(gw, url, merchant.key_id, secret)
    yield served
    for session in served.sessions:
        session.close()
    await runner.cleanup()
    await gw.close()


@pytest.fixture
def sdk(sdk_server):
    """The first merchant's SDK client and the gateway behind the server."""
    return sdk_server.client(), sdk_server.gw
