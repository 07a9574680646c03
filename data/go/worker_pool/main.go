// Command worker_pool compares a bounded worker pool with one goroutine per job.
//
// Each of -jobs jobs waits -wait (an I/O stand-in) then does a little CPU work.
// "unbounded" starts every job at once; "pool" feeds -workers goroutines through a
// bounded channel. It reports wall time and peak goroutines and stack memory.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

var sink atomic.Int64

func job(wait time.Duration) {
	time.Sleep(wait)
	x := int64(1)
	for i := 0; i < 2000; i++ {
		x = x*31 + int64(i)
	}
	sink.Add(x)
}

func peakSampler(done chan struct{}, peakG *int64, peakSys *uint64) {
	var m runtime.MemStats
	for {
		select {
		case <-done:
			return
		case <-time.After(5 * time.Millisecond):
		}
		if g := int64(runtime.NumGoroutine()); g > *peakG {
			*peakG = g
		}
		runtime.ReadMemStats(&m)
		if s := m.StackInuse + m.HeapInuse; s > *peakSys {
			*peakSys = s
		}
	}
}

func main() {
	mode := flag.String("mode", "pool", "pool or unbounded")
	jobs := flag.Int("jobs", 100000, "jobs")
	workers := flag.Int("workers", 1000, "pool size")
	wait := flag.Duration("wait", 10*time.Millisecond, "simulated I/O per job")
	flag.Parse()
	var peakG int64
	var peakMem uint64
	done := make(chan struct{})
	sampled := make(chan struct{})
	go func() { peakSampler(done, &peakG, &peakMem); close(sampled) }()
	start := time.Now()
	var wg sync.WaitGroup
	if *mode == "unbounded" {
		wg.Add(*jobs)
		for i := 0; i < *jobs; i++ {
			go func() { defer wg.Done(); job(*wait) }()
		}
	} else {
		queue := make(chan struct{}, *workers)
		wg.Add(*workers)
		for w := 0; w < *workers; w++ {
			go func() {
				defer wg.Done()
				for range queue {
					job(*wait)
				}
			}()
		}
		for i := 0; i < *jobs; i++ {
			queue <- struct{}{}
		}
		close(queue)
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	<-sampled
	out := map[string]any{
		"mode": *mode, "jobs": *jobs, "workers": *workers, "wait_ms": float64(*wait) / 1e6,
		"wall_s": elapsed.Seconds(), "peak_goroutines": peakG, "peak_stack_heap_bytes": peakMem,
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
