"""Go's own views of a model run: ``GODEBUG=schedtrace`` and ``gctrace=1`` lines, P timelines.

Scenario: a learner runs a program in the model and the same program in real Go with
``GODEBUG=schedtrace=100`` or ``GODEBUG=gctrace=1``, and compares the two outputs line by
line. So the model prints exactly what Go 1.19 prints, field for field, in Go's units
(read in Go 1.19.8's ``src/runtime``; function names in brackets, format restated, no
code copied):

* ``schedtrace`` [``schedtrace`` in ``proc.go``, called from ``sysmon`` once
  ``lasttrace + schedtrace ms <= now``]: ``SCHED <ms since the first trace>ms:
  gomaxprocs= idleprocs= threads= spinningthreads= idlethreads= runqueue=`` then the
  per-P local run-queue lengths ``[a b]`` (``runqtail - runqhead``: ``runnext`` is not
  counted). With ``scheddetail`` the header adds ``gcwaiting= nmidlelocked= stopwait=
  sysmonwait=`` and one ``  P<i>: status= schedtick= syscalltick= m= runqsize= gfreecnt=
  timerslen=`` line per P replaces the bracket list. Like Go, the model samples from
  sysmon's rounds, so a line can be a sysmon delay late (``SCHED 205ms``).
* ``gctrace`` [``gcMarkTermination`` in ``mgc.go``, ``fmtNSAsMS``/``itoaDiv``]: ``gc <n>
  @<s since start, 3 decimals>s <int % GC CPU since start>%: <sweep-term>+<mark>+<mark-term>
  ms clock, <sweep-term>+<assist>/<dedicated+fractional>/<idle>+<mark-term> ms cpu,
  <heap at start>-><heap at mark termination>-><marked> MB, <goal> MB goal, <n> MB stacks,
  <n> MB globals, <P> P`` and `` (forced)`` after a ``runtime.GC()``. Times >= 10 ms print
  as whole ms, shorter ones with two significant digits and at most three decimals;
  sizes are bytes >> 20 (truncated MiB). A line is printed when a cycle *ends*, so an
  unfinished last cycle prints nothing. The % is ``GCCPUFraction`` (idle marking left
  out) over the whole run so far.

Simplified (the model lacks these; printed as Go would with the value the model justifies):
schedtrace ``threads`` is the most Ms ever busy plus sysmon's (Go keeps idle Ms, so its
count only grows; the model does not have Go's extra template/GC Ms), ``idlethreads`` that
peak minus the Ms busy now, the detailed header's four fields are 0 (no GC waits, locked
Ms or sleeping sysmon in the scheduler model), ``m=`` is ``-1`` for a P without an M and
the P's index otherwise (Ms have no identity in the model), and the per-M and per-G lines
of ``scheddetail`` are left out. gctrace's two stop-the-world phases have no length in the
pacer model, so they print ``0`` clock and cpu (real Go: tens of microseconds); the GC roots
(``GCConfig.roots_bytes``) print as stacks and globals as 0.

Design note: ``trace_scheduler`` runs a subclass of the scheduler's
:class:`~razorlab.goruntime.scheduler.Simulation` that extends its hooks to record on the
way (sysmon rounds, a G leaving its P, stop-the-world) and never decides anything: its ``SchedulerRun`` equals
``simulate``'s (tested). A G that keeps its P across a non-blocking operation stays one
bar, as in ``go tool trace``. GC cycles are read back from ``GCRun.series``: a cycle
starts at the step its number (``numgc``) appears and ends at the first later step that
is not marking or starts the next cycle (back to back, as under a memory limit below the
live heap).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from razorlab.errors import NotFoundError, ValidationError
from razorlab.goruntime.gc import GCRun
from razorlab.goruntime.metrics import SchedulerRun
from razorlab.goruntime.processor import IDLE, RUNTIME_THREADS, SYSCALL, WAKING, SchedulerConfig
from razorlab.goruntime.scheduler import Simulation
from razorlab.goruntime.workload import Workload

__all__ = [
    "GCCycle",
    "GSpan",
    "SchedSample",
    "TracedRun",
    "fmt_ns_as_ms",
    "gc_cycles",
    "gctrace",
    "go_trace",
    "parse_gctrace",
    "parse_schedtrace",
    "schedtrace",
    "trace_scheduler",
]

GO_TRACES = Path(__file__).resolve().parents[2] / "data" / "go" / "traces"
P_IDLE, P_RUNNING, P_SYSCALL = 0, 1, 2  # runtime2.go: _Pidle, _Prunning, _Psyscall
_NUM = r"(\d+(?:\.\d+)?)"
_GC_LINE = re.compile(
    rf"gc (\d+) @{_NUM}s (\d+)%: {_NUM}\+{_NUM}\+{_NUM} ms clock, "
    rf"{_NUM}\+{_NUM}/{_NUM}/{_NUM}\+{_NUM} ms cpu, (\d+)->(\d+)->(\d+) MB, (\d+) MB goal, "
    r"(\d+) MB stacks, (\d+) MB globals, (\d+) P( \(forced\))?"
)
_GC_FIELDS = (
    "numgc at_s cpu_pct sweep_term_ms mark_ms mark_term_ms sweep_term_cpu_ms assist_cpu_ms "
    "background_cpu_ms idle_cpu_ms mark_term_cpu_ms heap0_mb heap1_mb heap2_mb goal_mb "
    "stacks_mb globals_mb procs"
).split()
_SCHED_LINE = re.compile(
    r"SCHED (\d+)ms: gomaxprocs=(\d+) idleprocs=(\d+) threads=(\d+) spinningthreads=(\d+) "
    r"idlethreads=(\d+) runqueue=(\d+) \[([\d ]*)\]"
)
_SCHED_FIELDS = "ms gomaxprocs idleprocs threads spinningthreads idlethreads runqueue".split()


def _itoa_div(val: int, dec: int) -> str:
    """``itoaDiv``: ``val`` with a decimal point ``dec`` digits from the right."""
    digits = str(val).rjust(dec + 1, "0")
    return f"{digits[:-dec]}.{digits[-dec:]}" if dec else digits


def fmt_ns_as_ms(ns: float) -> str:
    """``fmtNSAsMS``: whole ms from 10 ms up, else two significant digits, <= 3 decimals."""
    ns = int(ns)
    if ns >= 10_000_000:
        return _itoa_div(ns // 1_000_000, 0)
    x = ns // 1000
    if x == 0:
        return "0"
    dec = 3
    while x >= 100:
        x //= 10
        dec -= 1
    return _itoa_div(x, dec)


# ---- gctrace ------------------------------------------------------------------------------
@dataclass(frozen=True)
class GCCycle:
    """One finished cycle of a pacer-model run, in the quantities gctrace prints."""

    numgc: int
    start_s: float  # sweep termination (the trigger)
    mark_s: float  # concurrent mark, wall time
    heap0: float  # heap when the cycle started
    heap1: float  # heap at mark termination
    heap2: float  # marked (live + allocated black)
    goal: float
    assist_cpu_s: float
    background_cpu_s: float  # dedicated + fractional workers (incl. the fixed cycle cost)
    idle_cpu_s: float
    gc_cpu_fraction: float  # GCCPUFraction over the run up to this cycle's end
    forced: bool


def cycle_steps(run: GCRun) -> list[tuple[int, int]]:
    """(first step, step marking ended) of each finished cycle of ``run`` (design note)."""
    marking = run.series["marking"].to_numpy() > 0
    numgc = run.series["numgc"].to_numpy()
    new = np.r_[numgc[0] > 0, numgc[1:] > numgc[:-1]]
    starts = np.flatnonzero(new)
    stops = np.flatnonzero(~marking | new)
    after = np.searchsorted(stops, starts, side="right")
    return [(int(k), int(stops[i])) for k, i in zip(starts, after, strict=True) if i < len(stops)]


def gc_cycles(run: GCRun) -> list[GCCycle]:
    """The finished cycles of ``run``, read back from its series (see the design note)."""
    s = run.series
    cfg = run.config
    procs = cfg.gomaxprocs
    dt = float(s["t_s"].iloc[0])
    goal, trig = s["goal_b"].to_numpy(), s["trigger_b"].to_numpy()
    heap, live = s["heap_b"].to_numpy(), s["live_b"].to_numpy()
    pairs = cycle_steps(run)
    gc_cpu = s["gc_cpu_share"].to_numpy() * procs * dt
    idle = s["idle_cpu_share"].to_numpy() * procs * dt
    assist = s["assist_cpu_share"].to_numpy() * procs * dt
    background = gc_cpu - assist
    gc_cum = np.cumsum(gc_cpu)
    out = []
    for n, (k, e) in enumerate(pairs, start=1):
        cyc = slice(k + 1, e + 1)
        floating = heap[e] - live[e]  # marked = live + allocated black
        out.append(
            GCCycle(
                numgc=n,
                start_s=float(s["t_s"].iloc[k]),
                mark_s=(e - k) * dt,
                heap0=float(heap[k]),
                heap1=float(heap[k] + floating),
                heap2=float(heap[e]),
                goal=float(goal[k]),
                assist_cpu_s=float(assist[cyc].sum()),
                background_cpu_s=float(background[cyc].sum()),
                idle_cpu_s=float(idle[cyc].sum()),
                gc_cpu_fraction=float(gc_cum[e] / (procs * (e + 1) * dt)),
                forced=bool(heap[k] < trig[k]),
            )
        )
    return out


def _mb(b: float) -> int:
    return int(b) >> 20


def gctrace(run: GCRun, *, start_s: float = 0.0) -> list[str]:
    """``GODEBUG=gctrace=1`` lines for ``run``'s finished cycles (``start_s``: offset of @)."""
    roots = _mb(run.config.roots_bytes)
    lines = []
    for c in gc_cycles(run):
        ms = fmt_ns_as_ms
        lines.append(
            f"gc {c.numgc} @{_itoa_div(int((start_s + c.start_s) * 1e3), 3)}s "
            f"{int(c.gc_cpu_fraction * 100)}%: 0+{ms(c.mark_s * 1e9)}+0 ms clock, "
            f"0+{ms(c.assist_cpu_s * 1e9)}/{ms(c.background_cpu_s * 1e9)}/"
            f"{ms(c.idle_cpu_s * 1e9)}+0 ms cpu, "
            f"{_mb(c.heap0)}->{_mb(c.heap1)}->{_mb(c.heap2)} MB, {_mb(c.goal)} MB goal, "
            f"{roots} MB stacks, 0 MB globals, {run.config.gomaxprocs} P"
            + (" (forced)" if c.forced else "")
        )
    return lines


def go_trace(name: str) -> str:
    """Real Go output stored in ``data/go/traces`` (see its README), e.g. a gctrace file."""
    path = GO_TRACES / name
    if path.parent != GO_TRACES or not path.is_file():
        raise NotFoundError(f"no stored Go trace named {name!r} in data/go/traces", field="name")
    return path.read_text()


def parse_gctrace(text: str) -> list[dict]:
    """The gctrace lines in ``text`` (model or real Go output) as dicts of numbers."""
    rows = []
    for m in _GC_LINE.finditer(text):
        row = {k: float(v) for k, v in zip(_GC_FIELDS, m.groups(), strict=False)}
        rows.append({**row, "forced": m.group(len(_GC_FIELDS) + 1) is not None})
    return rows


def parse_schedtrace(text: str) -> list[dict]:
    """The non-detailed ``SCHED`` lines in ``text`` as dicts (``local``: per-P queues)."""
    rows = []
    for m in _SCHED_LINE.finditer(text):
        row = {k: int(v) for k, v in zip(_SCHED_FIELDS, m.groups(), strict=False)}
        rows.append({**row, "local": [int(x) for x in m.group(8).split()]})
    return rows


# ---- schedtrace and the P timeline --------------------------------------------------------
@dataclass(frozen=True)
class SchedSample:
    """What ``schedtrace`` reads under ``sched.lock`` at one sysmon round."""

    t_s: float
    idleprocs: int
    threads: int
    spinning: int
    idlethreads: int
    runqueue: int
    local: tuple[int, ...]  # runqtail - runqhead per P (runnext not counted)
    p_status: tuple[int, ...]  # _Pidle / _Prunning / _Psyscall
    schedtick: tuple[int, ...]
    syscalltick: tuple[int, ...]
    gfree: tuple[int, ...]
    timers: tuple[int, ...]


@dataclass(frozen=True)
class GSpan:
    """A G running on a P from ``start_s`` to ``end_s`` (one bar of the timeline)."""

    p: int
    g: int
    start_s: float
    end_s: float


@dataclass
class TracedRun:
    """A scheduler run with its schedtrace samples, G spans and stop-the-world times."""

    run: SchedulerRun
    every_s: float
    samples: list[SchedSample] = field(default_factory=list)
    spans: list[GSpan] = field(default_factory=list)
    stw_s: list[float] = field(default_factory=list)


class _Traced(Simulation):
    """The simulation, observed: records at sysmon rounds, G switches and STWs only."""

    def __init__(self, wl: Workload, cfg: SchedulerConfig, every_s: float, spans_until_s: float):
        super().__init__(wl, cfg)
        self.trace = TracedRun(self.m, every_s)
        self.spans_until_s = spans_until_s
        self.last_trace = -every_s
        self.last_span = [-1] * cfg.gomaxprocs  # index in spans of each P's latest bar

    def on_sysmon(self, a: int, b: int) -> None:
        if self.now - self.last_trace >= self.trace.every_s:  # sysmon: lasttrace + period
            self.last_trace = self.now
            self.trace.samples.append(self._sample())
        super().on_sysmon(a, b)

    def _sample(self) -> SchedSample:
        ps, peak = self.ps, self.m.max_threads  # Go keeps idle Ms: its count only grows
        status = {IDLE: P_IDLE, SYSCALL: P_SYSCALL}
        return SchedSample(
            t_s=self.now,
            idleprocs=len(self.idle),
            threads=peak + RUNTIME_THREADS,
            spinning=sum(p.status == WAKING for p in ps),
            idlethreads=peak - self.threads,
            runqueue=len(self.gq),
            local=tuple(len(p.runq) for p in ps),
            p_status=tuple(status.get(p.status, P_RUNNING) for p in ps),
            schedtick=tuple(p.schedtick for p in ps),
            syscalltick=tuple(p.syscalltick for p in ps),
            gfree=tuple(p.gfree for p in ps),
            timers=tuple(len(p.timers) for p in ps),
        )

    def stop_running(self, p) -> int:
        start, g, spans = p.run_start, p.g, self.trace.spans
        if start < self.spans_until_s:
            last = self.last_span[p.id]
            if last >= 0 and spans[last].g == g and spans[last].end_s == start:
                start = spans[last].start_s  # the G kept its P (resume): one bar, as in Go
                spans[last] = GSpan(p.id, g, start, max(start, self.now))
            else:
                self.last_span[p.id] = len(spans)
                spans.append(GSpan(p.id, g, start, max(start, self.now)))
        return super().stop_running(p)

    def stop_the_world(self, p, g: int) -> None:
        self.trace.stw_s.append(self.now)
        super().stop_the_world(p, g)


def trace_scheduler(
    workload: Workload,
    config: SchedulerConfig | None = None,
    *,
    every_s: float = 0.1,
    spans_until_s: float = 0.05,
) -> TracedRun:
    """Run ``workload`` like ``simulate`` with ``GODEBUG=schedtrace=<every_s in ms>`` on.

    G spans (for the timeline) are kept for runs starting before ``spans_until_s``.
    """
    if not every_s > 0 or not spans_until_s >= 0:
        raise ValidationError("every_s > 0 and spans_until_s >= 0", field="every_s")
    sim = _Traced(workload, config or SchedulerConfig(), every_s, spans_until_s)
    sim.run()
    return sim.trace


def schedtrace(traced: TracedRun, *, detail: bool = False) -> list[str]:
    """The ``SCHED`` lines of ``traced`` (with ``detail``, as ``scheddetail=1`` prints)."""
    procs = traced.run.config.gomaxprocs
    t0 = traced.samples[0].t_s if traced.samples else 0.0
    lines = []
    for s in traced.samples:
        head = (
            f"SCHED {int((s.t_s - t0) * 1e3)}ms: gomaxprocs={procs} idleprocs={s.idleprocs} "
            f"threads={s.threads} spinningthreads={s.spinning} idlethreads={s.idlethreads} "
            f"runqueue={s.runqueue}"
        )
        if not detail:
            lines.append(f"{head} [{' '.join(map(str, s.local))}]")
            continue
        lines.append(f"{head} gcwaiting=0 nmidlelocked=0 stopwait=0 sysmonwait=0")
        for i in range(procs):
            m = -1 if s.p_status[i] == P_IDLE else i
            lines.append(
                f"  P{i}: status={s.p_status[i]} schedtick={s.schedtick[i]} "
                f"syscalltick={s.syscalltick[i]} m={m} runqsize={s.local[i]} "
                f"gfreecnt={s.gfree[i]} timerslen={s.timers[i]}"
            )
    return lines
