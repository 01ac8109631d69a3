package tunnel

import (
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// countingConn counts the bytes a wrapper sees each way.
type countingConn struct {
	net.Conn // an interface, so the raw socket stays hidden from the copy
	w        *countingWrapper
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.w.in.Add(int64(len(p)))
	return c.Conn.Write(p)
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.out.Add(int64(n))
	return n, err
}

type countingWrapper struct {
	conns, in, out atomic.Int64
}

func (w *countingWrapper) Wrap(local net.Conn) net.Conn {
	w.conns.Add(1)
	return &countingConn{Conn: local, w: w}
}

// TestWrapLocal checks the seam an inspector uses: every visitor's local
// connection goes through the wrapper, bytes and half-closes included.
func TestWrapLocal(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	cfg := clientFor(srv, startEcho(t))
	w := &countingWrapper{}
	cfg.WrapLocal = w
	tun, _ := runTunnel(t, cfg)
	port := waitOpen(t, tun)
	for range 3 {
		if got := roundTrip(t, dialPublic(t, port), "hello"); got != "hello" {
			t.Fatalf("through the wrapper: %q", got)
		}
	}
	waitFor(t, "the wrapper's counts", 5*time.Second, func() bool {
		return w.conns.Load() == 3 && w.in.Load() == 15 && w.out.Load() == 15
	})
}

// CloseWrite passes a half-close on to the wrapped connection.
func (c *countingConn) CloseWrite() error {
	return c.Conn.(*net.TCPConn).CloseWrite()
}
