// Command sched_latency measures how late a sleeping goroutine wakes under CPU load.
//
// -hogs goroutines spin without calling any function (only asynchronous
// preemption by sysmon can stop them). A probe goroutine sleeps -sleep repeatedly
// and records how much later than asked it ran again. Run with GOMAXPROCS set.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sort"
	"sync/atomic"
	"time"
)

var sink atomic.Int64

func hog(stop *atomic.Bool) {
	x := int64(1)
	for !stop.Load() {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink.Add(x)
}

func main() {
	hogs := flag.Int("hogs", 1, "CPU-bound goroutines")
	samples := flag.Int("samples", 200, "probe wake-ups")
	sleep := flag.Duration("sleep", time.Millisecond, "probe sleep")
	flag.Parse()
	var stop atomic.Bool
	for i := 0; i < *hogs; i++ {
		go hog(&stop)
	}
	time.Sleep(20 * time.Millisecond)
	lat := make([]float64, 0, *samples)
	for i := 0; i < *samples; i++ {
		t0 := time.Now()
		time.Sleep(*sleep)
		lat = append(lat, float64(time.Since(t0)-*sleep)/1e6)
	}
	stop.Store(true)
	sort.Float64s(lat)
	q := func(p float64) float64 { return lat[int(p*float64(len(lat)-1))] }
	out := map[string]any{
		"gomaxprocs": runtime.GOMAXPROCS(0), "hogs": *hogs, "samples": *samples,
		"sleep_ms": float64(*sleep) / 1e6,
		"p10_ms":   q(0.10), "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99),
		"max_ms": lat[len(lat)-1],
	}
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
