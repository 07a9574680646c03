// Package cpuclock is what the measurement programs share: a clock reading wall time
// and the process's CPU time, and the one task body whose cost every pattern pays.
//
// At GOMAXPROCS 1 CPU time is what a program would take on a core of its own: on a
// shared machine wall time also counts the time other processes held the core.
package cpuclock

import (
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
