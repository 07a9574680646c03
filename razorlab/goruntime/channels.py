"""Goroutines that talk: ``go``, channels, WaitGroup and ``Gosched`` in the scheduler model.

A goroutine's phase may end in one of these operations (kinds in ``workload.py``);
this mixin of ``Simulation`` carries them out the way Go 1.19's runtime does
(function names from ``src/runtime/proc.go`` and ``src/runtime/chan.go``, read for
facts only):

* ``go f()`` [newproc, newproc1]: the new G comes from the P's free list
  [gfget: when the P's list is empty it first moves up to 32 Gs from the global
  ``sched.gFree``]; only when both are empty does ``malg`` allocate a fresh G and
  stack, which costs several times more. The G goes to the P's ``runnext``
  [runqput(pp, newg, true)] and an idle P is woken [wakep]. The spawner keeps
  running, so sysmon preempts it after 10 ms like any G.
* a go statement allocates its closure, a fresh G its heap objects
  (``G_BOOKKEEPING_BYTES`` in all; the stacks of live Gs count as roots); when they
  bring the heap to the GC goal (``gc.heap_goal``, GOGC=100, 4 MiB
  minimum) a GC cycle starts, and its stop-the-world preempts every running G to the
  global run queue [gcStart, stopTheWorldWithSema, preemptall, gopreempt_m]. That,
  more than sysmon, is what stops a spawning loop: its backlog peaks near 8k Gs.
  The next goal is set at mark termination from what is live then (the Gs ever
  allocated, the closures and stacks of live Gs); the model takes that moment to be
  the next ``go`` statement, when the spawner is back from the queue. Only this
  trigger is modelled (no mark phase, no GC CPU; ``gc.py`` models those).
* a G that returns [goexit0] goes on its P's free list [gfput: at 64 Gs the list
  is cut to 31 by moving Gs to the global list].
* a channel send [chansend]: a receiver parked on the channel (a sudog on
  ``recvq``) gets the value directly and is readied into the sender's ``runnext``
  [send, goready, ready]; else the value goes into a free buffer slot; else the
  sender parks on ``sendq`` [gopark]. A receive [chanrecv] takes from the buffer and
  lets a parked sender put its value in the freed slot (readying it), or takes
  directly from a parked sender when unbuffered, or parks on ``recvq``.
  ``close`` [closechan] readies every parked receiver; a ``range`` loop then ends.
* ``WaitGroup.Done`` bringing the counter to zero readies the waiters
  [sync.runtime_Semrelease -> semrelease1 -> readyWithTime -> goready];
  ``Wait`` with a non-zero counter parks [semacquire1].
* ``runtime.Gosched`` puts the G on the global run queue and schedules
  [gosched_m, goschedImpl, globrunqput].

Costs: each operation charges CPU on the P that performs it (``OpCosts``), added
to the phase that ends in it; a fresh G's extra allocation cost, and the cost of
readying a parked G (with its earlier ``gopark``) and of waking an M for an idle P
(``wakep``: a futex wake-up) are charged to the G that did it, just after the
operation. A goroutine switch costs ``SchedulerConfig.switch_s``
at each dispatch, as before. A G started by a ``GO`` operation that is dispatched after
other Gs were spawned or dispatched since it was last touched also pays
``OpCosts.cold_start`` for that distance (its ``g`` and stack fell out of the caches;
``costs.py``). Simplified: values are not carried (only counts),
``select`` and timeouts are not modelled, a send on a closed channel raises
``SchedulerInvariantError`` (Go panics), and a G's exit is charged only for Gs
started by a ``GO`` operation (Gs arriving from outside model neither their
``go`` statement nor their exit, as in the original model).
"""

from __future__ import annotations

from array import array
from collections import deque

import numpy as np

from razorlab.goruntime.gc import heap_goal
from razorlab.goruntime.memory import G_BOOKKEEPING_BYTES, MIN_STACK_BYTES
from razorlab.goruntime.processor import (
    EV_END,
    G_PARKED,
    GFREE_MAX_LOCAL,
    GFREE_REFILL,
    RUNNING,
    Processor,
    SchedulerInvariantError,
    compact,
)
from razorlab.goruntime.workload import (
    CLOSE,
    GO,
    GOSCHED,
    LOOP,
    NONE,
    RANGE,
    RECV,
    SEND,
    SPAWNED,
    WG_ADD,
    WG_WAIT,
)

__all__ = ["SyncMixin"]

# Heap bytes a go statement allocates besides the G: since Go 1.17 ``go f(x)`` starts a
# wrapper closure holding f and x. ``go func(i int) {...; wg.Done()}(i)`` made two objects,
# ~40 B in all, in Go 1.19 (MemStats.Mallocs and TotalAlloc over 200,000 such statements,
# the Gs taken out). Garbage once the G has run.
GO_CLOSURE_BYTES = 40


class _Channel:
    __slots__ = ("cap", "closed", "recvq", "sendq", "sent_on")

    def __init__(self, cap: int):
        self.cap, self.closed = cap, False
        self.recvq: deque[int] = deque()  # parked receivers (their sudogs), FIFO
        self.sendq: deque[int] = deque()
        self.sent_on: deque[int] = deque()  # the buffer: the P each value was sent on, FIFO


class SyncMixin:
    """Operations of ``workload.py`` (see the module docstring); state set by ``init_sync``."""

    def init_sync(self) -> None:
        wl, costs = self.wl, self.cfg.costs
        n_phases = len(wl.cpu_s)
        self.arg = compact(wl.op_arg) if wl.op_arg is not None else [0] * n_phases
        self.jump = compact(wl.op_jump) if wl.op_jump is not None else [0] * n_phases
        self.spawned = (wl.spawn_p == SPAWNED).tolist()
        cost = costs.by_kind()
        self.op_cost = [cost.get(k, 0.0) for k in self.kind]  # shared float objects
        self.chans = [_Channel(c) for c in wl.channels]
        self.wg_count = [0] * wl.waitgroups
        self.wg_waiters: list[list[int]] = [[] for _ in range(wl.waitgroups)]
        self.gfree_global = 0
        self.live = 0
        self.g_bytes = 0  # Gs ever allocated: free Gs stay reachable from the free lists
        self.heap = 0  # live heap at the last GC plus allocations since
        self.gc_goal: float | None = heap_goal(0)
        self.sender_p: dict[int, int] = {}  # parked sender -> the P it sent on
        self.handed_from: dict[int, int] = {}  # receiver handed a value -> the sender's P
        self.touches = 0  # Gs spawned or dispatched so far: the clock of cache warmth
        self.touched = array("q", [0]) * len(wl.spawn_s)  # each spawned G's last touch
        self.cold_start = costs.cold_start
        self.warm_distance = (costs.cold_start.distances or (float("inf"),))[0]

    def received(self, sent_on: int, p: Processor) -> None:
        """A value sent on P ``sent_on`` is received on ``p`` (``chan_receives_same_p``)."""
        self.m.chan_receives += 1
        self.m.chan_receives_same_p += sent_on == p.id

    def resume_receiver(self, p: Processor, g: int) -> None:
        """``g`` runs again: if it was handed a value while parked, it has it now, on ``p``."""
        if self.handed_from:
            sent_on = self.handed_from.pop(g, None)
            if sent_on is not None:
                self.received(sent_on, p)

    def touch(self, g: int) -> None:
        """``g`` is dispatched: if it was started by a ``go`` and its memory has gone cold
        since it was last touched, it pays (Gs from outside cost nothing, as above)."""
        if self.spawned[g]:
            last = self.touched[g]
            if self.touches - last > self.warm_distance:
                self.charge(g, self.cold_start.extra(self.touches - last))
            self.touched[g] = self.touches
        self.touches += 1

    def phase_cpu(self, g: int, ph: int) -> float:
        """CPU of phase ``ph`` of ``g``: its own plus that of the operation ending it."""
        cost = self.op_cost[ph]
        if self.kind[ph] == NONE and self.spawned[g]:
            cost = self.cfg.costs.exit_s
        self.m.runtime_cpu_s += cost
        self.m.charged_cpu_s += self.cpu[ph] + cost
        return self.cpu[ph] + cost

    def first_phase_cpu(self) -> np.ndarray:
        """``phase_cpu`` of every goroutine's first phase at once (the same accounting)."""
        wl, first = self.wl, self.wl.phase_ptr[:-1]
        table = np.zeros(max(LOOP, int(wl.block_kind.max())) + 1)
        for kind, c in self.cfg.costs.by_kind().items():
            table[kind] = c
        cost = table[wl.block_kind[first].astype(np.int64)]
        exits = (wl.block_kind[first] == NONE) & (wl.spawn_p == SPAWNED)
        cost = np.where(exits, self.cfg.costs.exit_s, cost)
        cpu = wl.cpu_s[first] + cost
        self.m.runtime_cpu_s += float(cost.sum())
        self.m.charged_cpu_s += float(cpu.sum())
        return cpu

    def charge(self, g: int, cost: float) -> None:
        """Extra CPU for ``g``'s current phase, decided only as the operation ran."""
        self.left[g] += cost
        self.m.runtime_cpu_s += cost
        self.m.charged_cpu_s += cost

    def advance(self, g: int, ph: int) -> None:
        self.phase[g] = ph
        self.left[g] = self.phase_cpu(g, ph)

    def redirect(self, g: int, ph: int) -> None:
        """Jump to ``ph`` instead of the phase ``g`` was advanced to (and charged for)."""
        self.m.runtime_cpu_s -= self.left[g] - self.cpu[self.phase[g]]
        self.m.charged_cpu_s -= self.left[g]
        self.advance(g, ph)

    def count_live(self, delta: int) -> None:
        self.live += delta
        if self.live > self.m.max_live_goroutines:
            self.m.max_live_goroutines = self.live

    def goexit(self, p: Processor) -> None:
        """goexit0 -> gfput: the dead G joins its P's free list; a long list spills."""
        self.count_live(-1)
        p.gfree += 1
        if p.gfree >= GFREE_MAX_LOCAL:
            keep = GFREE_REFILL - 1
            self.gfree_global += p.gfree - keep
            p.gfree = keep

    def gfget(self, p: Processor) -> bool:
        """A free G for ``go``: the P's list, refilled from the global one; False: malg."""
        if p.gfree == 0 and self.gfree_global:
            moved = min(GFREE_REFILL, self.gfree_global)
            self.gfree_global -= moved
            p.gfree = moved
        if p.gfree:
            p.gfree -= 1
            self.m.reused_gs += 1
            return True
        self.m.fresh_gs += 1
        return False

    def heap_reaches_goal(self, fresh: bool) -> bool:
        """A go statement allocates its closure, and a fresh G; has the heap hit the goal?"""
        g_bytes = (G_BOOKKEEPING_BYTES - GO_CLOSURE_BYTES) if fresh else 0
        self.g_bytes += g_bytes
        self.heap += g_bytes + GO_CLOSURE_BYTES
        if self.gc_goal is None:  # the cycle's mark termination: set the next goal
            self.heap = self.g_bytes + self.live * GO_CLOSURE_BYTES
            self.gc_goal = heap_goal(self.heap, roots_bytes=self.live * MIN_STACK_BYTES)
        return self.heap >= self.gc_goal

    def stop_the_world(self, p: Processor, g: int) -> None:
        """gcStart: every running G is preempted to the global queue; the next goal is set."""
        self.m.gc_cycles += 1
        self.gc_goal = None  # set when the spawner next runs (see heap_reaches_goal)
        for q in self.ps:
            if q is not p and q.status == RUNNING and q.g >= 0:
                self.preempt(q)
        self.make_runnable(g, self.now)
        self.gq.append(g)
        self.m.preemptions += 1
        self.schedule(p)

    def goready(self, p: Processor, by: int, g: int) -> None:
        """ready: ``by`` puts the parked ``g`` in its P's runnext and wakes an idle P."""
        self.charge(by, self.cfg.costs.ready_s)
        self.make_runnable(g, self.now)
        self.runqput(p, g, True)
        self.wake_idle(by)

    def wake_idle(self, by: int) -> bool:
        """wakep: True if it started an M for an idle P (its futex wake-up is not charged)."""
        if not self.wakep():
            return False
        self.m.wakeups += 1
        return True

    def resume(self, p: Processor, g: int) -> None:
        """The G keeps its P after a non-blocking operation: no switch, same time slice."""
        p.g = g
        p.run_start = self.now
        p.token += 1
        self.push(self.now + self.left[g], EV_END, p.id, p.token)

    def park(self, p: Processor, g: int) -> None:
        """gopark: the G waits on a channel or WaitGroup; the P schedules another."""
        self.state[g] = G_PARKED
        self.schedule(p)

    def operate(self, p: Processor, g: int, kind: int, ph: int) -> None:
        """Carry out the operation ending phase ``ph`` of ``g``, which just ran on ``p``."""
        arg = self.arg[ph]
        if kind == LOOP:
            self.advance(g, self.jump[ph])
            self.resume(p, g)
            return
        self.advance(g, ph + 1)
        if kind == GO:
            self.count_live(1)
            self.touched[arg] = self.touches  # newproc1 writes the new G and its stack
            self.touches += 1
            fresh = not self.gfget(p)
            if fresh:
                self.charge(g, self.cfg.costs.go_fresh_s - self.cfg.costs.go_s)
            self.make_runnable(arg, self.now)  # newproc: runqput(pp, newg, true); wakep
            self.runqput(p, arg, True)
            self.m.go_wakeups += self.wake_idle(g)
            if self.heap_reaches_goal(fresh):
                self.stop_the_world(p, g)
                return
        elif kind == GOSCHED:
            self.make_runnable(g, self.now)
            self.gq.append(g)
            self.schedule(p)
            return
        elif kind in (SEND, RECV, RANGE, CLOSE):
            if not self.channel_op(p, g, kind, ph, self.chans[arg]):
                self.park(p, g)
                return
        elif not self.waitgroup_op(p, g, kind, arg, ph):
            self.park(p, g)
            return
        self.resume(p, g)

    def channel_op(self, p: Processor, g: int, kind: int, ph: int, ch: _Channel) -> bool:
        """chansend / chanrecv / closechan; False when ``g`` must park."""
        if kind == SEND:
            if ch.closed:
                raise SchedulerInvariantError(f"goroutine {g}: send on closed channel")
            if ch.recvq:
                r = ch.recvq.popleft()
                self.handed_from[r] = p.id
                self.goready(p, g, r)  # direct hand-off to a parked receiver
            elif len(ch.sent_on) < ch.cap:
                ch.sent_on.append(p.id)
            else:
                ch.sendq.append(g)
                self.sender_p[g] = p.id
                return False
            return True
        if kind == CLOSE:
            ch.closed = True
            while ch.recvq:
                r = ch.recvq.popleft()
                self.on_closed(r)
                self.goready(p, g, r)
            if ch.sendq:
                raise SchedulerInvariantError("close of a channel with parked senders")
            return True
        if ch.sent_on:
            self.received(ch.sent_on.popleft(), p)
            if ch.sendq:  # the parked sender's value takes the freed slot
                s = ch.sendq.popleft()
                ch.sent_on.append(self.sender_p.pop(s))
                self.goready(p, g, s)
        elif ch.sendq:
            s = ch.sendq.popleft()
            self.received(self.sender_p.pop(s), p)
            self.goready(p, g, s)
        elif ch.closed:
            if kind == RANGE:
                self.redirect(g, self.jump[ph])
        else:
            ch.recvq.append(g)
            return False
        return True

    def on_closed(self, r: int) -> None:
        """A receiver parked in ``range`` learns the channel closed: it leaves the loop."""
        op = self.phase[r] - 1
        if self.kind[op] == RANGE:
            self.redirect(r, self.jump[op])

    def waitgroup_op(self, p: Processor, g: int, kind: int, wg: int, ph: int) -> bool:
        """WaitGroup Add/Done/Wait; False when ``g`` must park in Wait."""
        if kind == WG_WAIT:
            if self.wg_count[wg]:
                self.wg_waiters[wg].append(g)
                return False
            return True
        self.wg_count[wg] += int(self.block[ph]) if kind == WG_ADD else -1
        if self.wg_count[wg] < 0:
            raise SchedulerInvariantError(f"goroutine {g}: negative WaitGroup counter")
        if self.wg_count[wg] == 0:
            waiters, self.wg_waiters[wg] = self.wg_waiters[wg], []
            for w in waiters:
                self.goready(p, g, w)
        return True
