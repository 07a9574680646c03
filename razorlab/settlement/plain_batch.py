"""The fast path for a batch of plain transfers: the ledger's rules as array operations.

Scenario: almost every batch a payment aggregator writes is plain money movement — captures,
fees, GST, settlements — with no two-phase, no links and (retries being rare) no id seen
before. ``Batch.apply`` checks such transfers one at a time, ~4 µs each of Python; here the
same checks run over the whole batch at once with numpy, so the ledger keeps up with SQLite.

Design note
-----------
* **All valid, or not at all.** This path only handles a batch in which *every* transfer is
  plain (flags NONE, no pending id, no timeout) and passes every rule. If one does not,
  ``apply_plain`` returns ``None`` having changed nothing, and the ledger applies the batch
  with the sequential ``Batch`` — so which error, on which field, with which message, is
  decided in one place (``batch.py``), and this module never raises a ledger error.
* **Same rules, same outcome.** Ids are non-empty strings, unique in the batch and not stored
  yet; amounts are exact ``int`` (checked in Python first: numpy would truncate ``1.5`` and
  accept ``True``) and positive; accounts exist, differ, and hold the transfer's currency and
  ledger. A batch that passes yields exactly the journal rows, ``ok`` results, counters and
  ``touched`` set the sequential path would.
* **Balance limits in batch order.** Sequentially, transfer *k* is checked against an account
  with every earlier transfer of the batch applied. When all of them succeed that is a running
  sum per limited account in batch order — one stable sort and a cumulative sum — so a batch
  passes here exactly when each transfer would pass there.
* **Exact integers.** Amounts are int64, never float. A batch whose amounts add up to more
  than ``SUM_LIMIT`` goes the sequential way, so no running sum (or difference of two) can
  overflow; counters are updated as Python ints.
* **Small batches skip it.** Below ``MIN_FAST_BATCH`` transfers numpy's fixed cost (~100 µs
  a batch, measured) is more than the loop it would save.
* **Few objects.** It is a whole-batch apply, run on a freshly loaded ``Batch`` with nothing
  applied after it: its journal rows go to ``batch.bulk`` as columns, zipped into tuples only
  as SQLite inserts them, and its ids are not added to ``batch.stored``. Thousands of short-
  lived tuples per batch would otherwise cost allocation and garbage-collector time.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat

import numpy as np

from razorlab.money import CURRENCIES
from razorlab.settlement.accounts import Transfer, TransferResult
from razorlab.settlement.batch import Batch

__all__ = ["apply_plain", "MIN_FAST_BATCH", "SUM_LIMIT"]

MIN_FAST_BATCH = 100  # transfers: below this the loop is faster (numpy's ~100 µs fixed cost)
SUM_LIMIT = 2**61  # paise per batch: running sums and their differences stay inside int64
_CLIP = 2**62  # paise: headroom beyond ±this is never / always exceeded by a running sum
_DEBITS_PENDING, _DEBITS_POSTED, _CREDITS_PENDING, _CREDITS_POSTED = 4, 5, 6, 7  # account row
_DR_LIMIT, _CR_LIMIT = 1, 2  # AccountFlags.DEBITS_/CREDITS_MUST_NOT_EXCEED_..., as plain ints


def apply_plain(batch: Batch, transfers: Sequence[Transfer]) -> list[TransferResult] | None:
    """Apply a batch of plain, valid transfers at once; ``None`` (batch untouched) otherwise."""
    n = len(transfers)
    if n < MIN_FAST_BATCH:
        return None
    ids = [t.id for t in transfers]
    debits = [t.debit_account for t in transfers]
    credits = [t.credit_account for t in transfers]
    amounts = [t.amount for t in transfers]
    currencies = [t.currency for t in transfers]
    ledgers = [t.ledger for t in transfers]
    timeouts = [t.timeout_s for t in transfers]
    codes = [t.code for t in transfers]
    if (
        [t.flags for t in transfers].count(0) != n
        or [t.pending_id for t in transfers].count("") != n
        or any(timeouts)
        or not _fresh_ids(ids, batch.stored)
        or set(map(type, amounts)) != {int}
        or min(amounts) <= 0
        or sum(amounts) > SUM_LIMIT
    ):
        return None
    names = list(batch.accounts)
    index = {a: i for i, a in enumerate(names)}
    dr = np.fromiter(map(index.get, debits, repeat(-1)), np.intp, n)
    cr = np.fromiter(map(index.get, credits, repeat(-1)), np.intp, n)
    if (dr < 0).any() or (cr < 0).any() or (dr == cr).any():
        return None
    rows = list(batch.accounts.values())
    if not (
        _same(currencies, [r[1] for r in rows], dr, cr)
        and _same(ledgers, [r[2] for r in rows], dr, cr)
        and set(currencies) <= CURRENCIES.keys()
    ):
        return None
    amount = np.array(amounts, dtype=np.int64)
    flags = np.array([r[3] for r in rows], dtype=np.int64)
    for limit, own, other, spent, held in (
        (_DR_LIMIT, dr, cr, (_DEBITS_PENDING, _DEBITS_POSTED), _CREDITS_POSTED),
        (_CR_LIMIT, cr, dr, (_CREDITS_PENDING, _CREDITS_POSTED), _DEBITS_POSTED),
    ):
        limited = (flags & limit) != 0
        if limited[own].any():
            headroom = np.array(
                [max(-_CLIP, min(_CLIP, r[held] - r[spent[0]] - r[spent[1]])) for r in rows],
                dtype=np.int64,
            )
            if _exceeds(own, other, amount, limited, headroom):
                return None
    _post(batch, names, rows, dr, cr, amount)
    # The journal rows, as the columns of Row (flags 0, no pending id), zipped when written.
    batch.bulk = (ids, debits, credits, amounts, currencies, ledgers, repeat(0), repeat(""),
                  timeouts, codes, repeat(batch.now))  # fmt: skip
    # tuple.__new__ builds the NamedTuples in C; calling TransferResult costs ~0.3 µs each.
    return list(map(tuple.__new__, repeat(TransferResult), zip(ids, repeat("ok"), repeat(None))))


def _fresh_ids(ids: list, stored: dict) -> bool:
    """Non-empty strings, unique in the batch, none applied before (else: ``exists``/conflict)."""
    try:
        if not all(map(str.__len__, ids)):  # C-speed isinstance(i, str) and i != ""
            return False
    except TypeError:  # not a string
        return False
    unique = set(ids)
    return len(unique) == len(ids) and unique.isdisjoint(stored)


def _same(values: list, held: list, dr: np.ndarray, cr: np.ndarray) -> bool:
    """Does each transfer's value (currency, ledger) equal both its accounts' (``==``)?"""
    try:
        code = {v: i for i, v in enumerate(set(values))}
    except TypeError:  # an unhashable value: let the sequential path compare it
        return False
    of_account = np.array([code.get(h, -1) for h in held], dtype=np.intp)
    if len(code) == 1:
        return bool((of_account[dr] == 0).all() and (of_account[cr] == 0).all())
    wanted = np.fromiter(map(code.__getitem__, values), np.intp, len(values))
    return bool((of_account[dr] == wanted).all() and (of_account[cr] == wanted).all())


def _exceeds(
    own: np.ndarray,
    other: np.ndarray,
    amount: np.ndarray,
    limited: np.ndarray,
    headroom: np.ndarray,
) -> bool:
    """Would any transfer push a limited account's ``own`` side past its ``other`` side?

    For a debit limit, ``own`` is the debit column and ``headroom`` is credits posted minus
    debits pending and posted; transfer *k* fails if the account's debits minus credits over
    transfers 0..k (k's own debit included) exceed it. Credit limits are the mirror image.
    """
    on_own, on_other = limited[own], limited[other]
    account = np.concatenate([own[on_own], other[on_other]])
    position = np.concatenate([np.flatnonzero(on_own), np.flatnonzero(on_other)])
    delta = np.concatenate([amount[on_own], -amount[on_other]])
    is_own = np.concatenate([np.ones(on_own.sum(), bool), np.zeros(on_other.sum(), bool)])
    order = np.lexsort((position, account))  # per account, in batch order
    account, delta, is_own = account[order], delta[order], is_own[order]
    running = np.cumsum(delta)
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
    before = running[starts] - delta[starts]  # the running sum as each account's run begins
    running -= np.repeat(before, np.diff(np.r_[starts, len(account)]))
    limit = headroom[account]
    return bool((running[is_own] > limit[is_own]).any())


def _post(
    batch: Batch, names: list, rows: list, dr: np.ndarray, cr: np.ndarray, amount: np.ndarray
) -> None:
    """Add every amount to its accounts' posted counters and mark them touched."""
    for side, column in ((dr, _DEBITS_POSTED), (cr, _CREDITS_POSTED)):
        total = np.zeros(len(names), dtype=np.int64)
        np.add.at(total, side, amount)
        moved = np.flatnonzero(total)
        for i, value in zip(moved.tolist(), total[moved].tolist(), strict=True):
            rows[i][column] += value
            batch.touched.add(names[i])
