// Command goroutine_memory measures what N goroutines blocked on a channel cost.
//
// It spawns -n goroutines that each block on one channel receive, forces a GC so
// only live memory counts, and prints one JSON object with the growth of the
// runtime's stack and heap accounting and of the memory mapped from the OS.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"
)

func snapshot() runtime.MemStats {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m
}

func main() {
	n := flag.Int("n", 1000, "goroutines to block")
	flag.Parse()
	before := snapshot()
	block := make(chan struct{})
	var started sync.WaitGroup
	started.Add(*n)
	for i := 0; i < *n; i++ {
		go func() {
			started.Done()
			<-block
		}()
	}
	started.Wait()
	after := snapshot()
	out := map[string]any{
		"goroutines":        *n,
		"num_goroutine":     runtime.NumGoroutine(),
		"stack_inuse_bytes": after.StackInuse - before.StackInuse,
		"heap_alloc_bytes":  int64(after.HeapAlloc) - int64(before.HeapAlloc),
		"sys_bytes":         after.Sys - before.Sys,
	}
	close(block)
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
