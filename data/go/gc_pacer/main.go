// Command gc_pacer measures the GC pacer under GOGC and GOMEMLIMIT (set them in the env).
//
// It keeps -live MiB reachable in 64 KiB chunks, then allocates -alloc MiB of
// short-lived 64 KiB garbage. It reports the heap goal the runtime set after a
// forced GC (to compare with GOGC's formula), the GC count during the garbage
// phase and the peak heap seen by a sampler.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

const chunk = 64 << 10

var keep [][]byte
var sink []byte

func main() {
	live := flag.Int("live", 64, "MiB kept live")
	alloc := flag.Int("alloc", 4096, "MiB of garbage to allocate")
	flag.Parse()
	for i := 0; i < *live<<20/chunk; i++ {
		keep = append(keep, make([]byte, chunk))
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	liveHeap, stacks, goal0, gc0 := m.HeapAlloc, m.StackInuse, m.NextGC, m.NumGC
	// Memory the runtime counts as "not heap" against GOMEMLIMIT: mapped and
	// ready minus free heap spans minus heap object bytes.
	nonHeap := m.Sys - m.HeapIdle - m.HeapAlloc
	var peak uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		var s runtime.MemStats
		for {
			select {
			case <-done:
				close(sampled)
				return
			case <-time.After(2 * time.Millisecond):
			}
			runtime.ReadMemStats(&s)
			if s.HeapAlloc > peak {
				peak = s.HeapAlloc
			}
		}
	}()
	start := time.Now()
	for i := 0; i < *alloc<<20/chunk; i++ {
		sink = make([]byte, chunk)
	}
	elapsed := time.Since(start)
	close(done)
	<-sampled
	runtime.ReadMemStats(&m)
	out := map[string]any{
		"gogc": os.Getenv("GOGC"), "gomemlimit": os.Getenv("GOMEMLIMIT"),
		"memory_limit_bytes": debug.SetMemoryLimit(-1),
		"live_mib": *live, "alloc_mib": *alloc,
		"live_heap_bytes": liveHeap, "stack_bytes": stacks, "non_heap_bytes": nonHeap,
		"heap_goal_bytes": goal0, "gc_cycles": m.NumGC - gc0, "peak_heap_bytes": peak,
		"gc_cpu_fraction": m.GCCPUFraction, "wall_s": elapsed.Seconds(),
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
