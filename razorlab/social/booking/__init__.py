"""Ticketing (BookMyShow scenario): seat holds that never sell a seat twice.

* :mod:`~razorlab.social.booking.models` — theatres, shows, seat maps, holds, typed errors;
* :mod:`~razorlab.social.booking.service` — hold → pay → confirm, or roll back;
* :mod:`~razorlab.social.booking.memory_store` and :mod:`~razorlab.social.booking.sqlite_store`
  — the two seat stores (the SQLite schema itself forbids a double booking);
* :mod:`~razorlab.social.booking.redis_holds` — seat holds on a real Redis (one Lua script,
  fencing tokens) in front of the SQLite record (imported on demand: needs ``redis``);
* :mod:`~razorlab.social.booking.redis_race` — the seed's GET-then-SET race on a real Redis;
* :mod:`~razorlab.social.booking.payments` — the payment port and a simulated gateway;
* :mod:`~razorlab.social.booking.reconciler` — durable payment attempts finished after a
  crash: confirm if the seats are still the user's, refund otherwise;
* :mod:`~razorlab.social.booking.api` — the HTTP API (aiohttp), with the gateway's error
  contract (imported on demand);
* :mod:`~razorlab.social.booking.ledger_payments` — the simulated gateway with its ledger in
  its own SQLite file, so captured money outlives a killed server;
* :mod:`~razorlab.social.booking.commands` — ``razorlab serve-booking``: the API as a process,
  reconciling at start and periodically (imported on demand);
* :mod:`~razorlab.social.booking.crash_drill` — the chapter's kill-after-charge drill;
* :mod:`~razorlab.social.booking.naive_locks` — the seed's per-seat Redis locking, to show
  its bugs;
* :mod:`~razorlab.social.booking.seed_faults` — the seed's flow when Redis fails or a payment
  outlives the lock, next to this engine's;
* :mod:`~razorlab.social.booking.simulation` — the opening-minute rush and an hour of sales;
* :mod:`~razorlab.social.booking.plots` — the chapter's figures (imported on demand: plotly).
"""

from razorlab.social.booking import service as _service
from razorlab.social.booking.service import *  # noqa: F403  (its __all__ is the curated list)
from razorlab.social.booking.simulation import rush, simulate_hour

__all__ = [*_service.__all__, "rush", "simulate_hour"]
