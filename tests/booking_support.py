"""What the SQLite-schema tests of the booking store share: a store with one show, raw SQL."""

from __future__ import annotations

import pytest

from razorlab.social.booking import SqliteSeatStore
from razorlab.social.booking.simulation import popular_show


@pytest.fixture(name="store")
async def store_fixture(tmp_path):
    """A SQLite seat store on a file, with show ``s1``."""
    s = await SqliteSeatStore.open(str(tmp_path / "tickets.db"))
    await s.add_show(popular_show("s1"))
    yield s
    await s.close()


async def raw(store, sql, *args):
    """SQL straight to the database, past every check in the store's code."""
    await store._db.execute(sql, args)
