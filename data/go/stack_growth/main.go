// Command stack_growth shows goroutine stacks growing by doubling.
//
// Each of -g goroutines recurses -depth frames of a function with a 256-byte local
// array, then blocks. The stack bytes in use per goroutine are printed with the
// frame size measured from the addresses of two consecutive frames' locals.
package main

import (
	"encoding/json"
	"flag"
	"os"
	"runtime"
	"sync"
	"unsafe"
)

var frameBytes uintptr

//go:noinline
func recurse(depth int, parent uintptr, ready *sync.WaitGroup, block chan struct{}) byte {
	var buf [256]byte
	here := uintptr(unsafe.Pointer(&buf[0]))
	if parent != 0 && frameBytes == 0 && parent > here {
		frameBytes = parent - here
	}
	buf[depth%256] = byte(depth)
	if depth > 1 {
		return recurse(depth-1, here, ready, block) + buf[depth%256]
	}
	ready.Done()
	<-block
	return buf[0]
}

func main() {
	g := flag.Int("g", 2000, "goroutines")
	depth := flag.Int("depth", 1, "frames per goroutine")
	flag.Parse()
	// One probe goroutine measures the frame size without a stack copy in between.
	var probe sync.WaitGroup
	probe.Add(1)
	pblock := make(chan struct{})
	go recurse(2, 0, &probe, pblock)
	probe.Wait()
	close(pblock)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	block := make(chan struct{})
	var ready sync.WaitGroup
	ready.Add(*g)
	for i := 0; i < *g; i++ {
		go recurse(*depth, 0, &ready, block)
	}
	ready.Wait()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	out := map[string]any{
		"goroutines":                *g,
		"depth":                     *depth,
		"frame_bytes":               frameBytes,
		"stack_inuse_per_goroutine": float64(after.StackInuse-before.StackInuse) / float64(*g),
	}
	close(block)
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
