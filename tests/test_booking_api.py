"""The ticketing engine's public names exist, and both stores offer the same interface."""

import inspect

import razorlab.social.booking as booking
from razorlab.clock import EPOCH_2026
from razorlab.money import Money
from razorlab.social.booking import (
    MemorySeatStore,
    Screen,
    SeatCategory,
    SeatStore,
    Show,
    SqliteSeatStore,
    Theatre,
    build_seat_map,
)


def test_every_public_name_is_defined():
    missing = [name for name in booking.__all__ if not hasattr(booking, name)]
    assert missing == []


def test_both_stores_implement_the_seat_store_interface_with_the_same_signatures():
    methods = [n for n, v in vars(SeatStore).items() if inspect.iscoroutinefunction(v)]
    assert {"hold", "release", "confirm", "sweep", "claims"} <= set(methods)
    for name in methods:
        want = list(inspect.signature(getattr(SeatStore, name)).parameters)
        for store in (MemorySeatStore, SqliteSeatStore):
            got = list(inspect.signature(getattr(store, name)).parameters)
            assert got == want, f"{store.__name__}.{name} takes {got}, interface says {want}"


def test_a_theatre_screen_seat_map_becomes_a_priced_show():
    seats = build_seat_map(
        3,
        4,
        [(SeatCategory("recliner", Money.of(500)), 1), (SeatCategory("classic", Money.of(150)), 2)],
    )
    theatre = Theatre("pvr-juhu", "Mumbai", (Screen("audi-1", seats),))
    show = Show("juhu-2100", "Night show", EPOCH_2026, theatre.screens[0].seats)
    assert show.seat("C1").category == "recliner", "the back row is the dearest"
    assert show.price_of(["A1", "C1"]) == Money.of(650)
