package main

import (
	"os"
	"runtime"
)

// setProcs sets how many threads may run Go code at once (GOMAXPROCS)
// for a command, unless the GOMAXPROCS environment variable says.
//
// A tunnel's work, in the client and the server, is system calls that
// return at once while the kernel moves the bytes. With more than one P
// every goroutine readied by another (a visitor's copy woken by the
// control loop, a copy woken by the poller) is handed to another thread,
// woken for it; with one P it runs on the thread that readied it. In make
// bench, side by side in one run on two CPUs:
//   - "bore local" (one P): the client's CPU per connection setup fell by
//     15%, the 64-byte round trip p50 through a tunnel from 237 to 79 us;
//   - "bore server" (one P): the server's CPU per setup fell by 20 to 27%
//     and the setup p50 by 23%;
//
// and bulk throughput did not change (the copies are splice(2) calls,
// during which the runtime can hand the P to another thread). So "bore
// local" and "bore share", which run one tunnel client, use one P, and
// "bore server" does on machines with two CPUs or fewer; on bigger ones,
// where one thread's share of the system calls could limit a busy
// server, it keeps Go's default of one P per CPU. The tray app keeps the
// default too: it serves tunnels, a page and a menu at once.
func setProcs(args []string) {
	if len(args) == 0 || os.Getenv("GOMAXPROCS") != "" {
		return
	}
	switch args[0] {
	case "local", "share":
		runtime.GOMAXPROCS(1)
	case "server":
		if runtime.NumCPU() <= 2 {
			runtime.GOMAXPROCS(1)
		}
	}
}
