// Command pool_locality shows where task_patterns' worker pool runs: on which P each
// task is sent and received.
//
// It runs the same pool (-workers goroutines ranging over a channel with -buffer
// slots, a task being cpuclock.Task with -reps) at the GOMAXPROCS it is given, with
// the sender and every receiver noting the P they run on. The P's number comes from
// runtime.procPin, reached by linkname (the runtime keeps that symbol linkable for
// programs that already use it). Noting it costs a few tens of ns per task, so the
// timing here is not task_patterns'; what it reports is where the work ran:
//
//   - same_p_share: the share of tasks received on the P that sent them;
//   - sender_moves: how many times the sending goroutine changed P between sends;
//   - busier_p_share: the share of tasks received on the busier of the Ps.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"
	_ "unsafe" // for go:linkname

	"razorlab/measure/cpuclock"
)

//go:linkname procPin runtime.procPin
func procPin() int

//go:linkname procUnpin runtime.procUnpin
func procUnpin()

// where is the P the calling goroutine runs on.
func where() int32 {
	p := procPin()
	procUnpin()
	return int32(p)
}

func main() {
	n := flag.Int("n", 200000, "tasks")
	workers := flag.Int("workers", 4, "worker goroutines")
	buffer := flag.Int("buffer", 64, "channel slots")
	reps := flag.Int("reps", 1, "task body calls per task")
	flag.Parse()
	sentOn := make([]int32, *n)
	receivedOn := make([]int32, *n)
	var wg sync.WaitGroup
	tasks := make(chan int, *buffer)
	wg.Add(*workers)
	for w := 0; w < *workers; w++ {
		go func() {
			var acc int64
			for i := range tasks {
				receivedOn[i] = where()
				acc += cpuclock.Task(int64(i), *reps)
			}
			cpuclock.Keep(acc)
			wg.Done()
		}()
	}
	for i := 0; i < *n; i++ {
		sentOn[i] = where()
		tasks <- i
	}
	close(tasks)
	wg.Wait()
	same, moves := 0, 0
	perP := map[int32]int{}
	for i := range sentOn {
		perP[receivedOn[i]]++
		if sentOn[i] == receivedOn[i] {
			same++
		}
		if i > 0 && sentOn[i] != sentOn[i-1] {
			moves++
		}
	}
	busier := 0
	for _, c := range perP {
		if c > busier {
			busier = c
		}
	}
	_ = json.NewEncoder(os.Stdout).Encode(map[string]any{
		"n": *n, "workers": *workers, "buffer": *buffer, "reps": *reps,
		"gomaxprocs":     runtime.GOMAXPROCS(0),
		"same_p_share":   float64(same) / float64(*n),
		"sender_moves":   float64(moves),
		"busier_p_share": float64(busier) / float64(*n),
	})
}
