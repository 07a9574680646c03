"""A discrete-event model of Go's G-M-P scheduler, faithful to ``src/runtime/proc.go``.

Scenario: a Go service runs a workload of goroutines (G) on ``GOMAXPROCS``
processors (P), each driven by an OS thread (M). The model replays the decisions
the runtime makes (Go 1.19-1.23 ``proc.go``; function names in brackets):

* ``go f()`` puts the new G in its P's ``runnext`` slot, kicking the previous one
  to the tail of the P's local run queue [newproc, runqput];
* the local run queue is a ring of 256 [p.runq]; when it is full, half of it plus
  the new G move to the global run queue under a lock [runqputslow];
* ``schedule`` checks the global queue first once every 61 schedule ticks so it
  cannot starve [findRunnable: ``pp.schedtick%61 == 0``], then ``runnext``, the
  local queue, the global queue (taking a fair batch), the netpoller, and finally
  steals [stealWork: 4 attempts over all Ps in random order, taking half of a
  victim's queue, its ``runnext`` only on the last attempt, and its expired timers];
* a G taken from ``runnext`` inherits the time slice [execute(inheritTime)];
* an idle P is woken (an M starts *spinning*) when work appears and nobody is
  spinning yet [wakep]; at most half the busy Ps' worth of Ms spin at once;
* a G blocking in a syscall keeps its M; sysmon hands the P to another M if the
  syscall outlives one sysmon tick [retake, handoffp]; on return the G takes an idle
  P or goes to the global queue [exitsyscall];
* starting an M beyond ``sched.maxmcount`` (10,000 unless ``debug.SetMaxThreads``)
  is fatal: ``ThreadExhaustionError``, like Go's "program exceeds 10000-thread
  limit" / "thread exhaustion" [newm, checkmcount]. Counted: the Ms running or
  spinning on a P, the Ms blocked in syscalls, and sysmon's M;
* network waits park the G on the netpoller; it comes back when a P with nothing
  to do polls, or when sysmon polls because nobody did for 10 ms [sysmon];
* sysmon sleeps 20 us, doubling after 50 idle rounds up to 10 ms; it preempts a G
  that has held its P for 10 ms since sysmon first saw it [forcePreemptNS]; the
  preempted G goes to the global queue [gopreempt_m, goschedImpl].

Design note: time is a float in seconds; events live in a ``heapq`` keyed by
(time, sequence) so equal-time events run in a deterministic order; spawns are read
from the workload's sorted arrays instead of the heap, so a million-goroutine burst
costs no heap pushes. Every G's state is tracked and checked on each transition:
a G run while not runnable, or left behind at the end, raises ``SchedulerInvariantError``
(no goroutine lost or run twice). CPU executed is accounted exactly, up to float
rounding (conservation of work). Metrics are aggregated as the run goes.
Goroutines may also start other goroutines and talk over channels and WaitGroups
(``channels.py``): a spawning G is then a real G on a P, paying for each ``go``
statement and preempted like any other. Simplifications: goroutines spawned from outside
(``spawn_s``) cost nothing to start; a goroutine switch costs a fixed ``switch_s``; Ms are
counted, not simulated as threads, and a parked M leaves the count (Go keeps idle Ms on
``sched.midle`` and reuses them before making new ones, so the peaks agree); a spinning M
that finds nothing parks at once (Go's first goes through findRunnable's last checks).
Before a thief takes a *running* P's ``runnext`` its M sleeps ``steal_backoff_s``
[runqgrab: ``usleep(3)``, ~60 us on Linux], staying spinning, then takes the slot only if
it still holds the same G [``runnext.cas``], else half the queue, else sleeps again; with
nothing left it starts over (Go would try its other victims first). The G running on a
robbed P pays ``OpCosts.steal_s`` per G taken. Together they keep a worker pool's second P
mostly asleep, as in Go (the pool's P passes work through ``runnext`` all the time), and
a spawning loop's other P asleep rather than parked (``calibration.spawn_sleeps_vs_go``). GC is not modelled here
(see ``gc.py``). The runtime's constants and the P live in ``processor.py``; sysmon and
syscall returns in ``sysmon.py``.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

from razorlab.goruntime.channels import SyncMixin
from razorlab.goruntime.metrics import SchedulerRun
from razorlab.goruntime.processor import (
    EV_END,
    EV_NET_READY,
    EV_P_START,
    EV_SAMPLE,
    EV_STEAL_RETRY,
    EV_SYSCALL_DONE,
    EV_SYSMON,
    EV_TIMER,
    G_DEAD,
    G_IN_SYSCALL,
    G_NEW,
    G_ON_CPU,
    G_PARKED,
    G_RUNNABLE,
    GLOBAL_CHECK_EVERY,
    IDLE,
    LOCAL_RUNQ_SIZE,
    RUNNING,
    RUNTIME_THREADS,
    STEAL_TRIES,
    SYSCALL,
    SYSMON_MIN_DELAY_S,
    WAKING,
    Processor,
    SchedulerConfig,
    SchedulerInvariantError,
    ThreadExhaustionError,
    compact,
)
from razorlab.goruntime.sysmon import SysmonMixin
from razorlab.goruntime.workload import ANY_P, NET, NONE, SLEEP, SPAWNED, Workload
from razorlab.rand import py_random

__all__ = [
    "SchedulerConfig",
    "SchedulerInvariantError",
    "Simulation",
    "ThreadExhaustionError",
    "simulate",
    "steal_count",
]


SLEEPING = -2  # runqsteal: the thief's M sleeps before taking a runnext (on_steal_retry)


def steal_count(victim_len: int) -> int:
    """runqgrab: a thief takes half a victim's local queue, rounding up (n - n/2)."""
    return victim_len - victim_len // 2


def simulate(workload: Workload, config: SchedulerConfig | None = None) -> SchedulerRun:
    """Run ``workload`` to completion on the model and return its metrics."""
    return Simulation(workload, config or SchedulerConfig()).run()


class Simulation(SysmonMixin, SyncMixin):
    """One run of the model (``simulate`` builds one and calls :meth:`run`).

    Observers subclass it and extend the hooks where the runtime would print or trace —
    ``on_sysmon`` (each sysmon round), ``stop_running`` (a G leaves its P) and
    ``stop_the_world`` — calling ``super()``, so a traced run is the same run
    (:mod:`~razorlab.goruntime.traces` does this for ``schedtrace`` and the timeline).
    """

    def __init__(self, wl: Workload, cfg: SchedulerConfig):
        self.cfg, self.wl = cfg, wl
        n, procs = wl.n, cfg.gomaxprocs
        self.ps = [Processor(i) for i in range(procs)]
        self.idle: list[Processor] = list(reversed(self.ps))  # pidleget pops from the end
        self.gq: deque[int] = deque()
        self.netpoll_ready: list[int] = []
        self.events: list[tuple] = []
        self.seq = 0
        self.now = 0.0
        self.rand = py_random(cfg.seed, "goruntime.scheduler.steal")
        self.coprimes = [k for k in range(1, procs + 1) if math.gcd(k, procs) == 1]
        # Per-goroutine and per-phase state: lists where every slot points at a shared
        # small int or float (8 bytes a slot, and the fastest to index), compact ``array``
        # buffers where a list would hold a float or large-int object per slot (32-36
        # bytes): what lets ten million goroutines fit in memory.
        self.ptr = compact(wl.phase_ptr)
        self.cpu = compact(wl.cpu_s)
        self.kind = wl.block_kind.tolist()
        self.block = compact(wl.block_s)
        self.phase = compact(wl.phase_ptr[:-1])
        self.state = [G_NEW] * n
        self.timer_when = [0.0] * n  # set only for sleeping Gs
        self.ready_at = compact(np.zeros(n))
        self.m = SchedulerRun.empty(cfg, wl)
        self.init_sync()
        self.left = compact(self.first_phase_cpu())
        outside = np.flatnonzero(wl.spawn_p != SPAWNED)
        order = outside[np.argsort(wl.spawn_s[outside], kind="stable")]
        self.spawn_t = compact(wl.spawn_s[order])
        self.spawn_g = compact(order)
        sp = wl.spawn_p[order]
        turn = np.arange(len(order)) % procs
        self.spawn_p = np.where(sp == ANY_P, turn, sp % procs).tolist()
        self.done = 0
        self.cpu_done = 0.0
        self.pending = 0  # non-sysmon events in the heap
        self.sysmon_idle = 0
        self.sysmon_delay = SYSMON_MIN_DELAY_S
        self.last_poll = 0.0
        self.threads = 0

    # ---- event plumbing -------------------------------------------------------------
    def push(self, t: float, kind: int, a: int = -1, b: int = -1) -> None:
        self.seq += 1
        if kind != EV_SYSMON and kind != EV_SAMPLE:
            self.pending += 1
        heapq.heappush(self.events, (t, self.seq, kind, a, b))

    def run(self) -> SchedulerRun:
        n, spawn_t, events = self.wl.n, self.spawn_t, self.events
        outside = len(spawn_t)
        self.push(SYSMON_MIN_DELAY_S, EV_SYSMON)
        self.push(0.0, EV_SAMPLE)
        i = 0
        handlers = (
            self.on_end,
            self.on_sysmon,
            self.on_net_ready,
            self.on_syscall_done,
            self.on_timer,
            self.on_p_start,
            self.on_sample,
            self.on_steal_retry,
        )
        while self.done < n:
            if i < outside and (not events or spawn_t[i] <= events[0][0]):
                self.now = spawn_t[i]
                self.spawn(self.spawn_g[i], self.spawn_p[i])
                i += 1
                continue
            if i >= outside and self.pending == 0:
                self.check_stuck()
            t, _, kind, a, b = heapq.heappop(events)
            self.now = t
            if kind != EV_SYSMON and kind != EV_SAMPLE:
                self.pending -= 1
            self.m.events += 1
            handlers[kind](a, b)
        self.m.events += n
        return self.m.finish(self)

    def check_stuck(self) -> None:
        waiting = any(p.timers or p.status != IDLE for p in self.ps)
        if not (waiting or self.gq or self.netpoll_ready):
            lost = [g for g, s in enumerate(self.state) if s != G_DEAD][:5]
            raise SchedulerInvariantError(f"goroutines lost (never finished): {lost}")

    # ---- making goroutines runnable ---------------------------------------------------
    def spawn(self, g: int, pid: int) -> None:
        """newproc: the new G goes to the spawning P's runnext, then wakep."""
        self.count_live(1)
        self.make_runnable(g, self.now)
        p = self.ps[pid]
        self.runqput(p, g, True)
        if p.status == IDLE:
            self.start_p(p)
        self.wakep()

    def make_runnable(self, g: int, since: float) -> None:
        if self.state[g] == G_RUNNABLE or self.state[g] == G_DEAD:
            raise SchedulerInvariantError(f"goroutine {g} made runnable twice or after exit")
        self.state[g] = G_RUNNABLE
        self.ready_at[g] = since

    def runqput(self, p: Processor, g: int, next_: bool) -> None:
        if next_:
            g, p.runnext = p.runnext, g
            if g < 0:
                return
        if len(p.runq) < LOCAL_RUNQ_SIZE:
            p.runq.append(g)
            if len(p.runq) > self.m.max_local_runq:
                self.m.max_local_runq = len(p.runq)
            return
        # runqputslow: half the local queue plus g go to the global queue together
        batch = [p.runq.popleft() for _ in range(LOCAL_RUNQ_SIZE // 2)]
        self.gq.extend(batch)
        self.gq.append(g)
        self.m.overflows += 1
        self.m.max_global_runq = max(self.m.max_global_runq, len(self.gq))

    def wakep(self) -> bool:
        """Start one spinning M on an idle P if nobody is spinning already (True if so)."""
        if self.idle and not any(p.status == WAKING for p in self.ps):
            self.start_p(self.idle[-1])
            return True
        return False

    def start_p(self, p: Processor) -> None:
        self.idle.remove(p)
        p.status = WAKING
        self.threads += 1
        if self.threads + RUNTIME_THREADS > self.cfg.max_threads:
            raise ThreadExhaustionError(
                f"runtime: program exceeds {self.cfg.max_threads}-thread limit "
                f"(thread exhaustion at t={self.now:.3g} s)",
                field="max_threads",
            )
        self.m.max_threads = max(self.m.max_threads, self.threads)
        self.push(self.now + self.cfg.wakeup_s, EV_P_START, p.id)

    def inject(self, gs: list[int]) -> None:
        """injectglist: ready Gs go to the global queue; idle Ps are started for them."""
        self.gq.extend(gs)
        for _ in range(min(len(gs), len(self.idle))):
            self.start_p(self.idle[-1])

    # ---- running -----------------------------------------------------------------------
    def schedule(self, p: Processor) -> None:
        if p.timers:
            self.check_timers(p, p)
        found = self.find_runnable(p)
        if found is None:
            if p.status == WAKING:
                self.m.failed_spins += 1
            p.status = IDLE
            self.idle.append(p)
            self.threads -= 1
            return
        g, inherit = found
        if g >= 0:  # else its M sleeps in runqgrab (on_steal_retry)
            self.run_found(p, g, inherit)

    def run_found(self, p: Processor, g: int, inherit: bool) -> None:
        if p.status == WAKING:  # resetspinning: found work, let another M spin
            p.status = RUNNING
            self.wakep()
        self.execute(p, g, inherit)

    def find_runnable(self, p: Processor) -> tuple[int, bool] | None:
        gq = self.gq
        if p.schedtick % GLOBAL_CHECK_EVERY == 0 and gq:
            self.m.global_fair_hits += 1
            return gq.popleft(), False
        if p.runnext >= 0:
            g, p.runnext = p.runnext, -1
            return g, True
        if p.runq:
            return p.runq.popleft(), False
        if gq:  # globrunqget: a fair share, at most half a local queue
            take = min(len(gq), len(gq) // self.cfg.gomaxprocs + 1, LOCAL_RUNQ_SIZE // 2)
            g = gq.popleft()
            p.runq.extend(gq.popleft() for _ in range(take - 1))
            self.m.max_local_runq = max(self.m.max_local_runq, len(p.runq))
            self.m.global_gets += 1
            return g, False
        if self.netpoll_ready:  # non-blocking netpoll before stealing
            ready = self.poll_network()
            self.m.netpoll_by_p += len(ready)
            self.inject(ready[1:])
            return ready[0], False
        busy = self.cfg.gomaxprocs - len(self.idle)
        spinning = sum(1 for q in self.ps if q.status == WAKING)
        if p.status == WAKING or 2 * spinning < busy:
            p.status = WAKING  # this M is spinning now
            return self.steal_work(p)
        return None

    def poll_network(self) -> list[int]:
        self.last_poll = self.now
        ready, self.netpoll_ready = self.netpoll_ready, []
        for g in ready:
            self.state[g] = G_RUNNABLE
        return ready

    def steal_work(self, p: Processor) -> tuple[int, bool] | None:
        procs = self.cfg.gomaxprocs
        for attempt in range(STEAL_TRIES):
            last = attempt == STEAL_TRIES - 1
            pos = self.rand.randrange(procs)
            inc = self.coprimes[self.rand.randrange(len(self.coprimes))]
            for _ in range(procs):
                victim = self.ps[pos]
                pos = (pos + inc) % procs
                if victim is p:
                    continue
                if last and victim.timers:
                    self.check_timers(victim, p)
                    if p.runnext >= 0:
                        g, p.runnext = p.runnext, -1
                        return g, False
                g = self.runqsteal(victim, p, last)
                if g >= 0 or g == SLEEPING:
                    return g, False
        return None

    def runqsteal(self, victim: Processor, p: Processor, take_runnext: bool) -> int:
        k = steal_count(len(victim.runq))
        if k == 0:
            if take_runnext and victim.runnext >= 0:
                if victim.status == RUNNING and self.cfg.steal_backoff_s > 0:
                    self.back_off(p, victim)
                    return SLEEPING
                return self.take_runnext(victim)
            return -1
        batch = [victim.runq.popleft() for _ in range(k)]
        p.runq.extend(batch[:-1])
        self.m.max_local_runq = max(self.m.max_local_runq, len(p.runq))
        self.m.steals += 1
        self.m.stolen += k
        self.charge_victim(victim, sum(self.spawned[g] for g in batch))
        return batch[-1]

    def take_runnext(self, victim: Processor) -> int:
        g, victim.runnext = victim.runnext, -1
        self.m.steals += 1
        self.m.stolen += 1
        self.charge_victim(victim, self.spawned[g])
        return g

    def charge_victim(self, victim: Processor, taken: int) -> None:
        """The G running on a robbed P pays ``steal_s`` per G taken that a ``go`` statement
        started (the run queue's cache lines moved to the thief's core; Gs from outside
        cost nothing, as their ``go`` and exit do not); its end moves later by as much."""
        g, cost = victim.g, taken * self.cfg.costs.steal_s
        if g < 0 or cost == 0 or victim.status != RUNNING:
            return
        self.charge(g, cost)
        victim.token += 1
        self.push(victim.run_start + self.left[g], EV_END, victim.id, victim.token)

    def back_off(self, p: Processor, victim: Processor) -> None:
        """runqgrab: the thief's M sleeps ``usleep(3)`` so a running victim may run its
        ``runnext`` first; it stays spinning meanwhile, so wakep starts nobody else."""
        p.steal_expect = victim.runnext
        self.m.steal_backoffs += 1
        self.push(self.now + self.cfg.steal_backoff_s, EV_STEAL_RETRY, p.id, victim.id)

    def on_steal_retry(self, pid: int, vid: int) -> None:
        """After the sleep: ``runnext.cas(next, 0)`` succeeds if the slot holds the same G
        (it may have run and come back); else half the queue, or sleep again on a new
        ``runnext``. With nothing left the M starts over (Go goes on to its other victims)."""
        p, victim = self.ps[pid], self.ps[vid]
        expect, p.steal_expect = p.steal_expect, -1
        if victim.runnext == expect:
            g = self.take_runnext(victim)
        elif victim.runq:
            g = self.runqsteal(victim, p, False)
        elif victim.runnext >= 0 and victim.status == RUNNING:
            self.back_off(p, victim)
            return
        elif victim.runnext >= 0:
            g = self.take_runnext(victim)
        else:
            self.schedule(p)
            return
        self.run_found(p, g, False)

    def execute(self, p: Processor, g: int, inherit: bool) -> None:
        if self.state[g] != G_RUNNABLE:
            raise SchedulerInvariantError(f"goroutine {g} scheduled while not runnable")
        if not inherit:
            p.schedtick += 1
        self.state[g] = G_ON_CPU
        self.m.record_wait(g, self.now - self.ready_at[g])
        self.touch(g)
        self.resume_receiver(p, g)
        p.g = g
        p.status = RUNNING
        p.run_start = self.now + self.cfg.switch_s
        p.busy_s += self.cfg.switch_s
        p.token += 1
        self.push(p.run_start + self.left[g], EV_END, p.id, p.token)

    def stop_running(self, p: Processor) -> int:
        g, ran = p.g, max(0.0, self.now - p.run_start)
        self.left[g] = max(0.0, self.left[g] - ran)
        self.cpu_done += ran
        p.busy_s += self.now - p.run_start
        p.g = -1
        p.token += 1
        return g

    # ---- event handlers ----------------------------------------------------------------
    def on_end(self, pid: int, token: int) -> None:
        p = self.ps[pid]
        if token != p.token:
            return  # preempted earlier; this end is stale
        g = self.stop_running(p)
        self.cpu_done += self.left[g]  # float residue of the subtraction above
        ph = self.phase[g]
        kind, wait = self.kind[ph], self.block[ph]
        if kind > SLEEP:  # go, channels, WaitGroup, Gosched (channels.py)
            self.operate(p, g, kind, ph)
            return
        if kind == NONE:
            self.phase[g] = ph + 1
            self.left[g] = 0.0
            self.state[g] = G_DEAD
            self.done += 1
            self.m.makespan_s = self.now
            self.goexit(p)
            self.schedule(p)
            return
        self.advance(g, ph + 1)
        if kind == NET:
            self.state[g] = G_PARKED
            self.push(self.now + wait, EV_NET_READY, g)
        elif kind == SLEEP:
            self.state[g] = G_PARKED
            when = self.now + wait
            self.timer_when[g] = when
            heapq.heappush(p.timers, (when, g))
            self.push(when + self.cfg.timer_slack_s, EV_TIMER, g, pid)
        else:  # SYSCALL: the M keeps the G and, for now, the P
            self.state[g] = G_IN_SYSCALL
            p.status = SYSCALL
            p.syscalltick += 1
            p.syscall_g = g
            self.push(self.now + wait, EV_SYSCALL_DONE, g, pid)
            return
        self.schedule(p)

    def on_net_ready(self, g: int, _: int) -> None:
        self.ready_at[g] = self.now  # ready, but runnable only once someone polls
        if self.idle:  # an M blocked in netpoll wakes up with it
            self.deliver_to_idle(g)
        else:
            self.netpoll_ready.append(g)

    def on_timer(self, g: int, pid: int) -> None:
        """The OS wakes an M for an expired timer only if a P is idle to run it."""
        when = self.timer_when[g]
        if self.state[g] != G_PARKED or self.now != when + self.cfg.timer_slack_s:
            return  # already fired by checkTimers (maybe the G sleeps again)
        if self.idle:
            owner = self.ps[pid]
            owner.timers.remove((when, g))
            heapq.heapify(owner.timers)
            self.ready_at[g] = when
            self.deliver_to_idle(g)

    def deliver_to_idle(self, g: int) -> None:
        p = self.idle[-1]
        self.make_runnable(g, self.ready_at[g])
        self.runqput(p, g, True)
        self.m.woken_idle += 1
        self.start_p(p)

    def check_timers(self, owner: Processor, into: Processor) -> None:
        """checkTimers: expired timers ready their G into ``into``'s runnext."""
        while owner.timers and owner.timers[0][0] <= self.now:
            when, g = heapq.heappop(owner.timers)
            self.make_runnable(g, when)
            self.runqput(into, g, True)

    def on_p_start(self, pid: int, _: int) -> None:
        self.schedule(self.ps[pid])

    def on_sample(self, _a: int, _b: int) -> None:
        self.m.sample(self)
        if self.done < self.wl.n:
            self.push(self.now + self.cfg.sample_every_s, EV_SAMPLE)
