// Command go_costs measures the runtime's per-operation costs one at a time.
//
// These figures calibrate razorlab's scheduler model; the patterns it predicts
// (goroutine per task, worker pool, channel ping-pong) are measured by a different
// program, task_patterns. Each figure is ns per operation over -n operations:
//
//   - work: one call of the task body (the CPU a task does);
//   - gosched: runtime.Gosched with nothing else runnable (a full trip through
//     schedule and the global run queue), GOMAXPROCS 1;
//   - chan_pair: a send then a receive on a buffered channel, no blocking;
//   - wg_pair: WaitGroup Add(1) then Done, no waiter;
//   - go_fresh: a go statement when no free G exists (newproc1 allocates a G and its
//     stack): the first batch of -batch children, which block on a channel;
//   - go_reused: the go statement in later batches, once the Gs of earlier batches
//     sit on the free lists (children still block, so no G is freed in the loop);
//   - wake_exit: per child, closing the channel they block on and waiting until all
//     have returned (goready from closechan, a switch, WaitGroup Done, goexit0 and
//     gfput);
//   - go_reused_p2: go_reused at GOMAXPROCS 2, where the children park on the other P
//     and the spawner keeps waking it (wakep -> futex wake-up); with -p2-sleeps only
//     this figure is measured, with p2_sleeps_per_go: how many times a thread went to
//     sleep (voluntary context switches, Linux) per go statement;
//   - wakep: with -wakep only, runtime.wakep called directly (reached by linkname) at
//     GOMAXPROCS 1, with no idle P to wake, next to gosched: what every ready and
//     Gosched pays for it. Go 1.19 returns at once; from Go 1.21 wakep first claims the
//     spinning slot and takes sched.lock to look for an idle P.
//
// Batches of -batch goroutines keep the working set near the backlog a spawner
// builds in one 10 ms time slice; all figures are GOMAXPROCS 1 unless noted.
//   - ring_hop: a token passed around a ring of 100 goroutines over unbuffered
//     channels, per hop (a send readies the parked next G, the sender parks on its
//     own receive and the P switches), GOMAXPROCS 1.
//   - warmth: for each size in -sizes, rounds of that many go statements whose
//     children only call WaitGroup Done (they wait in the run queues, never park),
//     then Wait: per child, the spawn (go_ns) and, from Wait to its return, the switch
//     to the child, Done and its exit (run_exit_ns), GOMAXPROCS 1. A child starts after
//     about size other goroutines were spawned or run since its own go statement, so
//     small sizes find its G and stack in the CPU's caches and large ones do not.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	_ "unsafe" // for go:linkname

	"razorlab/measure/cpuclock"
)

//go:linkname wakep runtime.wakep
func wakep()

func perOp(n int, start cpuclock.Clock) float64 {
	return float64(start.Since().CPU) / float64(n)
}

// goschedNs is CPU ns per runtime.Gosched over n calls (the caller sets GOMAXPROCS 1).
func goschedNs(n int) float64 {
	start := cpuclock.Now()
	for i := 0; i < n; i++ {
		runtime.Gosched()
	}
	return perOp(n, start)
}

// spawnRounds times n go statements in batches of blocked children: ns per go statement
// in the first batch and in the later ones, per child woken and exited, and how many
// times a thread went to sleep per go statement of the later batches.
func spawnRounds(n, batch, procs int) (first, later, wake, sleeps float64) {
	var wg sync.WaitGroup
	var spawnNs, wakeNs, slept int64 // CPU ns at GOMAXPROCS 1, wall ns at 2 (two threads' CPU)
	rounds := n / batch
	for r := 0; r < rounds; r++ {
		runtime.GOMAXPROCS(procs)
		stop := make(chan struct{})
		wg.Add(batch)
		before := cpuclock.ThreadSleeps()
		start := cpuclock.Now()
		for i := 0; i < batch; i++ {
			go func() { <-stop; wg.Done() }()
		}
		took := start.Since().CPU
		if procs > 1 {
			took = start.Since().Wall
		}
		if r == 0 {
			first = float64(took) / float64(batch)
		} else {
			spawnNs += took
			slept += cpuclock.ThreadSleeps() - before
		}
		runtime.GOMAXPROCS(1)
		time.Sleep(5 * time.Millisecond) // every child has parked on stop
		start = cpuclock.Now()
		close(stop)
		wg.Wait()
		wakeNs += start.Since().CPU
	}
	later = float64(spawnNs) / float64((rounds-1)*batch)
	sleeps = float64(slept) / float64((rounds-1)*batch)
	return first, later, float64(wakeNs) / float64(rounds*batch), sleeps
}

func ringHop(n int) float64 {
	runtime.GOMAXPROCS(1)
	const size = 100
	links := make([]chan int, size)
	for i := range links {
		links[i] = make(chan int)
	}
	for i := 1; i < size; i++ {
		go func(in, out chan int) {
			for v := range in {
				out <- v
			}
			close(out)
		}(links[i-1], links[i])
	}
	start := cpuclock.Now()
	for i := 0; i < n/size; i++ {
		links[0] <- i
		<-links[size-1]
	}
	hop := perOp(n/size*size, start)
	close(links[0])
	for range links[size-1] {
	}
	return hop
}

// warmth times rounds of size go statements whose children run only wg.Done: ns per go
// statement and per child run (switch, Done, exit), CPU time at GOMAXPROCS 1.
func warmth(n, size int) map[string]float64 {
	runtime.GOMAXPROCS(1)
	var wg sync.WaitGroup
	var spawnNs, runNs int64
	rounds := n/size + 1
	for r := 0; r < rounds; r++ {
		wg.Add(size)
		start := cpuclock.Now()
		for i := 0; i < size; i++ {
			go func() { wg.Done() }()
		}
		spawned := cpuclock.Now()
		wg.Wait()
		if r > 0 { // the first round allocates the Gs
			spawnNs += spawned.CPU - start.CPU
			runNs += spawned.Since().CPU
		}
	}
	k := float64((rounds - 1) * size)
	return map[string]float64{
		"size": float64(size), "go_ns": float64(spawnNs) / k, "run_exit_ns": float64(runNs) / k,
	}
}

func main() {
	n := flag.Int("n", 200000, "operations per figure")
	batch := flag.Int("batch", 10000, "goroutines per batch (go statements)")
	sizes := flag.String("sizes", "200,500,1000,2000,5000,10000", "warmth: go statements per round")
	p2Sleeps := flag.Bool("p2-sleeps", false, "only go_reused_p2 and the thread sleeps per go")
	onlyWakep := flag.Bool("wakep", false, "only wakep and gosched, GOMAXPROCS 1")
	flag.Parse()
	out := map[string]any{"n": *n, "batch": *batch}
	if *onlyWakep {
		runtime.GOMAXPROCS(1)
		start := cpuclock.Now()
		for i := 0; i < *n; i++ {
			wakep()
		}
		out["wakep_ns"] = perOp(*n, start)
		out["gosched_ns"] = goschedNs(*n)
		_ = json.NewEncoder(os.Stdout).Encode(out)
		return
	}
	if *p2Sleeps {
		_, out["go_reused_p2_ns"], _, out["p2_sleeps_per_go"] = spawnRounds(*n, *batch, 2)
		_ = json.NewEncoder(os.Stdout).Encode(out)
		return
	}
	runtime.GOMAXPROCS(1)
	start := cpuclock.Now()
	for i := 0; i < *n; i++ {
		cpuclock.Work(int64(i))
	}
	out["work_ns"] = perOp(*n, start)
	out["gosched_ns"] = goschedNs(*n)
	ch := make(chan int, 1)
	start = cpuclock.Now()
	for i := 0; i < *n; i++ {
		ch <- i
		<-ch
	}
	out["chan_pair_ns"] = perOp(*n, start)
	var wg sync.WaitGroup
	start = cpuclock.Now()
	for i := 0; i < *n; i++ {
		wg.Add(1)
		wg.Done()
	}
	out["wg_pair_ns"] = perOp(*n, start)
	out["go_fresh_ns"], out["go_reused_ns"], out["wake_exit_ns"], _ = spawnRounds(*n, *batch, 1)
	_, out["go_reused_p2_ns"], _, _ = spawnRounds(*n, *batch, 2)
	out["ring_hop_ns"] = ringHop(*n)
	var sweep []map[string]float64
	for _, f := range strings.Split(*sizes, ",") {
		size, err := strconv.Atoi(f)
		if err != nil || size < 1 {
			panic("-sizes: " + f)
		}
		sweep = append(sweep, warmth(*n, size))
	}
	out["warmth"] = sweep
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
