// A Go program for the scrape tests: it serves net/http/pprof and spends nearly all its CPU in one known
// function, hotSpin, so the merged CPU profile's top function is predictable.
//
// hotSpin runs in short calls with a yield between them, so the scheduler never needs a signal to stop it:
// the test runs this program with GODEBUG=asyncpreemptoff=1, because on a loaded machine many samples
// otherwise land in runtime.asyncPreempt instead of the loop it interrupted. Allocation is light (but every allocation is
// sampled) so garbage collection stops the world rarely and heap profiles still have samples.
//
// The pod discovery tests run several of these as pods: without the spinning (-spin=false), with pprof under
// another path (-prefix) and printing every request (-log-requests) so the test sees which pod was scraped when.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"runtime"
	"strings"
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
	spin := flag.Bool("spin", true, "spend the CPU in hotSpin")
	prefix := flag.String("prefix", "", "serve /debug/pprof/ under this path instead")
	logRequests := flag.Bool("log-requests", false, "print \"request <path>\" for every request")
	flag.Parse()
	runtime.MemProfileRate = 1

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	if *spin {
		go func() {
			for {
				v := hotSpin(1 << 16)
				sinkMu.Lock()
				sink += v
				sinkMu.Unlock()
				runtime.Gosched()
			}
		}()
	} else {
		// Some CPU all the same, so cpu profiles have samples.
		go func() {
			for {
				hotSpin(1 << 14)
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	go func() {
		for {
			allocate()
			time.Sleep(50 * time.Millisecond)
		}
	}()

	var handler http.Handler = http.DefaultServeMux
	if *prefix != "" {
		mux := http.NewServeMux()
		mux.Handle(strings.TrimSuffix(*prefix, "/")+"/", http.StripPrefix(strings.TrimSuffix(*prefix, "/"), http.DefaultServeMux))
		handler = mux
	}
	if *logRequests {
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Printf("request %s\n", r.URL.RequestURI())
			inner.ServeHTTP(w, r)
		})
	}

	// The test reads this line to learn the port.
	fmt.Printf("listening on http://%s%s/debug/pprof/\n", listener.Addr(), strings.TrimSuffix(*prefix, "/"))
	if err := http.Serve(listener, handler); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
