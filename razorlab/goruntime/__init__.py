"""Go runtime models: the G-M-P scheduler, goroutine stacks, the GC pacer.

Learners work in Python, so these are *models* of the Go runtime they can run and
poke (the scavenger that returns free heap pages to the OS among them), each
calibrated against a real Go runtime (``data/go/measurements.json``,
see ``calibration``). Figures live in ``razorlab.goruntime.plots``; Go's own views
(``GODEBUG=schedtrace``/``gctrace`` lines) in ``razorlab.goruntime.traces``.
"""

from razorlab.goruntime.calibration import load_measurements
from razorlab.goruntime.costs import ColdStart, OpCosts
from razorlab.goruntime.gc import (
    MIB,
    AllocWorkload,
    GCConfig,
    GCRun,
    heap_goal,
    parse_gogc,
    shrink,
    simulate_gc,
    spike,
    steady,
)
from razorlab.goruntime.interning import Handle, MapInterner, WeakInterner, interner_growth
from razorlab.goruntime.memory import (
    ADDRESS_BITS,
    G_BOOKKEEPING_BYTES,
    MAX_STACK_BYTES,
    MIN_STACK_BYTES,
    StackOverflowError,
    address_space_ceiling,
    format_bytes,
    g_bookkeeping_bytes,
    goroutine_bytes,
    max_goroutines,
    memory_table,
    seed_claim,
    shrunk_stack,
    stack_after_gcs,
    stack_growth,
    stack_size_for,
)
from razorlab.goruntime.metrics import SchedulerRun
from razorlab.goruntime.pools import (
    ObjectPool,
    SyncPool,
    compare_strategies,
    intern_savings,
    run_strategy,
    sync_pool_survival,
)
from razorlab.goruntime.programs import per_task, ping_pong, worker_pool
from razorlab.goruntime.scavenger import HeapPages, Scavenger, scavenge_goals
from razorlab.goruntime.scheduler import (
    SchedulerConfig,
    SchedulerInvariantError,
    ThreadExhaustionError,
    simulate,
)
from razorlab.goruntime.traces import TracedRun, gctrace, schedtrace, trace_scheduler
from razorlab.goruntime.tricolor import BARRIERS, Write, lost_object_scenario, mark
from razorlab.goruntime.workload import (
    Workload,
    cpu_bound,
    io_bound,
    mixed,
    sleep_probe,
    spawn_burst,
)

__all__ = [
    "ADDRESS_BITS",
    "AllocWorkload",
    "BARRIERS",
    "GCConfig",
    "GCRun",
    "G_BOOKKEEPING_BYTES",
    "Handle",
    "HeapPages",
    "MAX_STACK_BYTES",
    "MIB",
    "MIN_STACK_BYTES",
    "MapInterner",
    "ObjectPool",
    "OpCosts",
    "ColdStart",
    "SchedulerConfig",
    "SchedulerInvariantError",
    "SchedulerRun",
    "Scavenger",
    "StackOverflowError",
    "SyncPool",
    "ThreadExhaustionError",
    "WeakInterner",
    "TracedRun",
    "Workload",
    "Write",
    "address_space_ceiling",
    "compare_strategies",
    "cpu_bound",
    "format_bytes",
    "gctrace",
    "g_bookkeeping_bytes",
    "goroutine_bytes",
    "heap_goal",
    "intern_savings",
    "interner_growth",
    "io_bound",
    "load_measurements",
    "lost_object_scenario",
    "mark",
    "max_goroutines",
    "memory_table",
    "mixed",
    "parse_gogc",
    "per_task",
    "ping_pong",
    "run_strategy",
    "scavenge_goals",
    "schedtrace",
    "seed_claim",
    "shrink",
    "shrunk_stack",
    "simulate",
    "simulate_gc",
    "sleep_probe",
    "spawn_burst",
    "spike",
    "stack_after_gcs",
    "stack_growth",
    "stack_size_for",
    "steady",
    "sync_pool_survival",
    "trace_scheduler",
    "worker_pool",
]
