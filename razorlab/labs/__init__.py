"""Labs: the learner builds the system; a checker attacks it with faults and concurrency.

``razorlab.labs.check(MyPayments, lab="payments", runs=200, seed=0)`` runs a learner's class
through a deterministic simulation (seeded scheduler, virtual time, a durable store whose
durability point the harness owns, a simulated bank, a lossy network, crashes and
restarts), judges each run's history with named invariants, and when one breaks, shrinks
the run to a short counterexample it prints and draws (``verdict.figure()``).

The pieces, one idea per module: :mod:`~razorlab.labs.loop` (the seeded event loop),
:mod:`~razorlab.labs.store`, :mod:`~razorlab.labs.bank`, :mod:`~razorlab.labs.harness`
(network, clients, crashes), :mod:`~razorlab.labs.history`, :mod:`~razorlab.labs.plan`,
:mod:`~razorlab.labs.invariants`, :mod:`~razorlab.labs.shrink`, :mod:`~razorlab.labs.check`;
the payments lab's interface is in :mod:`~razorlab.labs.payments`, its reference answer in
:mod:`~razorlab.labs.payments_reference` and the seed's design in
:mod:`~razorlab.labs.payments_seed`. The seat-holds lab (``check(MySeats, lab="seats")``)
has its interface in :mod:`~razorlab.labs.seats`, its users in
:mod:`~razorlab.labs.seats_world`, its rules in :mod:`~razorlab.labs.seats_invariants`,
its reference in :mod:`~razorlab.labs.seats_reference` and the seed's design in
:mod:`~razorlab.labs.seats_seed`. The ledger lab (``check(MyLedger, lab="ledger")``) has
its interface and workload in :mod:`~razorlab.labs.ledger`, its rules in
:mod:`~razorlab.labs.ledger_invariants`, its reference in
:mod:`~razorlab.labs.ledger_reference` and the seed's design in
:mod:`~razorlab.labs.ledger_seed`. The message-delivery lab (``check(MyMessages,
lab="messaging")``) has its interface and workload in :mod:`~razorlab.labs.messaging`, its
rules in :mod:`~razorlab.labs.messaging_invariants`, its reference in
:mod:`~razorlab.labs.messaging_reference` and the seed's design in
:mod:`~razorlab.labs.messaging_seed`. Only the standard library (and numpy through
:mod:`razorlab.rand`) is imported here; plotly loads when a figure is drawn.
"""

from razorlab.labs.bank import BankAnswer, BankTimeout, BankUnavailable
from razorlab.labs.check import Verdict, check
from razorlab.labs.harness import TryAgain, run_plan
from razorlab.labs.history import Event, History
from razorlab.labs.invariants import PAYMENT_INVARIANTS
from razorlab.labs.ledger import AccountBalance, TransferResult
from razorlab.labs.ledger_invariants import LEDGER_INVARIANTS
from razorlab.labs.ledger_reference import ReferenceLedger
from razorlab.labs.ledger_seed import SeedLedger
from razorlab.labs.messaging import AckResult, Delivery, Directory, SendAck
from razorlab.labs.messaging_invariants import MESSAGING_INVARIANTS
from razorlab.labs.messaging_reference import ReferenceMessages
from razorlab.labs.messaging_seed import SeedMessages
from razorlab.labs.payments import PaymentResult, generate
from razorlab.labs.payments_reference import ReferencePayments
from razorlab.labs.payments_seed import SeedPayments
from razorlab.labs.plan import Fault, Op, Plan
from razorlab.labs.seats import SeatAnswer, SeatState
from razorlab.labs.seats_invariants import SEAT_INVARIANTS
from razorlab.labs.seats_reference import ReferenceSeats
from razorlab.labs.seats_seed import SeedSeats

__all__ = [
    "AccountBalance",
    "AckResult",
    "BankAnswer",
    "BankTimeout",
    "BankUnavailable",
    "Delivery",
    "Directory",
    "Event",
    "Fault",
    "History",
    "LEDGER_INVARIANTS",
    "MESSAGING_INVARIANTS",
    "Op",
    "PAYMENT_INVARIANTS",
    "PaymentResult",
    "Plan",
    "ReferenceLedger",
    "ReferenceMessages",
    "ReferencePayments",
    "ReferenceSeats",
    "SEAT_INVARIANTS",
    "SeatAnswer",
    "SeatState",
    "SeedLedger",
    "SeedMessages",
    "SeedPayments",
    "SeedSeats",
    "SendAck",
    "TransferResult",
    "TryAgain",
    "Verdict",
    "check",
    "generate",
    "run_plan",
]
