// Command pool_trace records a runtime/trace of task_patterns' worker pool, to see
// why a second P adds nothing to it.
//
// It runs the pool once untraced (so the Gs exist and the caches are warm; its ns per
// task goes to stderr), then again under runtime/trace, writing -out. Read the events with Go 1.22 or newer:
//
//	GOMAXPROCS=2 ./pool_trace -out pool.trace
//	go tool trace -d=1 pool.trace | grep StateTransition
//
// What it showed on this project's VM (Go 1.23.5, 50,000 tasks, 4 workers, 64 slots):
// the sender and one worker take turns on one P through runnext (the worker readies
// the parked sender, drains the buffer and parks; the sender readies it, fills the
// buffer and parks), while the other P finds an empty queue and a full runnext and
// its thief sleeps in runqgrab's usleep(3) (~60 us on Linux) before it may take it:
// readied workers wait up to that long in the busy P's queue (a trivial task body
// showed 57-59 us waits), then the thief takes them in a short burst. razorlab's
// scheduler model reproduces that back-off. -reps makes the tasks heavier
// (cpuclock.Task), as pool_sizes does.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/trace"
	"time"

	"razorlab/measure/workpool"
)

func main() {
	n := flag.Int("n", 50000, "tasks in the traced run")
	workers := flag.Int("workers", 4, "worker goroutines")
	buffer := flag.Int("buffer", 64, "channel slots")
	reps := flag.Int("reps", 1, "task body calls per task")
	out := flag.String("out", "pool.trace", "trace file to write")
	flag.Parse()
	start := time.Now()
	workpool.Run(200000, *workers, *buffer, *reps)
	fmt.Fprintf(os.Stderr, "untraced run: %.0f ns per task\n", float64(time.Since(start).Nanoseconds())/200000)
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		log.Fatal(err)
	}
	workpool.Run(*n, *workers, *buffer, *reps)
	trace.Stop()
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}
