"""The OpenAPI description of ``razorlab serve``: committed copy = generated, paths = routes,
a valid OpenAPI 3.1 document — and a live server keeps it, as schemathesis checks.

schemathesis generates requests from the served description (valid ones, valid ones on
real entities, and invalid ones) and checks every answer: no 5xx, a documented status, the
documented content type, headers and body schema (for a non-2xx: Razorpay's error
contract). Bounded and deterministic: a fixed number of examples per operation,
``derandomize=True``, no shrinking, no example database.
"""

import asyncio
import json

import jsonschema
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (  # the built-in checks, by function
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from razorlab.payments.api import create_app
from razorlab.payments.bank import SUCCESS_CARD
from razorlab.payments.gateway import Gateway
from razorlab.payments.openapi import COMMITTED_PATH, OPENAPI_PATH, description, render
from tests import payments_support as support
from tests.payments_support import UPI, basic_auth

sdk_server = support.sdk_server  # the shared fixture: a served gateway, one merchant

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 12  # per operation and kind (generated ids, real ids, invalid input)
REGENERATE = (
    '.venv/bin/python -c "import pathlib, razorlab.payments.openapi as o; '
    'pathlib.Path(o.COMMITTED_PATH).write_text(o.render())"'
)


def test_the_committed_copy_is_what_the_code_describes(root):
    committed = (root / COMMITTED_PATH).read_text(encoding="utf-8")
    assert committed == render(), f"{COMMITTED_PATH} is stale: regenerate with {REGENERATE}"


async def test_every_route_is_described_and_every_description_is_a_route(clock):
    gw = await Gateway.open(clock=clock)
    try:
        app = create_app(gw)
        routes = {
            (route.method.lower(), route.resource.canonical)
            for route in app.router.routes()
            if route.method != "HEAD"  # aiohttp adds HEAD to every GET
        }
    finally:
        await gw.close()
    described = {(method, path) for path, item in description()["paths"].items() for method in item}
    assert routes - described == set(), "routes missing from the description"
    assert described - routes == set(), "described operations no route serves"


def test_the_description_is_a_valid_openapi_3_1_document():
    document = description()
    assert document["openapi"].startswith("3.1.")
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # against the OpenAPI 3.1 meta-schema
    for component in document["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(component)
    operations = [result.ok() for result in schema.get_all_operations()]  # every $ref resolves
    assert len(operations) == sum(len(item) for item in document["paths"].values())


async def _entities(served: support.SdkServer) -> dict[str, str]:
    """Real ids to aim at: a captured, partly refunded payment, its refund, an order and a
    card checkout on it waiting for its OTP."""
    gw = served.gw
    merchant = await gw.store.merchant_by_key_id(served.key_id)
    payment = (await gw.create_payment(merchant.id, UPI)).body["id"]
    await gw.capture(merchant.id, payment)
    refund, _ = await gw.refund(merchant.id, payment, 100)
    order = await gw.create_order(merchant.id, {"amount": 100_000, "currency": "INR"})
    form = {"method": "card", "card": {"number": SUCCESS_CARD, "expiry_month": 12,
                                       "expiry_year": 2099}}  # fmt: skip
    headers = basic_auth(served.key_id, "")
    waiting = await support.call(
        requests.post, f"{served.url}/v1/checkout/{order.id}/pay", json=form, headers=headers,
        timeout=10,
    )  # fmt: skip
    return {"payment": payment, "refund": refund["id"], "order": order.id,
            "checkout": waiting.json()["razorpay_payment_id"]}  # fmt: skip


def _real_ids(path: str, ids: dict[str, str]) -> dict[str, str]:
    """The path parameters of ``path`` filled with real entities' ids."""
    filled = {}
    if "{id}" in path:
        kind = "order" if path.startswith(("/v1/orders", "/v1/checkout/{id}")) else "payment"
        filled["id"] = ids["checkout" if "/checkout/payments/" in path else kind]
    if "{refund_id}" in path:
        filled["refund_id"] = ids["refund"]
    return filled


def _check(strategy, url: str, session: requests.Session, auth: dict[str, str], examples: int):
    """Send ``examples`` generated requests and run the checks on every answer."""

    @settings(max_examples=examples, derandomize=True, deadline=None, database=None,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                     HealthCheck.data_too_large])  # fmt: skip
    @given(strategy)
    def check(case):
        case.call_and_validate(
            base_url=url, session=session, headers=auth, checks=CHECKS, timeout=10
        )

    check()


def _fuzz(url: str, auth: dict[str, str], ids: dict[str, str]) -> list[str]:
    """Run the checks on every operation: the failures, one message per failing operation."""
    schema = schemathesis.openapi.from_url(url + OPENAPI_PATH, timeout=10)
    failures = []
    with requests.Session() as session:
        for path, item in description()["paths"].items():
            for method, spec in item.items():
                operation = schema[path][method.upper()]
                kinds = [operation.as_strategy()]
                if "{" in path:
                    kinds.append(operation.as_strategy(path_parameters=_real_ids(path, ids)))
                if spec.get("parameters") or "requestBody" in spec:
                    kinds.append(operation.as_strategy(GenerationMode.NEGATIVE))
                try:
                    _check(st.one_of(kinds), url, session, auth, EXAMPLES * len(kinds))
                except Exception as exc:  # a check failed: keep going, report them all
                    failures.append(f"{method.upper()} {path}: {exc}")
    return failures


async def test_a_live_server_keeps_its_description(sdk_server):
    served = sdk_server
    public = await support.call(requests.get, served.url + OPENAPI_PATH, timeout=10)
    assert public.status_code == 200 and public.json() == json.loads(render())  # no auth
    assert public.headers["Content-Type"].startswith("application/json")
    ids = await _entities(served)
    auth = basic_auth(served.key_id, served.secret)
    failures = await asyncio.to_thread(_fuzz, served.url, auth, ids)
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("path", ["/v1/openapi.json/", "/v1/OPENAPI.json", "/v1/openapi"])
async def test_only_the_description_itself_is_public(sdk_server, path):
    resp = await support.call(requests.get, sdk_server.url + path, timeout=10)
    assert resp.status_code in (401, 404) and set(resp.json()) == {"error"}


async def test_an_undescribed_method_is_405_naming_the_allowed_ones(sdk_server):
    auth = basic_auth(sdk_server.key_id, sdk_server.secret)
    resp = await support.call(
        requests.delete, sdk_server.url + "/v1/payments", headers=auth, timeout=10
    )
    assert resp.status_code == 405 and set(resp.json()) == {"error"}
    assert resp.headers["Allow"] == "GET, HEAD, POST"  # RFC 9110: a 405 says what is allowed


@pytest.mark.parametrize("bank", [{}, []])  # schemathesis found these 500s
async def test_a_bank_that_is_not_text_is_a_400(sdk_server, bank):
    body = {"amount": 100, "currency": "INR", "method": "netbanking", "bank": bank}
    auth = basic_auth(sdk_server.key_id, sdk_server.secret)
    resp = await support.call(
        requests.post, sdk_server.url + "/v1/payments", json=body, headers=auth, timeout=10
    )
    assert resp.status_code == 400 and resp.json()["error"]["field"] == "bank"
