// Command task_patterns times three ways Go programs hand out work, in ns per task.
//
// razorlab's scheduler model predicts these from the per-operation costs measured
// by go_costs (a different program). Run with GOMAXPROCS set. It reports wall and
// process CPU time per task (at GOMAXPROCS 1 the CPU time is the robust figure on a
// shared machine: it leaves out time other processes held the core), and the CPU time
// of its busiest thread per task (on Linux, from /proc/self/task/*/schedstat; 0
// elsewhere): at GOMAXPROCS 2 it shows whether one goroutine's thread, such as the
// spawning loop's, bounds the run. Modes:
//
//   - pertask: one goroutine per task (go f() in a loop, WaitGroup to wait);
//   - pool: -workers goroutines receive tasks from a channel with -buffer slots; with
//     -reps above 1 a task is that many calls of the task body's arithmetic, summed in
//     the worker (cpuclock.Task: no shared counter for two cores to fight over);
//   - pingpong: two goroutines bounce a value over two unbuffered channels; the
//     figure is ns per round trip.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"

	"razorlab/measure/cpuclock"
	"razorlab/measure/workpool"
)

func perTask(n int) {
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func(i int) { cpuclock.Work(int64(i)); wg.Done() }(i)
	}
	wg.Wait()
}

func pingPong(n int) {
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	for i := 0; i < n; i++ {
		ping <- i
		<-pong
	}
	close(ping)
}

// busiest is the largest CPU time any thread spent between two cpuclock.ThreadCPU readings.
func busiest(before, after map[string]int64) int64 {
	var most int64
	for tid, ns := range after {
		if d := ns - before[tid]; d > most {
			most = d
		}
	}
	return most
}

func main() {
	mode := flag.String("mode", "pertask", "pertask, pool or pingpong")
	n := flag.Int("n", 200000, "tasks (round trips for pingpong)")
	workers := flag.Int("workers", 4, "pool: worker goroutines")
	buffer := flag.Int("buffer", 64, "pool: channel slots")
	reps := flag.Int("reps", 1, "pool: task body calls per task")
	flag.Parse()
	runtime.GC()
	threads := cpuclock.ThreadCPU()
	start := cpuclock.Now()
	switch *mode {
	case "pertask":
		perTask(*n)
	case "pool":
		workpool.Run(*n, *workers, *buffer, *reps)
	default:
		pingPong(*n)
	}
	took := start.Since()
	most := busiest(threads, cpuclock.ThreadCPU())
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"mode": *mode, "n": *n, "workers": *workers, "buffer": *buffer, "reps": *reps,
		"gomaxprocs":                 runtime.GOMAXPROCS(0),
		"ns_per_task":                float64(took.Wall) / float64(*n),
		"cpu_ns_per_task":            float64(took.CPU) / float64(*n),
		"max_thread_cpu_ns_per_task": float64(most) / float64(*n),
	})
}
