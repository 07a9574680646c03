"""The seed's designs fail where the notebook says, and the drill shows each defence acting."""

import asyncio

import pytest

from razorlab.infra import DRILL_CONFIG, BreakerRegistry, LRUCache, RateLimiter
from razorlab.payments import (
    BankProfile,
    Gateway,
    SimulatedBank,
    SimulatedCrash,
    per_second,
    run_drill,
)
from razorlab.payments.plots import drill_figure, latency_histogram
from razorlab.payments.seedcheck import (
    breaker_blast_radius,
    l1_cache_comparison,
    seed_style_cached_charge,
    seed_style_create,
)

BODY = {"amount": 19_900, "currency": "INR", "method": "upi", "vpa": "asha@okhdfc"}


async def test_seed_transaction_scope_loses_the_record_of_a_charge_on_crash(clock, open_gateway):
    gw = await open_gateway(clock=clock, bank=SimulatedBank(clock), seed=1)
    merchant, _ = await gw.create_merchant("Seed")
    with pytest.raises(SimulatedCrash):
        await seed_style_create(gw, merchant.id, BODY, crash_after_bank=True)
    [(pid, records)] = gw.bank.ledger.items()
    assert len(records) == 1 and await gw.store.payment(pid) is None  # charged, no trace
    assert await gw.store.payment(await seed_style_create(gw, merchant.id, BODY)) is not None
    await gw.close()


async def test_seed_cache_keyed_by_request_id_charges_a_concurrent_retry_twice(clock):
    bank = SimulatedBank(clock, BankProfile(latency_median_s=2.0, latency_sigma=0.0))
    cache = LRUCache(clock, ttl_s=3600)
    first = asyncio.ensure_future(seed_style_cached_charge(cache, bank, "r1", "pay_A", BODY))
    await clock.run_for(1.0)
    retry = asyncio.ensure_future(seed_style_cached_charge(cache, bank, "r1", "pay_A", BODY))
    await clock.run_for(5.0)
    await asyncio.gather(first, retry)
    assert bank.charges_for("pay_A") == 2
    await seed_style_cached_charge(cache, bank, "r1", "pay_A", BODY)  # now it is cached
    assert bank.charges_for("pay_A") == 2


async def test_drill_opens_the_breaker_in_the_outage_and_limits_the_spike(clock):
    bank = SimulatedBank(clock, BankProfile(decline_rate=0.02), wait=False)
    gw = await Gateway.open(clock=clock, bank=bank, seed=4,
                            limiter=RateLimiter(clock, rate_per_s=15, burst=30),
                            breakers=BreakerRegistry(clock, DRILL_CONFIG))  # fmt: skip
    merchant, _ = await gw.create_merchant("Drill")
    drill = await run_drill(gw, merchant.id, seconds=60, outage=(10, 30), spike=(45, 50, 4))
    counts = per_second(drill)
    assert counts.loc[15:29, "breaker open (503)"].sum() > 100
    assert counts.loc[:9, "breaker open (503)"].sum() == 0
    assert counts.loc[45:49, "rate limited (429)"].sum() > 50
    assert counts.loc[43:44, "authorized"].min() >= 8  # closed again after the outage
    assert len(drill_figure(counts, outage=(10, 30)).data) == len(counts.columns)
    await gw.close()


def test_latency_histogram_marks_p50_and_p99():
    fig = latency_histogram([1.0, 2.0, 3.0, 4.0, 150.0])
    texts = [a.text for a in fig.layout.annotations]
    assert any(t.startswith("p50") for t in texts) and "budget" in texts


def test_a_breaker_keyed_by_method_refuses_healthy_banks_and_one_per_route_does_not():
    by_method = {r["bank"]: r for r in breaker_blast_radius("method")}
    by_route = {r["bank"]: r for r in breaker_blast_radius("route")}
    assert by_method["icici"]["refused fast"] > 0.5 * by_method["icici"]["sent"]
    assert by_route["icici"]["refused fast"] == by_route["sbi"]["refused fast"] == 0
    assert by_route["hdfc"]["refused fast"] > 0.9 * by_route["hdfc"]["sent"]
    assert [r["sent"] for r in by_method.values()] == [r["sent"] for r in by_route.values()]
    with pytest.raises(ValueError):
        breaker_blast_radius("bank")


def test_the_seed_l1_grows_without_bound_and_never_sees_a_change_made_elsewhere():
    seed, lru = l1_cache_comparison(payments=5_000, max_items=1_000, ttl_s=5.0, horizon_s=60)
    assert (
        seed["entries held"] == 5_000 and seed["seconds until a capture elsewhere is seen"] is None
    )
    assert lru["entries held"] == 1_000 and lru["evicted"] == 4_000
    assert lru["seconds until a capture elsewhere is seen"] == 5
