// A Go program for the scrape tests: it serves net/http/pprof and spends nearly all its CPU in one known
// function, hotSpin, so the merged CPU profile's top function is predictable.
//
// hotSpin runs in short calls with a yield between them, so the scheduler never needs a signal to stop it:
// the test runs this program with GODEBUG=asyncpreemptoff=1, because on a loaded machine many samples
// otherwise land in runtime.asyncPreempt instead of the loop it interrupted. Allocation is light (but every allocation is
// sampled) so garbage collection stops the world rarely and heap profiles still have samples.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"sync"
	"time"
)

var (
	sinkMu sync.Mutex
	sink   uint64
	kept   [][]byte
)

// hotSpin is the known hot function; noinline keeps it a frame of its own.
//
//go:noinline
func hotSpin(n int) uint64 {
	x := uint64(88172645463325252)
	for i := 0; i < n; i++ {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
	}
	return x
}

// allocate keeps some memory live so heap profiles have samples.
//
//go:noinline
func allocate() {
	buf := make([]byte, 4<<10)
	kept = append(kept, buf)
	if len(kept) > 64 {
		kept = kept[1:]
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	flag.Parse()
	runtime.MemProfileRate = 1

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	go func() {
		for {
			v := hotSpin(1 << 16)
			sinkMu.Lock()
			sink += v
			sinkMu.Unlock()
			runtime.Gosched()
		}
	}()
	go func() {
		for {
			allocate()
			time.Sleep(50 * time.Millisecond)
		}
	}()

	// The test reads this line to learn the port.
	fmt.Printf("listening on http://%s/debug/pprof/\n", listener.Addr())
	if err := http.Serve(listener, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
