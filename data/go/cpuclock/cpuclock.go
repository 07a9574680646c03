// Package cpuclock is what the measurement programs share: a clock reading wall time
// and the process's CPU time, per-thread CPU time and sleeps (Linux /proc), and the one
// task body whose cost every pattern pays.
//
// At GOMAXPROCS 1 CPU time is what a program would take on a core of its own: on a
// shared machine wall time also counts the time other processes held the core.
package cpuclock

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// Clock is a reading (or a difference of readings) in nanoseconds.
type Clock struct{ Wall, CPU int64 }

// Now reads wall time and the process's CPU time (user + system, all threads).
func Now() Clock {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return Clock{time.Now().UnixNano(), ru.Utime.Nano() + ru.Stime.Nano()}
}

// Since is the time from c to now.
func (c Clock) Since() Clock {
	t := Now()
	return Clock{t.Wall - c.Wall, t.CPU - c.CPU}
}

var sink atomic.Int64

// Work is one task: 64 multiply-adds whose result escapes, never inlined.
//
//go:noinline
func Work(seed int64) {
	x := seed
	for i := 0; i < 64; i++ {
		x = x*31 + int64(i)
	}
	sink.Add(x)
}

// Arithmetic is Work's 64 multiply-adds without its atomic add: the caller sums the
// results and hands the sum to Keep once, so goroutines running it on different cores
// share no cache line (Work's shared counter costs tens of ns a call when two cores
// update it at once).
//
//go:noinline
func Arithmetic(seed int64) int64 {
	x := seed
	for i := 0; i < 64; i++ {
		x = x*31 + int64(i)
	}
	return x
}

// Keep makes x escape, so the work that produced it is not optimised away.
func Keep(x int64) { sink.Add(x) }

// Task runs one task of a pool worker: Work when reps is 1 (task_patterns' task body,
// returning 0), else reps calls of Arithmetic, returning their sum for the worker to add
// up in a local variable and Keep at the end. (Summing through a pointer would put each
// worker's total on the heap, next to the others': two cores writing one cache line.)
func Task(seed int64, reps int) int64 {
	if reps == 1 {
		Work(seed)
		return 0
	}
	var sum int64
	for r := 0; r < reps; r++ {
		sum += Arithmetic(seed + int64(r))
	}
	return sum
}

// eachThread calls f with each of the process's threads' /proc/self/task/<tid>/<file>
// (Linux; elsewhere there is no such directory and f is never called).
func eachThread(file string, f func(tid, content string)) {
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		if content, err := os.ReadFile("/proc/self/task/" + t.Name() + "/" + file); err == nil {
			f(t.Name(), string(content))
		}
	}
}

// ThreadCPU is each thread's CPU time so far in ns (the first field of its schedstat).
func ThreadCPU() map[string]int64 {
	out := map[string]int64{}
	eachThread("schedstat", func(tid, content string) {
		if fields := strings.Fields(content); len(fields) > 0 {
			out[tid], _ = strconv.ParseInt(fields[0], 10, 64)
		}
	})
	return out
}

// ThreadSleeps is how many times the process's threads have gone to sleep so far (the
// sum of their voluntary_ctxt_switches).
func ThreadSleeps() int64 {
	var total int64
	eachThread("status", func(_, content string) {
		for _, line := range strings.Split(content, "\n") {
			if strings.HasPrefix(line, "voluntary_ctxt_switches:") {
				v := strings.TrimPrefix(line, "voluntary_ctxt_switches:")
				n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
				total += n
			}
		}
	})
	return total
}
