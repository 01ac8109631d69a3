//go:build linux

// Command soak runs bore for a long time under steady load and watches it
// for leaks. It runs "bore server" and "bore local" as real processes on
// 127.0.0.1 with echo services of its own, and reports resident memory,
// threads and open file descriptors of every bore process as it goes. "make
// soak" builds bore and runs it; README.md describes the modes.
//
// Usage:
//
//	soak [-bore bin/bore] [-mode load|unreachable|conns] [-time 10m] [flags]
//
// It exits 0 when the run passed (no errors, memory and descriptors flat,
// every connection served), 1 when it failed and 2 for bad flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// config is what one run does.
type config struct {
	bore     string
	mode     string
	duration time.Duration
	interval time.Duration // between report lines
	tunnels  int           // load: tunnels (bore local processes)
	rate     int           // load: connections opened per second, in total
	size     int           // load: largest echo per connection, bytes
	conns    int           // conns: simultaneous connections
	inflight int           // conns: dials in flight while opening them
	out      io.Writer
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{out: stdout}
	def := 10 * time.Minute
	if v := os.Getenv("SOAKTIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fmt.Fprintf(stderr, "soak: SOAKTIME=%q is not a duration such as 10m or 90s\n", v)
			return 2
		}
		def = d
	}
	fs.StringVar(&cfg.bore, "bore", "bin/bore", "path to the bore binary")
	fs.StringVar(&cfg.mode, "mode", "load", "load, unreachable or conns (echo is internal)")
	fs.DurationVar(&cfg.duration, "time", def, "how long to run (default from SOAKTIME, else 10m)")
	fs.DurationVar(&cfg.interval, "interval", 30*time.Second, "time between report lines")
	fs.IntVar(&cfg.tunnels, "tunnels", 3, "load: tunnels, each its own bore local process")
	fs.IntVar(&cfg.rate, "rate", 200, "load: connections per second across all tunnels")
	fs.IntVar(&cfg.size, "size", 8<<10, "load: largest echo per connection in bytes (each moves 1..size)")
	fs.IntVar(&cfg.conns, "n", 10000, "conns: simultaneous connections through one tunnel")
	fs.IntVar(&cfg.inflight, "inflight", 200, "conns: dials in flight while opening them")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "soak: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if cfg.interval > cfg.duration/3 {
		// Short runs still get enough samples to compare thirds.
		cfg.interval = max((cfg.duration / 6).Round(time.Second), time.Second)
	}
	var err error
	switch cfg.mode {
	case "load":
		err = runLoad(ctx, cfg)
	case "unreachable":
		err = runUnreachable(ctx, cfg)
	case "conns":
		err = runConns(ctx, cfg)
	case "echo":
		// Internal: the conns mode runs its echo service in a process of
		// its own, so each side of the connections has its own file limit.
		return runEchoChild(ctx, stdout, stderr)
	default:
		fmt.Fprintf(stderr, "soak: unknown -mode %q: use load, unreachable or conns\n", cfg.mode)
		return 2
	}
	if err != nil {
		fmt.Fprintf(stdout, "FAIL: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, "PASS")
	return 0
}

// echoService is an in-process echo server on loopback.
type echoService struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open map[net.Conn]struct{}
}

// startEcho listens on 127.0.0.1:0 and echoes each connection, passing a
// half-close back.
func startEcho() (*echoService, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start an echo service on 127.0.0.1: %w", err)
	}
	e := &echoService{ln: ln, open: map[net.Conn]struct{}{}}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				time.Sleep(10 * time.Millisecond) // out of descriptors: let others finish
				continue
			}
			e.mu.Lock()
			e.open[c] = struct{}{}
			e.mu.Unlock()
			e.wg.Add(1)
			go func() {
				defer e.wg.Done()
				echoConn(c)
				c.(*net.TCPConn).CloseWrite()
				// Wait for the peer's close before closing, so the
				// TIME_WAIT lands on the visitor side.
				io.Copy(io.Discard, c)
				c.Close()
				e.mu.Lock()
				delete(e.open, c)
				e.mu.Unlock()
			}()
		}
	}()
	return e, nil
}

// echoConn copies c back to itself through a small buffer. (io.Copy
// would splice(2) through a pipe, two descriptors held per idle
// connection, which thousands of connections cannot afford.)
func echoConn(c net.Conn) {
	buf := make([]byte, 4<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (e *echoService) port() int { return e.ln.Addr().(*net.TCPAddr).Port }

// close stops the service and closes its connections.
func (e *echoService) close() {
	e.ln.Close()
	e.mu.Lock()
	for c := range e.open {
		c.Close()
	}
	e.mu.Unlock()
	e.wg.Wait()
}

// series is a measurement over time of one process.
type series struct {
	name    string
	samples []proctest.Stats
}

// flat compares the mean of the last third of the samples with the first
// third: memory may grow by 25% plus 4 MiB, descriptors by 25% plus 32
// (connections in flight come and go) and threads by 25% plus 4 before it
// counts as growth.
func (s *series) flat() (bool, string) {
	n := len(s.samples) / 3
	if n == 0 {
		return true, fmt.Sprintf("%s: too few samples to judge", s.name)
	}
	mean := func(xs []proctest.Stats) (rss, fds, thr float64) {
		for _, u := range xs {
			rss += float64(u.RSS)
			fds += float64(u.FDs)
			thr += float64(u.Threads)
		}
		k := float64(len(xs))
		return rss / k, fds / k, thr / k
	}
	r1, f1, t1 := mean(s.samples[:n])
	r3, f3, t3 := mean(s.samples[len(s.samples)-n:])
	ok := r3 <= r1*1.25+4<<20 && f3 <= f1*1.25+32 && t3 <= t1*1.25+4
	verdict := "flat"
	if !ok {
		verdict = "GROWING"
	}
	return ok, fmt.Sprintf("%-10s rss %.1f→%.1f MiB, fds %.0f→%.0f, threads %.0f→%.0f (first third → last third): %s",
		s.name, r1/(1<<20), r3/(1<<20), f1, f3, t1, t3, verdict)
}
