"""The plain-batch fast path gives exactly what the sequential ``Batch`` gives, or steps aside.

Every batch is run twice — through the ledger as it is (fast path allowed) and with the fast
path switched off — and results (status, error type and message), journal and counters must
be identical, with ``verify()`` clean. A Batch-level test also checks the converse: the fast
path declines a batch only when the sequential path would fail or meet a non-plain transfer.
"""

import asyncio
import dataclasses
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from razorlab.clock import ManualClock
from razorlab.settlement import (
    AccountFlags,
    ExceedsBalance,
    Ledger,
    Transfer,
    TransferFlags,
    plain_batch,
)
from razorlab.settlement import ledger as ledger_module
from razorlab.settlement.batch import Batch

F = TransferFlags
DR_LIMIT = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS
CR_LIMIT = AccountFlags.CREDITS_MUST_NOT_EXCEED_DEBITS
PLAIN = ["a0", "a1", "a2", "wallet", "line"]  # INR, ledger 1
SPOILERS = [
    "bad_amount", "unknown", "same", "usd", "ledger2", "dup", "old", "pending", "post",
    "linked", "timeout", "pending_id",
]  # fmt: skip
KINDS = ["plain"] * len(SPOILERS) + SPOILERS
BAD_AMOUNTS = [0, -5, 1.5, 100.0, True, 2**63, "12", None]

transfer_spec = st.tuples(
    st.sampled_from(KINDS),
    st.sampled_from(PLAIN),
    st.sampled_from(PLAIN),
    st.integers(1, 1_000),
    st.sampled_from(BAD_AMOUNTS),
)
#: clean = plain transfers only (fast-path material), spoiled = the same plus one of any kind
#: (each check of the fast path gets its chance to decline), mixed = anything goes.
batch_spec = st.tuples(
    st.sampled_from(["clean", "clean", "spoiled", "mixed"]),
    st.lists(transfer_spec, min_size=1, max_size=24),
    st.tuples(st.integers(0, 23), st.sampled_from(SPOILERS)),
    st.sampled_from(["t", "u"]),  # id prefix: a second batch of "t"s retries the first's ids
)


def build(mode: str, specs: list, spoiler: tuple[int, str], prefix: str) -> list[Transfer]:
    """Turn drawn specs into transfers of the batch's mode."""
    out: list[Transfer] = []
    for i, (kind, debit, credit, amount, bad) in enumerate(specs):
        if mode != "mixed":
            kind = spoiler[1] if mode == "spoiled" and i == spoiler[0] % len(specs) else "plain"
        if debit == credit and kind != "same":
            credit = PLAIN[(PLAIN.index(debit) + 1) % len(PLAIN)]
        t = Transfer(f"{prefix}{i}", debit, credit, amount)
        change = {
            "bad_amount": {"amount": bad},
            "unknown": {"debit_account": "ghost"},
            "same": {"credit_account": debit},
            "usd": {"currency": "USD"},
            "ledger2": {"ledger": 2},
            "dup": {"id": out[-1].id if out else f"{prefix}0"},
            "old": {"id": "old"},
            "pending": {"flags": F.PENDING, "timeout_s": 30.0},
            "post": {
                "flags": F.POST_PENDING,
                "pending_id": "hold",
                "debit_account": "",
                "credit_account": "",
                "amount": None,
            },  # fmt: skip
            "linked": {"flags": F.LINKED},
            "timeout": {"timeout_s": 5.0},
            "pending_id": {"pending_id": "hold"},
        }.get(kind, {})
        out.append(dataclasses.replace(t, **change))
    return out


async def open_ledger() -> Ledger:
    led = await Ledger.open(clock=ManualClock())
    for name in PLAIN:
        flags = {"wallet": DR_LIMIT, "line": CR_LIMIT}.get(name, AccountFlags.NONE)
        await led.create_account(name, "party", flags=flags)
    await led.create_account("usd", "bank", currency="USD")
    await led.create_transfers(
        [
            Transfer("fund-wallet", "a0", "wallet", 500),  # the wallet may spend 500
            Transfer("draw-line", "line", "a1", 500),  # the line may take back 500
            Transfer("old", "a0", "a1", 100),
            Transfer("hold", "a0", "a2", 300, flags=F.PENDING),
        ]
    )
    return led


async def outcome(batches: list[list[Transfer]], fast: bool) -> tuple:
    """Results, journal and accounts after applying ``batches``, fast path on or off."""
    led = await open_ledger()
    try:
        results = []
        with mock.patch.object(plain_batch, "MIN_FAST_BATCH", 1):
            with mock.patch.object(
                ledger_module, "apply_plain", plain_batch.apply_plain if fast else no_fast_path
            ):
                for batch in batches:
                    results += await led.create_transfers(batch)
        assert await led.verify() == [], "debits equal credits and counters match the journal"
        journal = [dataclasses.astuple(t) for t in await led.journal()]
        return [describe(r) for r in results], journal, await led.accounts()
    finally:
        await led.close()


def no_fast_path(batch, transfers):
    return None


def describe(result) -> tuple:
    error = result.error
    return result.id, result.status, type(error), error and error.to_dict()


@settings(max_examples=60, deadline=None)
@given(st.lists(batch_spec, min_size=1, max_size=2))
def test_fast_path_gives_the_same_results_journal_and_counters(drawn):
    batches = [build(*batch) for batch in drawn]
    assert asyncio.run(outcome(batches, fast=True)) == asyncio.run(outcome(batches, fast=False))


def fresh_batch() -> Batch:
    """A Batch as the ledger would load it: five INR accounts, two of them limited."""
    accounts = {name: ["party", "INR", 1, 0, 0, 0, 0, 0] for name in PLAIN}
    accounts["wallet"] = ["party", "INR", 1, int(DR_LIMIT), 0, 0, 0, 4_000]  # 4,000 to spend
    accounts["line"] = ["party", "INR", 1, int(CR_LIMIT), 0, 4_000, 0, 0]  # 4,000 to take
    return Batch(1_000.0, accounts, {}, {})


def sequential(batch: Batch, transfers: list[Transfer]) -> list[tuple]:
    results = []
    for t in transfers:
        try:
            results.append((t.id, batch.apply(t), None))
        except Exception as exc:  # noqa: BLE001 - any failure means "not all valid"
            results.append((t.id, "failed", exc))
    return results


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(PLAIN), st.sampled_from(PLAIN), st.integers(1, 3_000)),
                min_size=1, max_size=40))  # fmt: skip
def test_fast_path_declines_only_batches_the_sequential_path_would_fail(specs):
    transfers = [Transfer(f"t{i}", d, c, a) for i, (d, c, a) in enumerate(specs)]
    fast, slow = fresh_batch(), fresh_batch()
    with mock.patch.object(plain_batch, "MIN_FAST_BATCH", 1):
        got = plain_batch.apply_plain(fast, transfers)
    want = sequential(slow, transfers)
    if got is None:
        assert any(status == "failed" for _, status, _ in want), "declined a valid batch"
        assert list(fast.rows()) == [] and fast.accounts == fresh_batch().accounts, "untouched"
    else:
        assert [tuple(r) for r in got] == want
        assert list(fast.rows()) == list(slow.rows()), "the same journal rows, in order"
        assert fast.accounts == slow.accounts and fast.touched == slow.touched


async def test_a_plain_batch_takes_the_fast_path():
    led = await open_ledger()
    n = plain_batch.MIN_FAST_BATCH  # the smallest batch it takes
    batch = [Transfer(f"p{i}", PLAIN[i % 3], PLAIN[(i + 1) % 3], 10 + i) for i in range(n)]
    with mock.patch.object(Batch, "apply", side_effect=AssertionError("sequential path used")):
        results = await led.create_transfers(batch)
    assert [r.status for r in results] == ["ok"] * n
    assert await led.verify() == []
    await led.close()


async def test_one_bad_transfer_sends_the_whole_batch_the_sequential_way():
    led = await open_ledger()
    batch = [Transfer(f"p{i}", "a0", "a1", 10) for i in range(200)]
    batch[57] = Transfer("p57", "a0", "a1", 0)
    with mock.patch.object(Batch, "apply", autospec=True, side_effect=Batch.apply) as spy:
        results = await led.create_transfers(batch)
    assert spy.call_count == 200, "every transfer applied one at a time"
    assert [r.status for r in results].count("failed") == 1 and results[57].status == "failed"
    assert await led.verify() == []
    await led.close()


@pytest.mark.parametrize(
    ("amounts", "fast"),
    [
        ([-400, 300, -400], True),  # spend 400, get 300, spend 400: never short
        ([-400, -400, 300], False),  # the second spend comes first: 800 > 500
    ],
)
async def test_balance_limits_are_checked_in_batch_order(amounts, fast):
    led = await open_ledger()  # the wallet holds 500
    batch = [
        Transfer(f"w{i}", "wallet", "a0", -a) if a < 0 else Transfer(f"w{i}", "a1", "wallet", a)
        for i, a in enumerate(amounts)
    ]
    with mock.patch.object(plain_batch, "MIN_FAST_BATCH", 1):
        if fast:
            with mock.patch.object(Batch, "apply", side_effect=AssertionError("sequential")):
                results = await led.create_transfers(batch)
        else:
            results = await led.create_transfers(batch)
    statuses = [r.status for r in results]
    assert statuses == (["ok"] * 3 if fast else ["ok", "failed", "ok"])
    if not fast:
        assert isinstance(results[1].error, ExceedsBalance)
    assert await led.verify() == []
    await led.close()


def test_amounts_too_big_to_sum_in_int64_go_the_sequential_way(monkeypatch):
    monkeypatch.setattr(plain_batch, "MIN_FAST_BATCH", 1)
    transfers = [Transfer("big", "a0", "a1", plain_batch.SUM_LIMIT + 1)]
    transfers += [Transfer(f"t{i}", "a1", "a2", 1) for i in range(40)]
    assert plain_batch.apply_plain(fresh_batch(), transfers[1:]) is not None, "small: fast"
    assert plain_batch.apply_plain(fresh_batch(), transfers) is None
    slow = fresh_batch()
    assert all(status == "ok" for _, status, _ in sequential(slow, transfers))
    assert slow.accounts["a1"][7] == plain_batch.SUM_LIMIT + 1, "exact, as a Python int"


async def test_a_retry_that_now_breaks_a_rule_is_still_reported_exists():
    led = await open_ledger()
    await led.void("hold", "v1")
    spend = Transfer("s1", "wallet", "a0", 500)  # empties the wallet
    assert (await led.create_transfers([spend]))[0].status == "ok"
    void_again = Transfer("v1", pending_id="hold", flags=F.VOID_PENDING)
    results = await led.create_transfers([void_again, spend])
    assert [r.status for r in results] == ["exists", "exists"], "retries, not failures"
    assert await led.verify() == []
    await led.close()
