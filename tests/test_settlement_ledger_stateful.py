"""Random sequences of transfers, pendings, posts, voids, failures and restarts.

Invariant after every step: debits == credits (posted and pending), every counter matches the
journal, and no transfer that was acknowledged as applied is ever lost — even across restarts.
"""

import asyncio
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from razorlab.clock import ManualClock
from razorlab.settlement import AccountFlags, Ledger, Transfer, TransferFlags

F = TransferFlags
ACCOUNTS = ["bank", "cust", "merchant", "fees"]
account = st.sampled_from([*ACCOUNTS, "ghost"])
amount = st.integers(min_value=-2, max_value=5_000)


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = tempfile.TemporaryDirectory()
        self.path = str(Path(self.dir.name) / "ledger.db")
        self.clock = ManualClock()
        self.ledger = self.run(self._open())
        self.applied: set[str] = set()
        self.pendings: list[str] = []
        self.batches: list[list[Transfer]] = []
        self.n = 0

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    async def _open(self):
        led = await Ledger.open(self.path, clock=self.clock)
        for name in ACCOUNTS:
            flags = AccountFlags.DEBITS_MUST_NOT_EXCEED_CREDITS if name == "cust" else 0
            await led.create_account(name, "party", flags=AccountFlags(flags))
        return led

    def submit(self, *transfers):
        results = self.run(self.ledger.create_transfers(list(transfers)))
        if all(r.status == "ok" for r in results):
            self.batches.append(list(transfers))
        self.applied |= {r.id for r in results if r.status == "ok"}
        return results

    def next_id(self):
        self.n += 1
        return f"t{self.n}"

    @rule(d=account, c=account, a=amount)
    def transfer(self, d, c, a):
        self.submit(Transfer(self.next_id(), d, c, a))

    @rule(d=account, c=account, a=amount, timeout=st.sampled_from([0, 30, 120]))
    def pending(self, d, c, a, timeout):
        tid = self.next_id()
        (r,) = self.submit(Transfer(tid, d, c, a, flags=F.PENDING, timeout_s=timeout))
        if r.status == "ok":
            self.pendings.append(tid)

    @precondition(lambda self: self.pendings)
    @rule(i=st.integers(0, 100), a=st.one_of(st.none(), amount))
    def post(self, i, a):
        pid = self.pendings[i % len(self.pendings)]
        self.submit(Transfer(self.next_id(), amount=a, pending_id=pid, flags=F.POST_PENDING))

    @precondition(lambda self: self.pendings)
    @rule(i=st.integers(0, 100))
    def void(self, i):
        pid = self.pendings[i % len(self.pendings)]
        self.submit(Transfer(self.next_id(), pending_id=pid, flags=F.VOID_PENDING))

    @rule(d=account, c=account, a=amount, b=amount)
    def linked(self, d, c, a, b):
        self.submit(
            Transfer(self.next_id(), d, c, a, flags=F.LINKED), Transfer(self.next_id(), c, d, b)
        )

    @precondition(lambda self: self.batches)
    @rule(i=st.integers(0, 100))
    def retry(self, i):
        batch = self.batches[i % len(self.batches)]
        results = self.submit(*batch)
        assert all(r.status == "exists" for r in results), "a retried id is never applied twice"

    @rule(seconds=st.sampled_from([10, 60, 200]))
    def advance(self, seconds):
        self.clock.advance(seconds)
        self.run(self.ledger.expire_pending())

    @rule()
    def restart(self):
        self.run(self.ledger.close())
        self.ledger = self.run(Ledger.open(self.path, clock=self.clock))

    @invariant()
    def balanced_and_nothing_lost(self):
        assert self.run(self.ledger.verify()) == []
        journal = {t.id for t in self.run(self.ledger.journal())}
        assert self.applied <= journal, "an applied transfer disappeared"

    def teardown(self):
        self.run(self.ledger.close())
        self.loop.close()
        self.dir.cleanup()


LedgerMachine.TestCase.settings = settings(max_examples=30, stateful_step_count=25, deadline=None)
test_ledger_stays_balanced_and_loses_nothing = LedgerMachine.TestCase
