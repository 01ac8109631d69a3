package tunnel

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// fdCount is this process's open descriptors by kind.
type fdCount struct{ sockets, pipes, other int }

func countFDs(t *testing.T) fdCount {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot list open descriptors: %v", err)
	}
	var c fdCount
	for _, e := range ents {
		l, err := os.Readlink("/proc/self/fd/" + e.Name())
		switch {
		case err != nil:
			// Closed between the listing and the look.
		case strings.HasPrefix(l, "socket:"):
			c.sockets++
		case strings.HasPrefix(l, "pipe:"):
			c.pipes++
		default:
			c.other++
		}
	}
	return c
}

// plainEcho echoes with plain reads and writes: the test's own side must
// hold no pipes, or it would blur what the tunnel holds.
func plainEcho(c net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		k, err := c.Read(buf)
		if k > 0 {
			if _, werr := c.Write(buf[:k]); werr != nil {
				return
			}
		}
		if err != nil {
			c.(*net.TCPConn).CloseWrite()
			return
		}
	}
}

// TestIdleConnectionsHoldOnlySockets sends bursts of different sizes
// through the tunnel, both ways, then leaves the connections idle: each
// must then cost its sockets and nothing more (no splice pipes waiting for
// the next burst), and closing them must release everything at once. The
// server and the client run in this process, so each connection has six
// sockets here: the visitor, the server's two, the client's two and the
// local service's.
func TestIdleConnectionsHoldOnlySockets(t *testing.T) {
	const n = 20
	const perConn = 6
	srv := startServer(t, ServerConfig{})
	svc := listenLocal(t)
	serveLocal(t, svc, plainEcho)
	cfg := clientFor(srv, portOf(svc.Addr()))
	cfg.WarmConns = -1 // ready accept connections would add sockets of their own
	tun, _ := runTunnel(t, cfg)
	public := waitOpen(t, tun)
	// The tunnel carried nothing yet; take the baseline once any earlier
	// test's connections are gone.
	var base fdCount
	waitSettled := func(what string, want func(fdCount) bool) fdCount {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			c := countFDs(t)
			if want(c) {
				return c
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d sockets, %d pipes open; %d sockets, %d pipes before any visitor", what, c.sockets, c.pipes, base.sockets, base.pipes)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// An earlier test's connections may still be closing: wait until
	// the count holds still.
	base = countFDs(t)
	for settle := time.Now().Add(10 * time.Second); time.Now().Before(settle); {
		time.Sleep(200 * time.Millisecond)
		c := countFDs(t)
		if c == base {
			break
		}
		base = c
	}

	var report []string
	for _, size := range []int{100, 600, 64 << 10, 4 << 20} {
		payload := bytes.Repeat([]byte{'x'}, size)
		conns := make([]*net.TCPConn, n)
		errs := make(chan error, n)
		for i := range conns {
			conns[i] = dialPublic(t, public)
			go func(c *net.TCPConn) {
				c.SetDeadline(time.Now().Add(30 * time.Second))
				_, err := c.Write(payload)
				errs <- err
			}(conns[i])
		}
		for i, c := range conns {
			got := make([]byte, size)
			if _, err := io.ReadFull(c, got); err != nil {
				t.Fatalf("%d B burst, visitor %d: %v", size, i, err)
			}
			c.SetDeadline(time.Time{})
		}
		for range conns {
			if err := <-errs; err != nil {
				t.Fatalf("%d B burst: write: %v", size, err)
			}
		}
		// Every byte went there and back; the connections are idle.
		idle := waitSettled(fmt.Sprintf("%d idle connections after a %d B burst", n, size), func(c fdCount) bool {
			return c.sockets == base.sockets+n*perConn && c.pipes <= base.pipes
		})
		report = append(report, fmt.Sprintf("%d B: %.1f sockets + %.1f pipes", size,
			float64(idle.sockets-base.sockets)/n, float64(idle.pipes-base.pipes)/n))

		for _, c := range conns {
			c.Close()
		}
		// Closing releases every socket, and no pipe is kept for later.
		waitSettled(fmt.Sprintf("after closing the %d B connections", size), func(c fdCount) bool {
			return c.sockets <= base.sockets
		})
		if c := countFDs(t); c.pipes > base.pipes {
			t.Fatalf("after closing the %d B connections: %d pipes open, %d before any visitor", size, c.pipes, base.pipes)
		}
	}
	if st := tun.Status(); st.Total != 4*n {
		t.Errorf("tunnel served %d visitors, want %d", st.Total, 4*n)
	}
	t.Logf("descriptors per idle connection (server+client+both ends, in one process): %s", strings.Join(report, "; "))
}
