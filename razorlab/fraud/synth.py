"""Synthetic card payments with fraud worth finding: an agent-based simulator.

Scenario: real fraud data is private, and public sets are either anonymised (ULB's
credit-card set: 284,807 payments, 0.172% fraud, PCA columns only) or have one giveaway
pattern (PaySim: ``amount == oldbalanceOrg`` finds 98% of its frauds; Lopez-Rojas et
al. 2016). So, like PaySim, we simulate agents: customers with homes, cards, devices,
habits by hour of day and favourite merchant categories; merchants by category; and
fraudsters running five attacks, each with its own signature:

- ``card_testing``: one device/IP tries many stolen cards with ₹1–₹10 payments in minutes;
- ``account_takeover``: a new device on a new IP in another city buys something big;
- ``velocity_burst``: one stolen card used 8–15 times within the hour;
- ``impossible_travel``: a cloned card pays far from where the owner just paid;
- ``merchant_collusion``: a colluding merchant refunds money to mule cards that never bought.

Design note: every random draw comes from a named stream of one seed
(``razorlab.rand``), so the same config gives the same frame, row for row. Amounts are
integer paise, times integer epoch seconds, and every fraud row carries the pattern
that produced it, so recall can be measured per attack. The fraud rate lands around
0.3–0.5% of payments, in line with ULB (0.17%) and PaySim (0.13%) rather than the
balanced toy sets that make every model look good.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from razorlab.clock import EPOCH_2026
from razorlab.fraud.geo import CITIES, CITY_DISTANCE_KM
from razorlab.fraud.transaction import MAX_TXN_PAISE, MODEL_CURRENCY, TXN_FIELDS
from razorlab.rand import DEFAULT_SEED, check_seed, rng

__all__ = ["SynthConfig", "simulate", "PATTERNS", "CATEGORIES", "IST_OFFSET_S"]

PATTERNS = (
    "card_testing",
    "account_takeover",
    "velocity_burst",
    "impossible_travel",
    "merchant_collusion",
)
#: (merchant category, median payment in rupees)
CATEGORIES = (
    ("grocery", 600),
    ("restaurant", 450),
    ("fuel", 1500),
    ("apparel", 1800),
    ("electronics", 9000),
    ("travel", 6000),
    ("utilities", 1200),
    ("digital_goods", 150),
    ("gift_cards", 2000),
)
IST_OFFSET_S = 19_800  # India Standard Time is UTC+05:30
DAY_S = 86_400
MINUTE_S = 60
#: Relative payment activity by IST hour of day: quiet nights, lunch and evening peaks.
HOUR_WEIGHTS = np.array(
    [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 10, 11, 13, 12, 10, 9, 9, 10, 12, 14, 15, 13, 9, 5], float
)
CITY_WEIGHTS = np.array([16, 16, 12, 9, 8, 9, 6, 6, 5, 5, 4, 4], float)
REFUND_DELAY_S = (DAY_S, 5 * DAY_S)  # a legitimate refund follows its purchase by 1-5 days


@dataclass(frozen=True)
class SynthConfig:
    """Size of the simulated world and how often each attack happens.

    Attack rates are incidents per 1,000 customers per day, so the fraud rate stays
    the same when the world grows.
    """

    n_customers: int = 2_000
    days: int = 30
    seed: int = DEFAULT_SEED
    start_ts: int = int(EPOCH_2026)
    txns_per_day: float = 1.6  # a typical customer's payments per day
    refund_rate: float = 0.015  # share of purchases later refunded honestly
    trip_rate: float = 0.15  # share of customers who travel (legitimately) once
    card_testing: float = 0.06
    account_takeover: float = 0.6
    velocity_burst: float = 0.15
    impossible_travel: float = 0.8
    collusive_refunds_per_day: float = 1.0  # per colluding merchant


class _World:
    """Ids handed out as the simulation creates customers, cards, devices and IPs."""

    def __init__(self, cfg: SynthConfig):
        self.cfg = cfg
        g = self.r("population")
        n = cfg.n_customers
        self.home = g.choice(len(CITIES), size=n, p=CITY_WEIGHTS / CITY_WEIGHTS.sum())
        self.n_cards = 1 + (g.random(n) < 0.25)
        self.first_card = np.concatenate([[0], np.cumsum(self.n_cards)[:-1]])
        self.card_owner = np.repeat(np.arange(n), self.n_cards)
        self.n_devices = 1 + (g.random(n) < 0.4)
        self.first_device = np.concatenate([[0], np.cumsum(self.n_devices)[:-1]])
        self.rate = cfg.txns_per_day * g.lognormal(0.0, 0.5, n)
        self.scale = g.lognormal(0.0, 0.4, n)
        self.taste = g.dirichlet(np.full(len(CATEGORIES), 0.6), n)
        self.shift = g.integers(-1, 3, n)
        n_merchants = max(3 * len(CATEGORIES), n // 10)
        self.merchant_cat = np.sort(g.integers(0, len(CATEGORIES), n_merchants))
        self.merchant_cat[: len(CATEGORIES)] = np.arange(len(CATEGORIES))  # every category exists
        self.merchant_cat.sort()
        self.next_card = int(self.n_cards.sum())
        self.next_device = int(self.n_devices.sum())
        self.next_ip = n  # customer c's home IP is c
        self.next_customer = n

    def r(self, stream: str) -> np.random.Generator:
        """The generator of one named part of the simulation (see ``razorlab.rand``)."""
        return rng(self.cfg.seed, f"fraud.synth.{stream}")

    def merchants_of(self, category: str) -> np.ndarray:
        idx = [c for c, _ in CATEGORIES].index(category)
        return np.flatnonzero(self.merchant_cat == idx)

    def new_ids(self, attr: str, k: int = 1) -> np.ndarray:
        start = getattr(self, attr)
        setattr(self, attr, start + k)
        return np.arange(start, start + k)

    def ts(self, day: np.ndarray, hour: np.ndarray, second: np.ndarray) -> np.ndarray:
        return self.cfg.start_ts + day * DAY_S + hour * 3600 + second - IST_OFFSET_S


def _rows(n: int, **cols: object) -> pd.DataFrame:
    return pd.DataFrame({k: np.broadcast_to(np.asarray(v), (n,)) for k, v in cols.items()})


def _legit(w: _World) -> pd.DataFrame:
    cfg, g = w.cfg, w.r("legit")
    counts = g.poisson(w.rate * cfg.days)
    cust = np.repeat(np.arange(cfg.n_customers), counts)
    n = len(cust)
    day = g.integers(0, cfg.days, n)
    hour = (g.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) + w.shift[cust]) % 24
    cat = (g.random(n)[:, None] > np.cumsum(w.taste[cust], axis=1)).sum(1)
    cat = np.minimum(cat, len(CATEGORIES) - 1)  # guards a cumulative sum of 0.99999…
    first = np.searchsorted(w.merchant_cat, cat, side="left")
    size = np.searchsorted(w.merchant_cat, cat, side="right") - first
    medians = np.array([m for _, m in CATEGORIES], float)[cat]
    rupees = medians * w.scale[cust] * g.lognormal(0.0, 0.6, n)
    df = _rows(
        n,
        ts=w.ts(day, hour, g.integers(0, 3600, n)),
        customer_id=cust,
        card_id=w.first_card[cust] + (g.random(n) < 0.3) * (w.n_cards[cust] - 1),
        device_id=w.first_device[cust] + (g.random(n) < 0.3) * (w.n_devices[cust] - 1),
        ip_id=cust,
        merchant_id=first + (g.random(n) * size).astype(np.int64),
        city=w.home[cust],
        amount_paise=np.clip(np.round(rupees * 100), 100, MAX_TXN_PAISE).astype(np.int64),
        kind="purchase",
    )
    # Honest travel: some customers spend a few days in another city, on a hotel IP.
    travellers = np.flatnonzero(g.random(cfg.n_customers) < cfg.trip_rate)
    for c in travellers:
        start, length = g.integers(1, cfg.days - 1), g.integers(2, 6)
        away = (cust == c) & (day >= start) & (day < start + length)
        df.loc[away, "city"] = (w.home[c] + g.integers(1, len(CITIES))) % len(CITIES)
        df.loc[away, "ip_id"] = w.new_ids("next_ip")[0]
    bought = df[g.random(n) < cfg.refund_rate]
    refunds = bought.assign(
        ts=bought["ts"] + g.integers(*REFUND_DELAY_S, len(bought)), kind="refund"
    )
    return pd.concat([df, refunds], ignore_index=True).assign(pattern="none")


def _incidents(w: _World, rate_per_1000: float, g: np.random.Generator) -> int:
    """Poisson number of attacks, at least one so every pattern can be measured."""
    return max(1, int(g.poisson(rate_per_1000 * w.cfg.n_customers / 1000 * w.cfg.days)))


def _start_times(w: _World, g: np.random.Generator, k: int) -> np.ndarray:
    """Attack start times after the first day, so victims already have some history."""
    return w.cfg.start_ts + g.integers(DAY_S, w.cfg.days * DAY_S - 3600, k)


def _card_testing(w: _World) -> list[pd.DataFrame]:
    g, out = w.r("card_testing"), []
    shops = w.merchants_of("digital_goods")
    for t0 in _start_times(w, g, _incidents(w, w.cfg.card_testing, g)):
        cards = g.choice(len(w.card_owner), g.integers(8, 25), replace=False)
        cards = np.repeat(cards, 1 + (g.random(len(cards)) < 0.4))
        n = len(cards)
        out.append(
            _rows(
                n,
                ts=t0 + np.cumsum(g.integers(3, 30, n)),
                customer_id=w.card_owner[cards],
                card_id=cards,
                device_id=w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=g.choice(shops),
                city=g.integers(0, len(CITIES)),
                amount_paise=g.integers(100, 1_001, n),
                kind="purchase",
                pattern="card_testing",
            )
        )
    return out


def _account_takeover(w: _World) -> list[pd.DataFrame]:
    g, out = w.r("account_takeover"), []
    shops = np.concatenate([w.merchants_of("electronics"), w.merchants_of("gift_cards")])
    for t0 in _start_times(w, g, _incidents(w, w.cfg.account_takeover, g)):
        c = g.integers(0, w.cfg.n_customers)
        n = int(g.integers(1, 4))
        rupees = 9_000 * w.scale[c] * g.uniform(1.5, 4.0, n)
        out.append(
            _rows(
                n,
                ts=t0 + np.cumsum(g.integers(2 * MINUTE_S, 15 * MINUTE_S, n)),
                customer_id=c,
                card_id=w.first_card[c],
                device_id=w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=g.choice(shops, n),
                city=(w.home[c] + g.integers(1, len(CITIES))) % len(CITIES),
                amount_paise=np.minimum(np.round(rupees * 100), MAX_TXN_PAISE).astype(np.int64),
                kind="purchase",
                pattern="account_takeover",
            )
        )
    return out


def _velocity_burst(w: _World) -> list[pd.DataFrame]:
    g, out = w.r("velocity_burst"), []
    shops = np.concatenate(
        [w.merchants_of(c) for c in ("gift_cards", "electronics", "digital_goods", "apparel")]
    )
    for t0 in _start_times(w, g, _incidents(w, w.cfg.velocity_burst, g)):
        card = g.integers(0, len(w.card_owner))
        n = int(g.integers(8, 16))
        out.append(
            _rows(
                n,
                ts=t0 + np.cumsum(g.integers(MINUTE_S, 6 * MINUTE_S, n)),
                customer_id=w.card_owner[card],
                card_id=card,
                device_id=w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=g.choice(shops, n),
                city=w.home[w.card_owner[card]],
                amount_paise=g.integers(50_000, 400_000, n),
                kind="purchase",
                pattern="velocity_burst",
            )
        )
    return out


def _impossible_travel(w: _World, legit: pd.DataFrame) -> list[pd.DataFrame]:
    g, out = w.r("impossible_travel"), []
    shops = np.concatenate([w.merchants_of(c) for c in ("electronics", "apparel", "travel")])
    honest = legit[(legit["kind"] == "purchase") & (legit["ts"] > w.cfg.start_ts + DAY_S)]
    picks = honest.iloc[g.choice(len(honest), _incidents(w, w.cfg.impossible_travel, g), False)]
    for row in picks.itertuples(index=False):
        far = [c for c in range(len(CITIES)) if CITY_DISTANCE_KM[row.city][c] > 800]
        n = int(g.integers(1, 3))
        own_device = g.random() < 0.5  # a stolen session keeps the owner's device id
        out.append(
            _rows(
                n,
                ts=row.ts + np.cumsum(g.integers(10 * MINUTE_S, 90 * MINUTE_S, n)),
                customer_id=row.customer_id,
                card_id=row.card_id,
                device_id=row.device_id if own_device else w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=g.choice(shops, n),
                city=g.choice(far),
                amount_paise=g.integers(200_000, 1_500_000, n),
                kind="purchase",
                pattern="impossible_travel",
            )
        )
    return out


def _merchant_collusion(w: _World) -> list[pd.DataFrame]:
    g, out = w.r("merchant_collusion"), []
    shops = np.concatenate([w.merchants_of("apparel"), w.merchants_of("electronics")])
    for m in g.choice(shops, max(1, w.cfg.n_customers // 1000), replace=False):
        mules = w.new_ids("next_customer", 10)
        cards = w.new_ids("next_card", 10)
        devices = w.new_ids("next_device", 10)
        ips = w.new_ids("next_ip", 10)
        n = int(g.poisson(w.cfg.collusive_refunds_per_day * (w.cfg.days - 1)))
        who = g.integers(0, 10, n)
        day = g.integers(1, w.cfg.days, n)
        out.append(
            _rows(
                n,
                ts=w.ts(day, g.integers(10, 22, n), g.integers(0, 3600, n)),
                customer_id=mules[who],
                card_id=cards[who],
                device_id=devices[who],
                ip_id=ips[who],
                merchant_id=m,
                city=g.integers(0, len(CITIES), 10)[who],
                amount_paise=g.integers(300_000, 2_500_000, n),
                kind="refund",
                pattern="merchant_collusion",
            )
        )
    return out


def simulate(config: SynthConfig | None = None) -> pd.DataFrame:
    """Simulate ``config.days`` of payments; one row per payment, in stream order.

    Columns: the transaction fields (``TXN_FIELDS``), ``category`` of the merchant,
    ``is_fraud`` (0/1) and ``pattern`` ("none" or one of ``PATTERNS``).
    """
    cfg = config or SynthConfig()
    check_seed(cfg.seed)
    if cfg.n_customers < 50 or cfg.days < 3:
        raise ValueError("simulate needs at least 50 customers and 3 days")
    w = _World(cfg)
    legit = _legit(w)
    parts = [
        legit,
        *_card_testing(w),
        *_account_takeover(w),
        *_velocity_burst(w),
        *_impossible_travel(w, legit),
        *_merchant_collusion(w),
    ]
    df = pd.concat(parts, ignore_index=True)
    df = df[df["ts"] < cfg.start_ts + cfg.days * DAY_S - IST_OFFSET_S]
    df = df.sort_values("ts", kind="stable").reset_index(drop=True)
    for col in TXN_FIELDS[1:9]:
        df[col] = df[col].astype(np.int64)
    df.insert(0, "txn_id", np.arange(len(df), dtype=np.int64))
    df.insert(9, "currency", MODEL_CURRENCY)
    df["kind"] = df["kind"].astype(str)
    df["category"] = np.array([c for c, _ in CATEGORIES])[w.merchant_cat[df["merchant_id"]]]
    df["is_fraud"] = (df["pattern"] != "none").astype(np.int8)
    return df[[*TXN_FIELDS, "category", "is_fraud", "pattern"]]
