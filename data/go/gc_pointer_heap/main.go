// Command gc_pointer_heap measures the GC pacer on a pointer-heavy heap.
//
// It builds a -live MiB live set of 64-byte nodes, each holding three pointers
// (a list plus two links to earlier nodes), so marking has to scan every word.
// Then -mutators goroutines allocate -alloc MiB of short-lived nodes in small
// linked batches. Set GOGC, GOMEMLIMIT and GOMAXPROCS in the environment; run it
// with GODEBUG=gctrace=1: the program writes "gc_pointer_heap: start" and
// "gc_pointer_heap: end" to stderr around the garbage phase, so the runner can
// attribute each gctrace line (heap at mark termination, CPU split) to the phase.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
	"time"
)

type node struct {
	next, a, b *node
	v          [5]uint64
}

const nodeBytes = 64
const batch = 16 // nodes per short-lived list

var roots []*node
var sinks [64]*node

func buildLive(mib int) {
	n := mib << 20 / nodeBytes
	lists := 1024
	roots = make([]*node, lists)
	var prev *node
	for i := 0; i < n; i++ {
		k := i % lists
		x := &node{next: roots[k], a: prev}
		if roots[k] != nil {
			x.b = roots[k].a
		}
		x.v[0] = uint64(i)
		roots[k] = x
		prev = x
	}
}

func mutate(id, count int) {
	for i := 0; i < count; i += batch {
		var head *node
		for j := 0; j < batch; j++ {
			head = &node{next: head, a: head}
			head.v[0] = uint64(i + j)
		}
		sinks[id] = head
	}
}

func main() {
	live := flag.Int("live", 72, "MiB kept live")
	alloc := flag.Int("alloc", 3072, "MiB of garbage to allocate in total")
	mutators := flag.Int("mutators", 1, "goroutines allocating garbage")
	flag.Parse()
	buildLive(*live)
	runtime.GC()
	// A second forced GC, timed: runtime.GC returns once the heap is swept, so its
	// clock less gctrace's (sweep termination, mark, mark termination) is the sweep.
	forced := time.Now()
	runtime.GC()
	forcedGC := time.Since(forced)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	liveHeap, stacks, goal0, gc0 := m.HeapAlloc, m.StackInuse, m.NextGC, m.NumGC
	nonHeap := m.Sys - m.HeapIdle - m.HeapAlloc
	perMutator := *alloc << 20 / nodeBytes / *mutators
	fmt.Fprintln(os.Stderr, "gc_pointer_heap: start")
	start := time.Now()
	var wg sync.WaitGroup
	for id := 0; id < *mutators; id++ {
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			mutate(id, perMutator)
		}(id)
	}
	wg.Wait()
	elapsed := time.Since(start)
	fmt.Fprintln(os.Stderr, "gc_pointer_heap: end")
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(roots)
	out := map[string]any{
		"gogc": os.Getenv("GOGC"), "gomemlimit": os.Getenv("GOMEMLIMIT"),
		"gomaxprocs":         runtime.GOMAXPROCS(0),
		"memory_limit_bytes": debug.SetMemoryLimit(-1),
		"live_mib":           *live, "alloc_mib": *alloc, "mutators": *mutators,
		"live_heap_bytes": liveHeap, "stack_bytes": stacks, "non_heap_bytes": nonHeap,
		"heap_goal_bytes": goal0, "gc_cycles": m.NumGC - gc0, "wall_s": elapsed.Seconds(),
		"forced_gc_ms": float64(forcedGC.Nanoseconds()) / 1e6,
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
