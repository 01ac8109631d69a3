package main

import (
	"os"
	"runtime"
)

// clientProcs sets how many threads may run Go code at once (GOMAXPROCS)
// for a command, unless the GOMAXPROCS environment variable says.
//
// "bore local" and "bore share" run one tunnel client, whose work is
// system calls that return at once while the kernel moves the bytes. With
// one P the scheduler runs a goroutine readied by another on the same
// thread instead of waking a second thread to run it, and that hand-off
// was a large part of a visitor's cost: in make bench's side-by-side
// loopback run the client's CPU per connection setup fell by 5 to 23%,
// with bulk throughput unchanged (the copies are splice(2) calls, during
// which the runtime can hand the P to another thread). The server and the tray app keep the
// default: they serve many tunnels, a page and a menu at once.
func clientProcs(args []string) {
	if len(args) == 0 || os.Getenv("GOMAXPROCS") != "" {
		return
	}
	switch args[0] {
	case "local", "share":
		runtime.GOMAXPROCS(1)
	}
}
