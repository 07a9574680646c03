"""Merchant → database shard placement: consistent hashing vs modulo.

Scenario: payments are sharded by merchant so one merchant's rows live together. When
load grows and a shard is added, every merchant whose shard changes must have its data
moved. ``hash(m) % N`` moves almost everything (a key stays only if ``h % N == h % (N+1)``,
about ``1/(N+1)`` of keys), while a consistent-hash ring moves only the keys the new
shard takes over, about ``1/(N+1)`` of them (Karger et al., STOC 1997).

Design note
-----------
- **Stable hash.** Placement must agree across processes and restarts, so keys are hashed
  with 64-bit BLAKE2b, never Python's ``hash()`` (salted per process for ``str``).
- **Virtual nodes.** Each shard owns ``vnodes`` points on the ring; a key belongs to the
  first point clockwise from its hash. With one point per shard the arcs are very uneven;
  with ``v`` points the spread of a shard's share shrinks roughly like ``1/sqrt(v)``
  (Karger: ``O(log N)`` points per node bound the imbalance).
- **Vectorised.** The ring is two sorted numpy arrays (points, owners); placing 100k keys
  is one ``searchsorted``. Jump hash (Lamping & Veach 2014) is included as the
  memory-free alternative: perfect balance and minimal movement, but shards can only be
  added or removed at the end.
- **Even keys are not even load.** Hashing spreads *keys* evenly; it cannot spread one
  key's traffic. Merchant volumes are heavily skewed (a few large merchants send a big share
  of all payments), so sharding by merchant id alone makes hot shards.
  :func:`hot_shard_report` measures the hottest shard against the mean on a Zipf-like
  volume curve, and against two fixes: splitting the hottest merchants into sub-keys, and
  placing each payment by its own id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from razorlab.errors import ConflictError, NotFoundError, ValidationError
from razorlab.rand import rng

__all__ = [
    "DEFAULT_VNODES",
    "stable_hash64",
    "hash_keys",
    "HashRing",
    "modulo_placement",
    "jump_hash",
    "jump_placement",
    "RebalanceStats",
    "rebalance_stats",
    "compare_schemes",
    "imbalance_by_vnodes",
    "merchant_ids",
    "merchant_volumes",
    "split_hot_keys",
    "traffic_shares",
    "hot_shard_report",
]

DEFAULT_VNODES = 160  # points per shard on the ring (ketama's classic choice)
_JUMP_MULTIPLIER = np.uint64(2862933555777941757)  # LCG constant from Lamping & Veach
_U64 = np.uint64


def stable_hash64(key: str) -> int:
    """64-bit BLAKE2b of ``key``: the same number in every process, on every machine."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def hash_keys(keys: Iterable[str]) -> np.ndarray:
    """``stable_hash64`` of many keys as a ``uint64`` array."""
    digests = b"".join(hashlib.blake2b(k.encode("utf-8"), digest_size=8).digest() for k in keys)
    return np.frombuffer(digests, dtype=">u8").astype(np.uint64)


def merchant_ids(n: int, seed: int = 42) -> list[str]:
    """``n`` distinct synthetic merchant ids (``merch_`` + 14 random hex digits), seeded."""
    values = rng(seed, "sharding.merchants").choice(2**56, size=n, replace=False)
    return [f"merch_{v:014x}" for v in values.tolist()]


class HashRing:
    """A consistent-hash ring of named shards, each with ``vnodes`` virtual nodes."""

    def __init__(self, shards: Iterable[str] = (), *, vnodes: int = DEFAULT_VNODES):
        if vnodes < 1:
            raise ValidationError(f"vnodes must be >= 1, got {vnodes}", field="vnodes")
        self.vnodes = vnodes
        self._shards: list[str] = []
        self._points = np.empty(0, dtype=np.uint64)
        self._owners = np.empty(0, dtype=np.int64)  # index into self._shards
        for shard in shards:
            self.add_shard(shard)

    @property
    def shards(self) -> tuple[str, ...]:
        return tuple(self._shards)

    def __len__(self) -> int:
        return len(self._shards)

    def add_shard(self, shard: str) -> None:
        if shard in self._shards:
            raise ConflictError(f"shard {shard!r} is already on the ring", field="shard")
        self._shards.append(shard)
        self._rebuild()

    def remove_shard(self, shard: str) -> None:
        if shard not in self._shards:
            raise NotFoundError(f"shard {shard!r} is not on the ring", field="shard")
        self._shards.remove(shard)
        self._rebuild()

    def shard_for(self, key: str) -> str:
        """The shard that owns ``key`` (e.g. a merchant id)."""
        return self._shards[int(self.place(hash_keys([key]))[0])]

    def shards_for(self, keys: Sequence[str]) -> np.ndarray:
        """Shard names for many keys at once (an object array)."""
        names = np.array(self._shards, dtype=object)
        return names[self.place(hash_keys(keys))]

    def place(self, hashes: np.ndarray) -> np.ndarray:
        """Owner index (into ``shards``) of each key hash: first ring point at or after it."""
        if not self._shards:
            raise NotFoundError("the ring has no shards", field="shards")
        idx = np.searchsorted(self._points, hashes, side="left")
        idx[idx == len(self._points)] = 0  # wrap around the top of the ring
        return self._owners[idx]

    def ownership(self) -> dict[str, float]:
        """Fraction of the hash space each shard owns (what it gets of uniform keys)."""
        gaps = np.diff(self._points.astype(np.float64), prepend=0.0)
        gaps[0] += 2.0**64 - float(self._points[-1])  # arc that wraps past the top
        share = np.bincount(self._owners, weights=gaps, minlength=len(self._shards)) / 2.0**64
        return dict(zip(self._shards, share.tolist(), strict=True))

    def _rebuild(self) -> None:
        labels = [f"{s}#{i}" for s in self._shards for i in range(self.vnodes)]
        points = hash_keys(labels)
        owners = np.repeat(np.arange(len(self._shards)), self.vnodes)
        order = np.argsort(points, kind="stable")
        self._points, self._owners = points[order], owners[order]


def modulo_placement(hashes: np.ndarray, n_shards: int) -> np.ndarray:
    """The naive scheme: shard index ``hash % N``."""
    return (hashes % _U64(n_shards)).astype(np.int64)


def jump_hash(key_hash: int, n_shards: int) -> int:
    """Jump consistent hash of one 64-bit key hash (Lamping & Veach 2014)."""
    return int(jump_placement(np.array([key_hash], dtype=np.uint64), n_shards)[0])


def jump_placement(hashes: np.ndarray, n_shards: int) -> np.ndarray:
    """Vectorised jump hash: every key walks its own LCG until it jumps past ``n_shards``."""
    if n_shards < 1:
        raise ValidationError(f"n_shards must be >= 1, got {n_shards}", field="n_shards")
    key = hashes.astype(np.uint64).copy()
    b = np.full(key.shape, -1, dtype=np.int64)
    j = np.zeros(key.shape, dtype=np.int64)
    active = j < n_shards
    while active.any():
        b[active] = j[active]
        key[active] = key[active] * _JUMP_MULTIPLIER + _U64(1)  # wraps mod 2**64
        r = ((key[active] >> _U64(33)) + _U64(1)).astype(np.float64)
        j[active] = ((b[active] + 1) * (2.0**31 / r)).astype(np.int64)
        active = j < n_shards
    return b


@dataclass(frozen=True)
class RebalanceStats:
    """What adding one shard (N → N+1) does to a set of keys."""

    scheme: str
    n_before: int
    moved_fraction: float  # share of keys whose shard changed
    ideal_fraction: float  # 1/(N+1): the least any scheme must move
    imbalance: float  # busiest shard's keys / mean keys per shard, after the change


def _placements(scheme: str, hashes: np.ndarray, n: int, vnodes: int) -> np.ndarray:
    if scheme == "ring":
        return HashRing([f"shard-{i}" for i in range(n)], vnodes=vnodes).place(hashes)
    if scheme == "modulo":
        return modulo_placement(hashes, n)
    if scheme == "jump":
        return jump_placement(hashes, n)
    raise ValidationError(f"unknown scheme {scheme!r} (ring, modulo, jump)", field="scheme")


def rebalance_stats(
    hashes: np.ndarray, n_before: int, scheme: str = "ring", *, vnodes: int = DEFAULT_VNODES
) -> RebalanceStats:
    """Move from ``n_before`` to ``n_before + 1`` shards; measure movement and balance.

    Ring shards are named ``shard-0``… so shard ``i`` keeps its points when shard ``N`` is
    added: only keys landing on the new shard's arcs move.
    """
    if n_before < 1:
        raise ValidationError(f"n_before must be >= 1, got {n_before}", field="n_before")
    before = _placements(scheme, hashes, n_before, vnodes)
    after = _placements(scheme, hashes, n_before + 1, vnodes)
    counts = np.bincount(after, minlength=n_before + 1)
    return RebalanceStats(
        scheme=scheme,
        n_before=n_before,
        moved_fraction=float(np.mean(before != after)),
        ideal_fraction=1 / (n_before + 1),
        imbalance=float(counts.max() / counts.mean()),
    )


def compare_schemes(
    n_keys: int = 100_000,
    shard_counts: Iterable[int] = range(2, 17),
    schemes: Sequence[str] = ("modulo", "ring", "jump"),
    *,
    vnodes: int = DEFAULT_VNODES,
    seed: int = 42,
) -> list[RebalanceStats]:
    """``rebalance_stats`` for every scheme and N; ``pd.DataFrame(map(asdict, ...))``."""
    hashes = hash_keys(merchant_ids(n_keys, seed))
    return [
        rebalance_stats(hashes, n, scheme, vnodes=vnodes)
        for n in shard_counts
        for scheme in schemes
    ]


def imbalance_by_vnodes(
    n_shards: int = 10,
    vnode_counts: Iterable[int] = (1, 4, 16, 64, 160, 512),
    *,
    n_keys: int = 100_000,
    seed: int = 42,
) -> list[dict[str, float | int]]:
    """Busiest shard's load over the mean, for rings with more and more virtual nodes."""
    hashes = hash_keys(merchant_ids(n_keys, seed))
    rows = []
    for vnodes in vnode_counts:
        ring = HashRing([f"shard-{i}" for i in range(n_shards)], vnodes=vnodes)
        counts = np.bincount(ring.place(hashes), minlength=n_shards)
        rows.append({"vnodes": vnodes, "imbalance": round(float(counts.max() / counts.mean()), 4)})
    return rows


def merchant_volumes(n: int, *, exponent: float = 1.0) -> np.ndarray:
    """Share of all payments sent by each of ``n`` merchants, largest first (sums to 1).

    A Zipf-like curve: the merchant of rank ``r`` sends a share proportional to
    ``r ** -exponent``. With ``exponent=1`` and 10,000 merchants the largest sends about
    10% of all payments and the top 1% about half. Pair it with :func:`merchant_ids`,
    whose ids are random, so a merchant's rank says nothing about its hash.
    """
    if n < 1:
        raise ValidationError(f"n must be >= 1, got {n}", field="n")
    if exponent < 0:
        raise ValidationError(f"exponent must be >= 0, got {exponent}", field="exponent")
    weights = np.arange(1, n + 1, dtype=np.float64) ** -exponent
    return weights / weights.sum()


def split_hot_keys(
    keys: Sequence[str], weights: np.ndarray, *, top: int, parts: int
) -> tuple[list[str], np.ndarray]:
    """Split the ``top`` heaviest keys into ``parts`` sub-keys (``key#0``…) of equal weight.

    This is what "split hot merchants" means for placement: a large merchant's payments go
    to ``parts`` sub-keys (e.g. by a hash of the payment id), each placed on the ring on
    its own. The other keys are unchanged. The weights still sum to the same total.
    """
    if top < 0 or parts < 1:
        raise ValidationError("top must be >= 0 and parts >= 1", field="parts")
    weights = np.asarray(weights, dtype=np.float64)
    hot = set(np.argsort(-weights, kind="stable")[:top].tolist())
    out_keys: list[str] = []
    out_weights: list[float] = []
    for i, (key, weight) in enumerate(zip(keys, weights.tolist(), strict=True)):
        if i in hot:
            out_keys += [f"{key}#{j}" for j in range(parts)]
            out_weights += [weight / parts] * parts
        else:
            out_keys.append(key)
            out_weights.append(weight)
    return out_keys, np.array(out_weights)


def traffic_shares(ring: HashRing, keys: Sequence[str], weights: np.ndarray) -> np.ndarray:
    """Share of the total traffic each of the ring's shards receives (in ``ring.shards`` order)."""
    owners = ring.place(hash_keys(keys))
    load = np.bincount(owners, weights=np.asarray(weights, dtype=np.float64), minlength=len(ring))
    return load / load.sum()


def hot_shard_report(
    n_merchants: int = 10_000,
    n_shards: int = 16,
    *,
    exponent: float = 1.0,
    split_top: int = 20,
    split_parts: int = 16,
    n_payments: int = 200_000,
    vnodes: int = DEFAULT_VNODES,
    seed: int = 42,
) -> list[dict[str, float | str]]:
    """The hottest shard's share of traffic vs the mean (``1/n_shards``), three ways.

    * ``merchant id``: every merchant on one shard, traffic from :func:`merchant_volumes`;
    * ``hot merchants split``: the ``split_top`` largest split into ``split_parts`` sub-keys;
    * ``payment id``: ``n_payments`` payments drawn from the same volumes (seeded), each
      placed by its own id — balance up to sampling noise, but a merchant's payments are
      now on every shard.
    """
    ring = HashRing([f"shard-{i}" for i in range(n_shards)], vnodes=vnodes)
    ids = merchant_ids(n_merchants, seed)
    volumes = merchant_volumes(n_merchants, exponent=exponent)
    split_keys, split_weights = split_hot_keys(ids, volumes, top=split_top, parts=split_parts)
    payers = rng(seed, "sharding.payments").choice(n_merchants, size=n_payments, p=volumes)
    payment_keys = [f"{ids[m]}:pay_{i}" for i, m in enumerate(payers.tolist())]
    schemes = {
        "merchant id": traffic_shares(ring, ids, volumes),
        "hot merchants split": traffic_shares(ring, split_keys, split_weights),
        "payment id": traffic_shares(ring, payment_keys, np.ones(n_payments)),
    }
    return [
        {
            "shard by": name,
            "hottest shard": float(shares.max()),
            "mean shard": 1 / n_shards,
            "hottest / mean": float(shares.max() * n_shards),
        }
        for name, shares in schemes.items()
    ]
