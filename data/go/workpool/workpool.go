// Package workpool is the worker pool task_patterns times and pool_trace traces: one
// goroutine sends n tasks on a channel with buffer slots, workers goroutines range
// over it, each task being cpuclock.Task with reps.
package workpool

import (
	"sync"

	"razorlab/measure/cpuclock"
)

// Run sends n tasks to workers goroutines over a channel of buffer slots and waits for
// them to finish.
func Run(n, workers, buffer, reps int) {
	var wg sync.WaitGroup
	tasks := make(chan int, buffer)
	wg.Add(workers)
	for w := 0; w < workers; w++ {
		go func() {
			var acc int64
			for i := range tasks {
				acc += cpuclock.Task(int64(i), reps)
			}
			cpuclock.Keep(acc)
			wg.Done()
		}()
	}
	for i := 0; i < n; i++ {
		tasks <- i
	}
	close(tasks)
	wg.Wait()
}
