"""Idempotency keys follow Stripe's rules: replay, reject reuse, refuse concurrency, expire."""

import asyncio
import hashlib
import json
import stat

import pytest

from razorlab.cli import main
from razorlab.infra import BreakerConfig, BreakerRegistry
from razorlab.payments import idempotency
from razorlab.payments.bank import SimulatedBank
from razorlab.payments.gateway import Gateway
from razorlab.payments.idempotency import (
    FINGERPRINT_KEY_ENV,
    IDEMPOTENCY_TTL_S,
    fingerprint_key_for,
    request_fingerprint,
)

UPI = {"amount": 49_900, "currency": "INR", "method": "upi", "vpa": "success@razorpay"}


@pytest.fixture
async def gateway(clock, open_gateway):
    gw = await open_gateway(clock=clock, bank=SimulatedBank(clock), seed=7)
    yield gw
    await gw.close()


@pytest.fixture
async def merchant(gateway):
    merchant, _ = await gateway.create_merchant("Acme")
    return merchant.id


async def test_same_key_same_request_replays_the_first_response(gateway, merchant):
    first = await gateway.create_payment(merchant, UPI, "order-1")
    again = await gateway.create_payment(merchant, dict(reversed(UPI.items())), "order-1")
    assert (again.status, again.body) == (first.status, first.body)
    assert again.headers == {"Idempotent-Replayed": "true"}
    assert gateway.bank.calls["charge"] == 1 and await gateway.store.count_payments() == 1


async def test_errors_are_replayed_too_and_never_retried(gateway, merchant):
    declined = {**UPI, "amount": 5100}  # magic amount: insufficient funds
    first = await gateway.create_payment(merchant, declined, "order-2")
    again = await gateway.create_payment(merchant, declined, "order-2")
    error = first.body["error"]
    assert first.status == 400 and (error["code"], error["reason"]) == (
        "BAD_REQUEST_ERROR",
        "insufficient_funds",
    )
    assert (again.status, again.body) == (first.status, first.body)
    assert gateway.bank.calls["charge"] == 1


async def test_same_key_different_request_is_422_reused(gateway, merchant):
    await gateway.create_payment(merchant, UPI, "order-3")
    other = await gateway.create_payment(merchant, {**UPI, "amount": 50_000}, "order-3")
    error = other.body["error"]
    assert other.status == 422 and (error["code"], error["reason"]) == (
        "BAD_REQUEST_ERROR",
        "idempotency_key_reused",
    )
    assert gateway.bank.calls["charge"] == 1


async def test_keys_belong_to_one_merchant(gateway, merchant):
    other, _ = await gateway.create_merchant("Other")
    await gateway.create_payment(merchant, UPI, "shared-key")
    theirs = await gateway.create_payment(other.id, UPI, "shared-key")
    assert theirs.status == 201 and gateway.bank.calls["charge"] == 2


async def test_validation_failures_store_nothing_under_the_key(gateway, merchant):
    bad = await gateway.create_payment(merchant, {**UPI, "amount": 1.5}, "order-4")
    assert bad.status == 400 and await gateway.keys.count() == 0
    good = await gateway.create_payment(merchant, UPI, "order-4")  # the key is still free
    assert good.status == 201


async def test_keys_expire_after_24_hours(gateway, merchant, clock):
    await gateway.create_payment(merchant, UPI, "order-5")
    clock.advance(IDEMPOTENCY_TTL_S - 1)
    assert (await gateway.create_payment(merchant, UPI, "order-5")).headers
    clock.advance(1)
    fresh = await gateway.create_payment(merchant, UPI, "order-5")
    assert fresh.status == 201 and not fresh.headers and gateway.bank.calls["charge"] == 2
    assert await gateway.keys.prune() == 0


async def test_overlong_key_is_a_400(gateway, merchant):
    response = await gateway.create_payment(merchant, UPI, "k" * 256)
    assert response.status == 400 and response.body["error"]["field"] == "Idempotency-Key"


async def test_1000_concurrent_requests_with_one_key_charge_exactly_once(gateway, merchant):
    responses = await asyncio.gather(
        *(gateway.create_payment(merchant, UPI, "checkout-42") for _ in range(1000))
    )
    statuses = [r.status for r in responses]
    assert gateway.bank.calls["charge"] == 1, "the customer was charged more than once"
    assert await gateway.store.count_payments() == 1
    assert set(statuses) <= {201, 409}
    ids = {r.body["id"] for r in responses if r.status == 201}
    assert len(ids) == 1, "every success must describe the same payment"
    busy = [r for r in responses if r.status == 409]
    assert all(r.body["error"]["reason"] == "idempotency_key_in_use" for r in busy)
    assert all(r.body["error"]["code"] == "BAD_REQUEST_ERROR" for r in busy)
    after = await gateway.create_payment(merchant, UPI, "checkout-42")
    assert after.body["id"] in ids and gateway.bank.calls["charge"] == 1


async def test_a_half_open_breaker_with_no_probe_left_stores_nothing(clock):
    config = BreakerConfig(sliding_window_size=2, minimum_number_of_calls=2,
                           wait_duration_in_open_s=10, permitted_calls_in_half_open=1)  # fmt: skip
    gw = await Gateway.open(clock=clock, bank=SimulatedBank(clock), seed=8,
                            breakers=BreakerRegistry(clock, config))  # fmt: skip
    merchant, _ = await gw.create_merchant("Acme")
    breaker = gw.breakers.get("upi:razorpay")
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(11)
    breaker.allow()  # the only half-open probe is out
    response = await gw.create_payment(merchant.id, UPI, "probe-busy")
    assert response.status == 503 and response.headers["Retry-After"] == "1"
    assert await gw.store.count_payments() == 0 and await gw.keys.count() == 0
    await gw.close()


CARD = {
    "amount": 49_900, "currency": "INR", "method": "card",
    "card": {"number": "4111111111111111", "expiry_month": 12, "expiry_year": 2030},
}  # fmt: skip
SECRET = b"k" * 32


def _fingerprint(body, secret=SECRET):
    return request_fingerprint("POST", "/v1/payments", body, secret=secret)


def test_the_fingerprint_is_keyed_and_tells_cards_apart():
    same = {**CARD, "card": dict(reversed(CARD["card"].items()))}
    assert _fingerprint(CARD) == _fingerprint(same), "key order does not matter"
    other_card = {**CARD, "card": {**CARD["card"], "number": "5555555555554444"}}
    assert _fingerprint(CARD) != _fingerprint(other_card)
    assert _fingerprint(CARD) != _fingerprint(CARD, b"j" * 32), "another secret, another hash"
    unkeyed = hashlib.sha256(
        json.dumps(["POST", "/v1/payments", CARD], sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert _fingerprint(CARD) != unkeyed
    with pytest.raises(ValueError):
        _fingerprint(CARD, b"short")


def test_the_card_number_never_enters_the_hashed_body_in_clear(monkeypatch):
    hashed: list[bytes] = []
    real_new = idempotency.hmac.new

    def spy(key, msg, digestmod):
        hashed.append(msg)
        return real_new(key, msg, digestmod)

    monkeypatch.setattr(idempotency.hmac, "new", spy)
    _fingerprint(CARD)
    pan = CARD["card"]["number"].encode()
    [token_input] = [m for m in hashed if pan in m]
    assert token_input == b"card-number\x00" + pan, "only the keyed token sees the number"
    body_input = hashed[-1]
    assert pan not in body_input and b"pan_hmac:" in body_input


async def test_card_payments_replay_and_a_different_card_is_key_reuse(gateway, merchant):
    first = await gateway.create_payment(merchant, CARD, "card-1")
    again = await gateway.create_payment(merchant, dict(reversed(CARD.items())), "card-1")
    assert (again.status, again.body) == (first.status, first.body)
    other = {**CARD, "card": {**CARD["card"], "number": "5555555555554444"}}
    reused = await gateway.create_payment(merchant, other, "card-1")
    assert reused.status == 422 and reused.body["error"]["reason"] == "idempotency_key_reused"
    (stored,) = await gateway.store.fetchone("SELECT fingerprint FROM idempotency_keys")
    assert stored == gateway.keys.fingerprint("POST", "/v1/payments", CARD)
    assert gateway.bank.calls["charge"] == 1


async def test_an_injected_secret_keys_the_fingerprints(clock):
    gw = await Gateway.open(clock=clock, seed=7, fingerprint_key=SECRET)
    try:
        merchant, _ = await gw.create_merchant("Acme")
        await gw.create_payment(merchant.id, CARD, "card-2")
        (stored,) = await gw.store.fetchone("SELECT fingerprint FROM idempotency_keys")
        assert stored == _fingerprint(CARD)
    finally:
        await gw.close()


def test_serve_reads_its_secret_from_the_environment_or_a_key_file(tmp_path):
    db = str(tmp_path / "pay.db")
    env_key = "e" * 16
    assert fingerprint_key_for(db, {FINGERPRINT_KEY_ENV: env_key}) == env_key.encode()
    with pytest.raises(ValueError):
        fingerprint_key_for(db, {FINGERPRINT_KEY_ENV: "too-short"})
    created = fingerprint_key_for(db, {})
    key_file = tmp_path / "pay.db.fingerprint-key"
    assert len(created) == 32 and key_file.read_bytes() == created
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert fingerprint_key_for(db, {}) == created, "the same key after a restart"
    assert fingerprint_key_for(":memory:", {}) != fingerprint_key_for(":memory:", {})


def test_serve_with_a_short_key_says_so_instead_of_a_traceback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(FINGERPRINT_KEY_ENV, "too-short")
    assert main(["serve", "--db", str(tmp_path / "pay.db"), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert FINGERPRINT_KEY_ENV in err and "at least 16 bytes" in err and "Traceback" not in err
