"""sysmon and syscalls: the scheduler model's background monitor and blocking calls.

``sysmon`` is a runtime thread without a P (``proc.go: sysmon``). Each round it
polls the network if nobody did for 10 ms, preempts a goroutine that has held its P
for 10 ms since sysmon first saw its schedule tick (``retake``, ``preemptone``;
the preempted G goes to the global queue, ``gopreempt_m``), and retakes the P of an
M stuck in a syscall for more than one round (``handoffp``). It sleeps 20 us,
doubling after 50 rounds with nothing to retake, up to 10 ms.

A G returning from a syscall keeps its P if sysmon has not taken it
(``exitsyscallfast``), else takes an idle P, else goes to the global queue while
its M parks (``exitsyscall0``).

Design note: a mixin of ``Simulation`` (``scheduler.py``), split out so each file
holds one part of the runtime; it uses the simulation's queues and event heap.
"""

from __future__ import annotations

from razorlab.goruntime.processor import (
    EV_SYSMON,
    FORCE_PREEMPT_S,
    G_RUNNABLE,
    IDLE,
    NETPOLL_STALE_S,
    RUNNING,
    SYSCALL,
    SYSMON_IDLE_ROUNDS,
    SYSMON_MAX_DELAY_S,
    SYSMON_MIN_DELAY_S,
    WAKING,
    Processor,
)

__all__ = ["SysmonMixin"]


class SysmonMixin:
    """Event handlers for sysmon rounds and syscall returns (see the module docstring)."""

    def on_syscall_done(self, g: int, pid: int) -> None:
        p = self.ps[pid]
        if p.status == SYSCALL and p.syscall_g == g:  # exitsyscall fast path: P still ours
            p.syscall_g = -1
            self.state[g] = G_RUNNABLE
            self.ready_at[g] = self.now
            self.execute(p, g, True)
            return
        self.make_runnable(g, self.now)
        if self.idle:  # exitsyscallfast_pidle
            q = self.idle.pop()
            q.status = RUNNING
            self.execute(q, g, False)
            return
        self.gq.append(g)  # exitsyscall0: no P free; the G waits globally, the M parks
        self.threads -= 1

    def on_sysmon(self, _a: int, _b: int) -> None:
        now = self.now
        if self.netpoll_ready and now - self.last_poll > NETPOLL_STALE_S:
            ready = self.poll_network()
            self.m.netpoll_by_sysmon += len(ready)
            self.inject(ready)
        handoffs = 0
        for p in self.ps:
            if p.status == RUNNING and p.g >= 0:
                if p.seen_tick != p.schedtick:
                    p.seen_tick, p.seen_when = p.schedtick, now
                elif p.seen_when + FORCE_PREEMPT_S <= now:
                    self.preempt(p)
            elif p.status == SYSCALL:
                if p.seen_syscalltick != p.syscalltick:
                    p.seen_syscalltick, p.seen_syscall_when = p.syscalltick, now
                    continue
                no_work = not p.runq and p.runnext < 0
                others = bool(self.idle) or any(q.status == WAKING for q in self.ps)
                if no_work and others and now - p.seen_syscall_when < FORCE_PREEMPT_S:
                    continue
                handoffs += 1
                self.handoff(p)
        self.sysmon_idle = 0 if handoffs else self.sysmon_idle + 1
        if self.sysmon_idle == 0:
            self.sysmon_delay = SYSMON_MIN_DELAY_S
        elif self.sysmon_idle > SYSMON_IDLE_ROUNDS:
            self.sysmon_delay = min(2 * self.sysmon_delay, SYSMON_MAX_DELAY_S)
        self.push(now + self.sysmon_delay + self.cfg.timer_slack_s, EV_SYSMON)

    def preempt(self, p: Processor) -> None:
        g = self.stop_running(p)
        self.make_runnable(g, self.now)
        self.gq.append(g)
        self.m.preemptions += 1
        self.schedule(p)

    def handoff(self, p: Processor) -> None:
        """handoffp: the M stays in the syscall; a new M takes the P."""
        p.syscall_g = -1
        self.m.handoffs += 1
        p.status = IDLE
        self.idle.append(p)
        self.start_p(p)
