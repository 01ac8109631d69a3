//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// runConns holds cfg.conns connections open through one tunnel at once,
// checks each carries data, and reports what they cost.
func runConns(ctx context.Context, cfg config) error {
	n := cfg.conns
	if n < 1 || cfg.inflight < 1 {
		return errors.New("-n and -inflight must be at least 1")
	}
	// Each connection costs the server two descriptors (visitor and the
	// client's accept connection) and the client two (server and local
	// service); this program and the echo process one each.
	limit, err := proctest.RaiseFileLimit(uint64(2*n + 1024))
	if err != nil {
		fmt.Fprintf(cfg.out, "warning: %v\n", err)
	}
	if need := uint64(2*n + fdSpare); limit < need {
		return fmt.Errorf("%d connections need about %d descriptors in bore server and in bore local, and the open-file limit is %d: "+
			"raise the hard limit (ulimit -Hn, or --ulimit nofile= for a container; raising it needs CAP_SYS_RESOURCE) or pass -n %d or fewer",
			n, need, limit, (limit-fdSpare)/2)
	}
	fmt.Fprintf(cfg.out, "soak conns: %d simultaneous connections, open-file limit %d\n", n, limit)

	srv, ctrl, err := proctest.StartServer(ctx, cfg.bore, 0)
	if err != nil {
		return err
	}
	defer srv.Stop()
	echo, echoPort, err := startEchoProcess(ctx)
	if err != nil {
		return err
	}
	defer echo.Stop()
	cli, public, err := proctest.StartClient(ctx, cfg.bore, "client", ctrl, echoPort)
	if err != nil {
		return err
	}
	defer cli.Stop()
	if _, err := echoOnce(public, 1, 64); err != nil {
		return fmt.Errorf("first echo through %s: %w", public, err)
	}
	procs := []*proctest.Proc{srv, cli}
	report := func(what string) ([]proctest.Stats, error) {
		us := make([]proctest.Stats, len(procs))
		line := fmt.Sprintf("%-8s", what)
		for i, p := range procs {
			u, err := proctest.Usage(p.PID())
			if err != nil {
				return nil, fmt.Errorf("%s: %w; its output:\n%s", p.Name(), err, p.Output())
			}
			us[i] = u
			line += fmt.Sprintf(" | %s %s", p.Name(), u)
		}
		fmt.Fprintln(cfg.out, line)
		return us, nil
	}
	before, err := report("idle")
	if err != nil {
		return err
	}

	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var errs errTally
	// forAll runs f for every connection, cfg.inflight at a time.
	forAll := func(f func(i int) error) time.Duration {
		t0 := time.Now()
		sem := make(chan struct{}, cfg.inflight)
		var wg sync.WaitGroup
		for i := range n {
			if ctx.Err() != nil {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := f(i); err != nil {
					errs.add(err)
				}
			}()
		}
		wg.Wait()
		return time.Since(t0)
	}
	took := forAll(func(i int) error {
		c, err := net.DialTimeout("tcp", public, 10*time.Second)
		if err != nil {
			return err
		}
		if err := ping(c, i); err != nil {
			c.Close()
			return err
		}
		conns[i] = c
		return nil
	})
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted")
	}
	fmt.Fprintf(cfg.out, "opened %d connections in %v (%d failed)\n", n, took.Round(time.Millisecond), errs.total())
	held, err := report("held")
	if err != nil {
		return err
	}
	for i, p := range procs {
		fmt.Fprintf(cfg.out, "  %s: %+.1f MiB (%.1f KiB per connection), %+d fds (%+d sockets), %+d threads\n", p.Name(),
			float64(held[i].RSS-before[i].RSS)/(1<<20), float64(held[i].RSS-before[i].RSS)/1024/float64(n),
			held[i].FDs-before[i].FDs, held[i].Sockets-before[i].Sockets, held[i].Threads-before[i].Threads)
	}
	if self, err := proctest.Usage(os.Getpid()); err == nil {
		fmt.Fprintf(cfg.out, "  soak itself (the visitors): %s\n", self)
	}
	if u, err := proctest.Usage(echo.PID()); err == nil {
		fmt.Fprintf(cfg.out, "  echo service: %s\n", u)
	}
	// Every connection, all still open, answers again.
	took = forAll(func(i int) error {
		if conns[i] == nil {
			return nil
		}
		return ping(conns[i], n+i)
	})
	fmt.Fprintf(cfg.out, "pinged all %d again in %v (%d failed in total)\n", n, took.Round(time.Millisecond), errs.total())
	for i, c := range conns {
		if c != nil {
			c.Close()
			conns[i] = nil
		}
	}
	// The bore processes let go of every connection.
	deadline := time.Now().Add(60 * time.Second)
	var after []proctest.Stats
	for {
		if after, err = report("closed"); err != nil {
			return err
		}
		settled := true
		for i := range procs {
			if after[i].Sockets > before[i].Sockets {
				settled = false
			}
		}
		if settled {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("sockets still held 60 s after every connection closed")
		}
		time.Sleep(time.Second)
	}
	if k := errs.total(); k > 0 {
		fmt.Fprint(cfg.out, "errors:\n"+errs.summary())
		return fmt.Errorf("%d of %d connections failed", k, n)
	}
	fmt.Fprintf(cfg.out, "\nsummary: all %d connections were open at once and carried data; every socket was released\n", n)
	return nil
}

// ping writes a 16-byte line naming i and reads the echo back.
func ping(c net.Conn, i int) error {
	msg := fmt.Appendf(nil, "ping %10d\n", i)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(msg); err != nil {
		return err
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		return err
	}
	if string(got) != string(msg) {
		return fmt.Errorf("echo mismatch: sent %q, got %q", msg, got)
	}
	return nil
}

// fdSpare is the descriptors a bore process holds besides its connections
// (listeners, the control connection, epoll, pipes), with room to spare.
const fdSpare = 64

var echoReady = regexp.MustCompile(`echo listening port=(\d+)`)

// startEchoProcess runs this program with -mode echo and returns the echo
// service's port.
func startEchoProcess(ctx context.Context) (*proctest.Proc, int, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, 0, fmt.Errorf("find this program to start its echo service: %w", err)
	}
	p, err := proctest.Start(self, "echo service", nil, "-mode", "echo")
	if err != nil {
		return nil, 0, err
	}
	m, err := p.WaitFor(ctx, echoReady, 0, proctest.StartTimeout)
	if err != nil {
		p.Stop()
		return nil, 0, err
	}
	port, _ := strconv.Atoi(m)
	return p, port, nil
}

// runEchoChild serves an echo service until ctx ends, announcing its port.
func runEchoChild(ctx context.Context, stdout, stderr io.Writer) int {
	if _, err := proctest.RaiseFileLimit(1 << 20); err != nil {
		fmt.Fprintf(stderr, "warning: %v\n", err)
	}
	e, err := startEcho()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprintf(stdout, "echo listening port=%d\n", e.port())
	<-ctx.Done()
	e.close()
	return 0
}
