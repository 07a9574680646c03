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

That default world keeps giveaways on purpose (the chapter shows them): an amount of
₹10 or less is nearly always card testing, a refund to a card with no purchases nearly
always collusion, and nothing changes over the month. ``SynthConfig.hard()`` turns on
what real data has instead (each switch defaults to off, so the default world is
unchanged row for row):

- ``micro_share``: honest ₹1–₹30 digital payments (app stores, game top-ups), some in
  quick sessions, overlapping card testing's amounts;
- ``churn``: honest payments from a fresh carrier IP or a shared computer, sessions of
  micro-payments on another device, and customers who change phones;
- ``family_share``: a card also used by family in another city (a student away from
  home), so "impossible" travel is sometimes honest; plus more honest trips;
- ``imitate``: attackers copy normal behaviour: card testers pace themselves and rotate
  IPs, takeovers buy what and about as much as the victim usually does, mules are
  recruited customers with their own purchase history, collusive refunds look like
  ordinary returns, and honest refunds of purchases from before the window exist;
- ``drift_day``: from that day on, a behaviour shift (a festive sale lifts honest
  amounts and digital micro-payments) and a new attack (card testing starts only then).

Seasonality beyond the hour of day is one more switch, off by default and in ``hard()``:
``weekly`` makes Saturdays and Sundays ``1 + weekly`` times as busy and, on them, leisure
shopping (restaurants, apparel, electronics, travel) ``1 + weekly`` times as likely, so
volume and mix both move with the day of the week.

Design note: every random draw comes from a named stream of one seed
(``razorlab.rand``), so the same config gives the same frame, row for row. Amounts are
integer paise, times integer epoch seconds, and every fraud row carries the pattern
that produced it, so recall can be measured per attack. The default world starts about
8 attacks a day per 2,000 customers (3 takeovers, 4 clones, 0.3 bursts, 0.3 card-testing
runs; 4 colluding merchants refunding to 10 mules each), enough for 60-70 incidents in a
30-day world's test period (its last 6 days), not the dozen or two that made one seed's
AUPRC a coin toss. The fraud rate lands around 0.55–0.8% of payments (about 0.27% in the
hard world, which keeps the old, rarer attack rates), rare as in ULB (0.17%) and PaySim
(0.13%), not the balanced toy sets that make every model look good.
``incident`` numbers each attack (one burst, one takeover, one mule's refunds), so a
bootstrap can resample incidents rather than rows. Each hard-world switch draws from
its own stream or only inside its own branch, so a switch left off leaves every draw, and
so every frame, as it was without it.
"""

from __future__ import annotations

import time
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
#: What people buy more of at weekends (the ``weekly`` seasonality's shift of the mix).
LEISURE = np.array([c in {"restaurant", "apparel", "electronics", "travel"} for c, _ in CATEGORIES])


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
    card_testing: float = 0.15
    account_takeover: float = 1.5
    velocity_burst: float = 0.15
    impossible_travel: float = 2.0
    colluding_merchants: float = 2.0  # per 1,000 customers (at least one)
    collusive_refunds_per_day: float = 1.0  # per colluding merchant
    # --- the hard world: every switch off by default (see the module docstring) ---
    micro_share: float = 0.0  # customers who also make ₹1–₹30 digital payments
    churn: float = 0.0  # share of honest payments from a fresh IP; of customers changing phone
    family_share: float = 0.0  # customers whose card family also uses in another city
    imitate: bool = False  # attackers copy normal amounts, shops, pace; mules have history
    drift_day: int | None = None  # a behaviour shift and a new attack (card testing) from here
    weekly: float = 0.0  # weekend lift: Saturday and Sunday volume, and leisure shopping, x(1+w)

    @classmethod
    def hard(cls, **overrides: object) -> SynthConfig:
        """A world without giveaways, with drift: big enough for >= 50 test incidents."""
        params: dict = dict(
            n_customers=4_000,
            days=40,
            trip_rate=0.3,
            card_testing=0.12,
            account_takeover=0.6,  # the hard world keeps the rarer attacks it was built with
            impossible_travel=0.8,
            colluding_merchants=1.0,
            micro_share=0.25,
            churn=0.1,
            family_share=0.05,
            imitate=True,
            drift_day=26,
        )
        return cls(**{**params, **overrides})


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
        self.next_incident = 0

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


def _usual_rupees(
    w: _World, g: np.random.Generator, cust: np.ndarray, weekend: np.ndarray | None = None
):
    """Merchant categories and amounts (₹) drawn by each customer's own habits; at the
    ``weekend`` rows (if given), leisure categories are ``1 + weekly`` times as likely."""
    n = len(cust)
    taste = w.taste[cust]
    if weekend is not None:
        taste = taste * np.where(weekend[:, None] & LEISURE, 1 + w.cfg.weekly, 1.0)
        taste /= taste.sum(axis=1, keepdims=True)
    cat = (g.random(n)[:, None] > np.cumsum(taste, axis=1)).sum(1)
    cat = np.minimum(cat, len(CATEGORIES) - 1)  # guards a cumulative sum of 0.99999…
    medians = np.array([m for _, m in CATEGORIES], float)[cat]
    return cat, medians * w.scale[cust] * g.lognormal(0.0, 0.6, n)


def _shop(w: _World, cat: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A merchant of each category ``cat``, picked by uniforms ``u`` in [0, 1)."""
    first = np.searchsorted(w.merchant_cat, cat, side="left")
    size = np.searchsorted(w.merchant_cat, cat, side="right") - first
    return first + (u * size).astype(np.int64)


def _paise(rupees: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(rupees) * 100), 100, MAX_TXN_PAISE).astype(np.int64)


def _legit(w: _World) -> pd.DataFrame:
    cfg, g = w.cfg, w.r("legit")
    counts = g.poisson(w.rate * cfg.days)
    cust = np.repeat(np.arange(cfg.n_customers), counts)
    n = len(cust)
    weekend = None
    if cfg.weekly > 0:  # a weekend day is 1 + weekly times as busy (only this branch draws so)
        weekend = _is_weekend(cfg, np.arange(cfg.days))
        lift = 1 + cfg.weekly * weekend
        day = g.choice(cfg.days, size=n, p=lift / lift.sum())
        weekend = weekend[day]
    else:
        day = g.integers(0, cfg.days, n)
    hour = (g.choice(24, size=n, p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum()) + w.shift[cust]) % 24
    cat, rupees = _usual_rupees(w, g, cust, weekend)
    df = _rows(
        n,
        ts=w.ts(day, hour, g.integers(0, 3600, n)),
        customer_id=cust,
        card_id=w.first_card[cust] + (g.random(n) < 0.3) * (w.n_cards[cust] - 1),
        device_id=w.first_device[cust] + (g.random(n) < 0.3) * (w.n_devices[cust] - 1),
        ip_id=cust,
        merchant_id=_shop(w, cat, g.random(n)),
        city=w.home[cust],
        amount_paise=_paise(rupees),
        kind="purchase",
    )
    # Honest travel: some customers spend a few days in another city, on a hotel IP.
    travellers = np.flatnonzero(g.random(cfg.n_customers) < cfg.trip_rate)
    start, end = np.zeros(cfg.n_customers, np.int64), np.zeros(cfg.n_customers, np.int64)
    city, ip = w.home.copy(), np.arange(cfg.n_customers)
    for c in travellers:  # one trip each; draws in this order keep old seeds' worlds
        start[c] = g.integers(1, cfg.days - 1)
        end[c] = start[c] + g.integers(2, 6)
        city[c] = (w.home[c] + g.integers(1, len(CITIES))) % len(CITIES)
        ip[c] = w.new_ids("next_ip")[0]
    away = (day >= start[cust]) & (day < end[cust])
    df.loc[away, "city"], df.loc[away, "ip_id"] = city[cust[away]], ip[cust[away]]
    bought = df[g.random(n) < cfg.refund_rate]
    refunds = bought.assign(
        ts=bought["ts"] + g.integers(*REFUND_DELAY_S, len(bought)), kind="refund"
    )
    return pd.concat([df, refunds], ignore_index=True).assign(pattern="none")


def _is_weekend(cfg: SynthConfig, day: np.ndarray) -> np.ndarray:
    """Whether window day ``day`` is a Saturday or Sunday (day 0 is the date of ``start_ts``)."""
    return (time.gmtime(cfg.start_ts).tm_wday + np.asarray(day)) % 7 >= 5


def _day_of(w: _World, ts: np.ndarray) -> np.ndarray:
    """Day index (IST) of epoch seconds ``ts`` within the window."""
    return (np.asarray(ts) - w.cfg.start_ts + IST_OFFSET_S) // DAY_S


def _micro_payments(w: _World) -> pd.DataFrame:
    """Honest ₹1–₹30 digital payments in sessions of 1–4, twice as often after the drift."""
    cfg, g = w.cfg, w.r("micro")
    users = np.flatnonzero(g.random(cfg.n_customers) < cfg.micro_share)
    cust = np.repeat(users, g.poisson(0.3 * cfg.days, len(users)))
    day = g.integers(0, cfg.days, len(cust))
    if cfg.drift_day is not None:
        keep = (day >= cfg.drift_day) | (g.random(len(cust)) < 0.5)
        cust, day = cust[keep], day[keep]
    hour = g.choice(24, size=len(cust), p=HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    start = w.ts(day, hour, g.integers(0, 3600, len(cust)))
    size = g.integers(1, 5, len(cust))
    n = int(size.sum())
    nth = np.arange(n) - np.repeat(np.cumsum(size) - size, size)  # index within the session
    c = np.repeat(cust, size)
    fresh = g.random(len(cust)) < 0.3  # a session on another device (a new app, a shared PC)
    device = np.where(fresh, w.new_ids("next_device", len(cust)), w.first_device[cust])
    return _rows(
        n,
        ts=np.repeat(start, size) + nth * g.integers(20, 300, n),
        customer_id=c,
        card_id=w.first_card[c],
        device_id=np.repeat(device, size),
        ip_id=c,
        merchant_id=g.choice(w.merchants_of("digital_goods"), n),
        city=w.home[c],
        amount_paise=_paise(10 * g.lognormal(0.0, 0.7, n).clip(0.1, 3.0)),
        kind="purchase",
        pattern="none",
    )


def _orphan_refunds(w: _World) -> pd.DataFrame:
    """Honest refunds in the first days of purchases made before the window began."""
    cfg, g = w.cfg, w.r("orphans")
    cust = np.repeat(
        np.arange(cfg.n_customers), g.poisson(w.rate * cfg.refund_rate * REFUND_DELAY_S[1] / DAY_S)
    )
    n = len(cust)
    cat, rupees = _usual_rupees(w, g, cust)
    return _rows(
        n,
        ts=cfg.start_ts + g.integers(0, REFUND_DELAY_S[1], n),
        customer_id=cust,
        card_id=w.first_card[cust],
        device_id=w.first_device[cust],
        ip_id=cust,
        merchant_id=_shop(w, cat, g.random(n)),
        city=w.home[cust],
        amount_paise=_paise(rupees),
        kind="refund",
        pattern="none",
    )


def _honest_noise(w: _World, legit: pd.DataFrame) -> pd.DataFrame:
    """Churned IPs and phones, family use in another city, and the drift's festive sale."""
    cfg, g = w.cfg, w.r("honest_noise")
    n, cust = len(legit), legit["customer_id"].to_numpy()
    day = _day_of(w, legit["ts"].to_numpy())
    ip, device = legit["ip_id"].to_numpy().copy(), legit["device_id"].to_numpy().copy()
    city, amount = legit["city"].to_numpy().copy(), legit["amount_paise"].to_numpy().copy()
    fresh = g.random(n) < cfg.churn  # a carrier hands out a new IP
    ip[fresh] = w.new_ids("next_ip", int(fresh.sum()))
    shared = g.random(n) < cfg.churn / 2  # a cyber café or office PC many customers use
    pool = w.new_ids("next_device", max(5, cfg.n_customers // 200))
    device[shared] = g.choice(pool, int(shared.sum()))
    changer = g.random(cfg.n_customers) < cfg.churn  # a new phone from some day on
    phone = np.zeros(cfg.n_customers, np.int64)
    phone[changer] = w.new_ids("next_device", int(changer.sum()))
    new_phone = changer[cust] & (day >= g.integers(1, cfg.days, cfg.n_customers)[cust])
    device[new_phone] = phone[cust[new_phone]]
    family = g.random(cfg.n_customers) < cfg.family_share  # a student's card, used at home
    k = int(family.sum())
    away = (w.home + g.integers(1, len(CITIES), cfg.n_customers)) % len(CITIES)
    fam_ip, fam_dev = np.zeros(cfg.n_customers, np.int64), np.zeros(cfg.n_customers, np.int64)
    fam_ip[family], fam_dev[family] = w.new_ids("next_ip", k), w.new_ids("next_device", k)
    used = family[cust] & (g.random(n) < 0.35)
    city[used], ip[used], device[used] = away[cust[used]], fam_ip[cust[used]], fam_dev[cust[used]]
    if cfg.drift_day is not None:  # a festive sale: honest baskets a third larger
        sale = day >= cfg.drift_day
        amount[sale] = _paise(amount[sale] * 1.35 / 100)
    return legit.assign(ip_id=ip, device_id=device, city=city, amount_paise=amount)


def _incidents(w: _World, rate_per_1000: float, g: np.random.Generator, days: int) -> int:
    """Poisson number of attacks in ``days``, at least one so every pattern can be measured."""
    return max(1, int(g.poisson(rate_per_1000 * w.cfg.n_customers / 1000 * days)))


def _start_times(w: _World, g: np.random.Generator, rate_per_1000: float, first_day: int = 1):
    """Attack start times from ``first_day`` on (default: after the first day, so victims
    already have some history)."""
    k = _incidents(w, rate_per_1000, g, w.cfg.days - first_day + 1)
    return w.cfg.start_ts + g.integers(first_day * DAY_S, w.cfg.days * DAY_S - 3600, k)


def _incident(w: _World, k: int = 1) -> np.ndarray:
    return w.new_ids("next_incident", k)


def _card_testing(w: _World) -> list[pd.DataFrame]:
    g, out, cfg = w.r("card_testing"), [], w.cfg
    shops = w.merchants_of("digital_goods")
    first_day = 1 if cfg.drift_day is None else cfg.drift_day  # the new attack of the drift
    for t0 in _start_times(w, g, cfg.card_testing, first_day):
        cards = g.choice(len(w.card_owner), g.integers(8, 25), replace=False)
        cards = np.repeat(cards, 1 + (g.random(len(cards)) < 0.4))
        n = len(cards)
        if cfg.imitate:  # slow, a fresh IP and device every three tries, honest-looking amounts
            every3 = np.arange(n) // 3
            ips, devices = w.new_ids("next_ip", n)[every3], w.new_ids("next_device", n)[every3]
            gaps, shop = g.integers(20, 240, n), g.choice(shops, n)
        else:
            ips, devices = w.new_ids("next_ip")[0], w.new_ids("next_device")[0]
            gaps, shop = g.integers(3, 30, n), g.choice(shops)
        city = g.integers(0, len(CITIES))
        if cfg.imitate:
            amount = _paise(10 * g.lognormal(0.0, 0.7, n).clip(0.1, 3.0))
        else:
            amount = g.integers(100, 1_001, n)
        out.append(
            _rows(
                n,
                ts=t0 + np.cumsum(gaps),
                customer_id=w.card_owner[cards],
                card_id=cards,
                device_id=devices,
                ip_id=ips,
                merchant_id=shop,
                city=city,
                amount_paise=amount,
                kind="purchase",
                pattern="card_testing",
                incident=_incident(w)[0],
            )
        )
    return out


def _account_takeover(w: _World) -> list[pd.DataFrame]:
    g, out = w.r("account_takeover"), []
    shops = np.concatenate([w.merchants_of("electronics"), w.merchants_of("gift_cards")])
    for t0 in _start_times(w, g, w.cfg.account_takeover):
        c = g.integers(0, w.cfg.n_customers)
        n = int(g.integers(1, 4))
        if w.cfg.imitate:  # the victim's kind of shop, 1-3x the victim's usual, often a local proxy
            cat, usual = _usual_rupees(w, g, np.full(n, c))
            rupees = usual * g.uniform(1.0, 3.0, n)
        else:
            rupees = 9_000 * w.scale[c] * g.uniform(1.5, 4.0, n)
        ts = t0 + np.cumsum(g.integers(2 * MINUTE_S, 15 * MINUTE_S, n))
        if w.cfg.imitate:
            shop = [g.choice(w.merchants_of(CATEGORIES[k][0])) for k in cat]
        else:
            shop = g.choice(shops, n)
        city = (w.home[c] + g.integers(1, len(CITIES))) % len(CITIES)
        if w.cfg.imitate and g.random() < 0.6:
            city = w.home[c]
        out.append(
            _rows(
                n,
                ts=ts,
                customer_id=c,
                card_id=w.first_card[c],
                device_id=w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=shop,
                city=city,
                amount_paise=np.minimum(np.round(rupees * 100), MAX_TXN_PAISE).astype(np.int64),
                kind="purchase",
                pattern="account_takeover",
                incident=_incident(w)[0],
            )
        )
    return out


def _velocity_burst(w: _World) -> list[pd.DataFrame]:
    g, out = w.r("velocity_burst"), []
    shops = np.concatenate(
        [w.merchants_of(c) for c in ("gift_cards", "electronics", "digital_goods", "apparel")]
    )
    for t0 in _start_times(w, g, w.cfg.velocity_burst):
        card = g.integers(0, len(w.card_owner))
        if w.cfg.imitate:  # fewer, slower, smaller: ₹200–₹3,000 every 5–40 minutes
            n = int(g.integers(4, 10))
            gaps = g.integers(5, 40, n) * MINUTE_S
        else:
            n = int(g.integers(8, 16))
            gaps = g.integers(MINUTE_S, 6 * MINUTE_S, n)
        shop = g.choice(shops, n)
        if w.cfg.imitate:
            amount = g.integers(20_000, 300_000, n)
        else:
            amount = g.integers(50_000, 400_000, n)
        out.append(
            _rows(
                n,
                ts=t0 + np.cumsum(gaps),
                customer_id=w.card_owner[card],
                card_id=card,
                device_id=w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=shop,
                city=w.home[w.card_owner[card]],
                amount_paise=amount,
                kind="purchase",
                pattern="velocity_burst",
                incident=_incident(w)[0],
            )
        )
    return out


def _impossible_travel(w: _World, legit: pd.DataFrame) -> list[pd.DataFrame]:
    g, out, cfg = w.r("impossible_travel"), [], w.cfg
    shops = np.concatenate([w.merchants_of(c) for c in ("electronics", "apparel", "travel")])
    honest = legit[(legit["kind"] == "purchase") & (legit["ts"] > cfg.start_ts + DAY_S)]
    k = _incidents(w, cfg.impossible_travel, g, cfg.days)
    picks = honest.iloc[g.choice(len(honest), k, False)]
    for row in picks.itertuples(index=False):
        far = [c for c in range(len(CITIES)) if CITY_DISTANCE_KM[row.city][c] > 800]
        n = int(g.integers(1, 3))
        own_device = g.random() < 0.5  # a stolen session keeps the owner's device id
        if cfg.imitate:  # an hour to six after the owner
            gaps = g.integers(60, 360, n) * MINUTE_S
        else:
            gaps = g.integers(10 * MINUTE_S, 90 * MINUTE_S, n)
        shop, city = g.choice(shops, n), g.choice(far)
        if cfg.imitate:  # about what an ordinary customer spends (median ₹3,000)
            amount = _paise(g.lognormal(8.0, 0.7, n))
        else:
            amount = g.integers(200_000, 1_500_000, n)
        out.append(
            _rows(
                n,
                ts=row.ts + np.cumsum(gaps),
                customer_id=row.customer_id,
                card_id=row.card_id,
                device_id=row.device_id if own_device else w.new_ids("next_device")[0],
                ip_id=w.new_ids("next_ip")[0],
                merchant_id=shop,
                city=city,
                amount_paise=amount,
                kind="purchase",
                pattern="impossible_travel",
                incident=_incident(w)[0],
            )
        )
    return out


def _merchant_collusion(w: _World) -> list[pd.DataFrame]:
    g, out, cfg = w.r("merchant_collusion"), [], w.cfg
    shops = np.concatenate([w.merchants_of("apparel"), w.merchants_of("electronics")])
    n_colluders = max(1, int(cfg.colluding_merchants * cfg.n_customers // 1000))
    for m in g.choice(shops, n_colluders, replace=False):
        n = int(g.poisson(cfg.collusive_refunds_per_day * (cfg.days - 1)))
        who = g.integers(0, 10, n)
        day = g.integers(1, cfg.days, n)
        ts = w.ts(day, g.integers(10, 22, n), g.integers(0, 3600, n))
        if cfg.imitate:  # recruited customers, with their own cards and purchase history
            mules = g.choice(cfg.n_customers, 10, replace=False)
            cards, devices, ips, cities = (
                w.first_card[mules],
                w.first_device[mules],
                mules,
                w.home[mules],
            )
            median = [m_ for c, m_ in CATEGORIES if c == CATEGORIES[w.merchant_cat[m]][0]][0]
            amount = _paise(median * g.lognormal(0.3, 0.6, n))
        else:
            mules = w.new_ids("next_customer", 10)
            cards, devices = w.new_ids("next_card", 10), w.new_ids("next_device", 10)
            ips, cities = w.new_ids("next_ip", 10), g.integers(0, len(CITIES), 10)
            amount = g.integers(300_000, 2_500_000, n)
        out.append(
            _rows(
                n,
                ts=ts,
                customer_id=mules[who],
                card_id=cards[who],
                device_id=devices[who],
                ip_id=ips[who],
                merchant_id=m,
                city=cities[who],
                amount_paise=amount,
                kind="refund",
                pattern="merchant_collusion",
                incident=_incident(w, 10)[who],
            )
        )
    return out


def simulate(config: SynthConfig | None = None) -> pd.DataFrame:
    """Simulate ``config.days`` of payments; one row per payment, in stream order.

    Columns: the transaction fields (``TXN_FIELDS``), ``category`` of the merchant,
    ``is_fraud`` (0/1), ``pattern`` ("none" or one of ``PATTERNS``) and ``incident``
    (-1 for honest payments, else the number of the attack the payment belongs to).
    """
    cfg = config or SynthConfig()
    check_seed(cfg.seed)
    if cfg.n_customers < 50 or cfg.days < 3:
        raise ValueError("simulate needs at least 50 customers and 3 days")
    if cfg.drift_day is not None and not 1 <= cfg.drift_day < cfg.days:
        raise ValueError("drift_day must fall inside the window (1 <= drift_day < days)")
    if cfg.weekly < 0:
        raise ValueError("weekly must be >= 0 (0: every day alike)")
    w = _World(cfg)
    legit = _legit(w)
    if cfg.micro_share > 0:
        legit = pd.concat([legit, _micro_payments(w)], ignore_index=True)
    if cfg.imitate:
        legit = pd.concat([legit, _orphan_refunds(w)], ignore_index=True)
    if cfg.churn > 0 or cfg.family_share > 0 or cfg.drift_day is not None:
        legit = _honest_noise(w, legit)
    parts = [
        legit.assign(incident=-1),
        *_card_testing(w),
        *_account_takeover(w),
        *_velocity_burst(w),
        *_impossible_travel(w, legit),
        *_merchant_collusion(w),
    ]
    df = pd.concat(parts, ignore_index=True)
    df = df[df["ts"] < cfg.start_ts + cfg.days * DAY_S - IST_OFFSET_S]
    df = df.sort_values("ts", kind="stable").reset_index(drop=True)
    for col in (*TXN_FIELDS[1:9], "incident"):
        df[col] = df[col].astype(np.int64)
    df.insert(0, "txn_id", np.arange(len(df), dtype=np.int64))
    df.insert(9, "currency", MODEL_CURRENCY)
    df["kind"] = df["kind"].astype(str)
    df["category"] = np.array([c for c, _ in CATEGORIES])[w.merchant_cat[df["merchant_id"]]]
    df["is_fraud"] = (df["pattern"] != "none").astype(np.int8)
    return df[[*TXN_FIELDS, "category", "is_fraud", "pattern", "incident"]]
