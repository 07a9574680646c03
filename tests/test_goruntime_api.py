"""razorlab.goruntime's public API is pinned: learners' imports keep working."""

import razorlab.goruntime as goruntime

EXPECTED = {
    "AllocWorkload", "BARRIERS", "G_BOOKKEEPING_BYTES", "GCConfig", "GCRun", "MIB",
    "MIN_STACK_BYTES", "ObjectPool", "SchedulerConfig", "SchedulerInvariantError",
    "SchedulerRun", "Workload", "Write", "compare_strategies", "cpu_bound", "format_bytes",
    "goroutine_bytes", "heap_goal", "intern_savings", "io_bound", "load_measurements",
    "lost_object_scenario", "mark", "max_goroutines", "memory_table", "mixed", "parse_gogc",
    "run_strategy", "seed_claim", "shrunk_stack", "simulate", "simulate_gc", "sleep_probe",
    "spawn_burst", "spike", "stack_growth", "stack_size_for", "steady",
    "ADDRESS_BITS", "address_space_ceiling", "SyncPool", "sync_pool_survival", "MapInterner",
    "Handle", "WeakInterner", "interner_growth", "MAX_STACK_BYTES", "StackOverflowError",
    "ThreadExhaustionError", "g_bookkeeping_bytes", "stack_after_gcs",
    "OpCosts", "ColdStart", "per_task", "ping_pong", "worker_pool",
    "TracedRun", "gctrace", "schedtrace", "trace_scheduler",
    "HeapPages", "Scavenger", "scavenge_goals", "shrink",
}  # fmt: skip


def test_all_is_pinned_and_every_name_exists():
    assert set(goruntime.__all__) == EXPECTED
    for name in goruntime.__all__:
        assert hasattr(goruntime, name), name
