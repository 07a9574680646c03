// Command scavenger measures how fast the runtime returns a shrunken heap to the OS.
//
// It builds -big MiB of pointer-free 32 KiB blocks beside a -live MiB set of 64-byte
// nodes, collects, then drops the blocks while one goroutine allocates short-lived
// nodes at full speed (so GCs keep running and the scavenger's goal keeps falling).
// Every -every ms the main goroutine reads runtime/metrics: heap memory retained
// (objects, unused span space and free pages not yet released) and released to the OS.
// Afterwards it times debug.FreeOSMemory on -big MiB of free pages (scavenging in one
// go), then frees -big MiB again and sleeps -idle ms: the background scavenger is then
// all the process runs, so released bytes over the process's CPU time is its speed on
// any Go version (the runtime's own metric of its CPU, Go 1.20+, moves only at a GC, so
// it is read over the watch instead). Set GOMAXPROCS (2) and GOGC in the environment;
// it prints one JSON object. With GODEBUG=gctrace=1,scavtrace=1 the
// runtime's lines go to stderr, where "scavenger: drop" and "scavenger: end" mark the
// watch.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/trace"
	"sync/atomic"
	"syscall"
	"time"
)

type node struct {
	next, a, b *node
	v          [5]uint64
}

const blockBytes = 32 << 10

var (
	blocks [][]byte
	live   []*node
	sink   atomic.Pointer[node]
)

var names = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/free:bytes",
	"/memory/classes/heap/released:bytes",
	"/gc/cycles/total:gc-cycles",
	"/gc/heap/goal:bytes",
}

type sample struct {
	T        float64 `json:"t_s"`
	Retained uint64  `json:"retained_bytes"`
	Released uint64  `json:"released_bytes"`
	InUse    uint64  `json:"in_use_bytes"`
	Cycles   uint64  `json:"gc_cycles"`
	HeapGoal uint64  `json:"heap_goal_bytes"`
}

func read(s []metrics.Sample, t float64) sample {
	metrics.Read(s)
	v := func(i int) uint64 { return s[i].Value.Uint64() }
	inUse := v(0) + v(1)
	return sample{t, inUse + v(2), v(3), inUse, v(4), v(5)}
}

// scavengeCPU is the background scavenger's CPU time so far (Go 1.20+; -1 before).
func scavengeCPU() float64 {
	const name = "/cpu/classes/scavenge/background:cpu-seconds"
	for _, d := range metrics.All() {
		if d.Name == name {
			s := []metrics.Sample{{Name: name}}
			metrics.Read(s)
			return s[0].Value.Float64()
		}
	}
	return -1
}

// processCPU is the CPU time the process has used, user and system (madvise is a
// system call), in seconds.
func processCPU() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func allocBlocks(mib int) {
	blocks = make([][]byte, mib<<20/blockBytes)
	for i := range blocks {
		blocks[i] = make([]byte, blockBytes)
		for j := 0; j < blockBytes; j += 4096 { // every page resident, as in a real heap
			blocks[i][j] = byte(i)
		}
	}
}

func buildLive(mib int) {
	live = make([]*node, mib<<20/64)
	for i := range live {
		live[i] = &node{}
	}
}

// churn allocates short-lived linked batches of nodes until stop is set.
func churn(stop *atomic.Bool, done chan<- struct{}) {
	for !stop.Load() {
		var head *node
		for j := 0; j < 16; j++ {
			head = &node{next: head, a: head}
		}
		sink.Store(head)
	}
	close(done)
}

func main() {
	big := flag.Int("big", 256, "MiB of blocks dropped at t=0")
	liveMiB := flag.Int("live", 8, "MiB of nodes kept live")
	seconds := flag.Float64("seconds", 2, "how long to watch after the drop")
	every := flag.Int("every", 10, "ms between samples")
	traceOut := flag.String("trace", "", "write a runtime/trace of the watch to this file")
	idleMS := flag.Int("idle", 2500, "ms to sleep beside the background scavenger at the end")
	flag.Parse()
	s := make([]metrics.Sample, len(names))
	for i, name := range names {
		s[i].Name = name
	}
	buildLive(*liveMiB)
	allocBlocks(*big)
	runtime.GC()
	before := read(s, 0)
	blocks = nil
	fmt.Fprintln(os.Stderr, "scavenger: drop")
	if *traceOut != "" {
		f, err := os.Create(*traceOut)
		if err != nil {
			panic(err)
		}
		defer f.Close()
		_ = trace.Start(f)
	}
	var stop atomic.Bool
	done := make(chan struct{})
	start := time.Now()
	go churn(&stop, done)
	var samples []sample
	for t := 0.0; t < *seconds; t = time.Since(start).Seconds() {
		samples = append(samples, read(s, t))
		time.Sleep(time.Duration(*every) * time.Millisecond)
	}
	stop.Store(true)
	<-done
	trace.Stop()
	scavCPU := scavengeCPU()
	var end runtime.MemStats
	runtime.ReadMemStats(&end) // Sys: all the address space Go took, released pages included
	fmt.Fprintln(os.Stderr, "scavenger: end")
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	liveBytes := ms.HeapAlloc // the -live set and what the program keeps besides
	// The machine's scavenging speed: free -big MiB of pages, then release them all.
	allocBlocks(*big)
	blocks = nil
	runtime.GC()
	t0 := time.Now()
	runtime.GC()
	gcS := time.Since(t0).Seconds()
	r0 := read(s, 0).Released
	t1 := time.Now()
	debug.FreeOSMemory()
	freeS := time.Since(t1).Seconds()
	r1 := read(s, 0).Released
	// The background scavenger alone, on any Go version: free -big MiB once more and
	// sleep; it is then all the process runs, so the process's CPU time is its own.
	allocBlocks(*big)
	blocks = nil
	// Three GCs: from Go 1.21 the background scavenger skips chunks that were dense in
	// the last cycle, so the blocks' chunks must have been seen empty once.
	runtime.GC()
	runtime.GC()
	runtime.GC()
	i0, c0 := read(s, 0).Released, processCPU()
	time.Sleep(time.Duration(*idleMS) * time.Millisecond)
	i1, c1 := read(s, 0).Released, processCPU()
	runtime.KeepAlive(live)
	out := map[string]any{
		"gogc": os.Getenv("GOGC"), "gomaxprocs": runtime.GOMAXPROCS(0),
		"big_mib": *big, "live_mib": *liveMiB, "every_ms": *every,
		"before": before, "samples": samples, "live_heap_bytes": liveBytes,
		"scavenge_background_cpu_s": scavCPU, "sys_bytes_end": end.Sys,
		"idle_released_bytes": i1 - i0, "idle_process_cpu_s": c1 - c0,
		"free_os_memory_s": freeS, "gc_s": gcS, "free_os_memory_released_bytes": r1 - r0,
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
