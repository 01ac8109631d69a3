package tunnel

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// floodConnections plays a hostile server's control connection: Hello,
// then n Connection frames in writes of 8 a millisecond apart (fast, but
// leaving setups time to finish), then heartbeats until the test ends.
func floodConnections(t *testing.T, c net.Conn, fr *frameReader, n int, after func()) {
	if !expectHello(t, fr) {
		return
	}
	send(c, ServerMessage{Kind: ServerHello, Port: 20080}, ServerMessage{Kind: ServerHeartbeat})
	var b []byte
	for i := range n {
		b = append(b, encodeFrame(ServerMessage{Kind: ServerConnection, ID: uuid.New()})...)
		if i%8 == 7 || i == n-1 {
			if _, err := c.Write(b); err != nil {
				return
			}
			b = b[:0]
			time.Sleep(time.Millisecond)
		}
	}
	if after != nil {
		after()
	}
	for {
		time.Sleep(100 * time.Millisecond)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(encodeFrame(ServerMessage{Kind: ServerHeartbeat})); err != nil {
			return
		}
	}
}

// countingService is a local service that counts its connections and
// holds them open until the test ends.
func countingService(t *testing.T) (uint16, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	ln := listenLocal(t)
	serveLocal(t, ln, func(c net.Conn) {
		n.Add(1)
		io.Copy(io.Discard, c)
	})
	return portOf(ln.Addr()), &n
}

// TestClientConnectionFlood: a server that announces 3000 visitors and
// holds every accept connection open gets no more accept connections and
// no more local connections than the tunnel's limits; the excess is
// refused with a log line at most once a second; the tunnel stays open.
func TestClientConnectionFlood(t *testing.T) {
	t.Parallel()
	const flood, maxConns, maxSetups = 3000, 100, 16
	var accepts atomic.Int64
	var mu sync.Mutex
	var held []net.Conn
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		if n == 1 {
			defer c.Close()
			floodConnections(t, c, fr, flood, nil)
			return
		}
		if f, err := fr.next(); err != nil || !strings.HasPrefix(string(f), `{"Accept":`) {
			t.Errorf("accept connection sent %q, %v", f, err)
			c.Close()
			return
		}
		accepts.Add(1)
		mu.Lock()
		held = append(held, c) // closed when the test ends
		mu.Unlock()
	})
	localPort, locals := countingService(t)
	logs := &logBuffer{}
	start := time.Now()
	tun, _ := runTunnel(t, ClientConfig{
		Server: "127.0.0.1", ControlPort: fake.port(), LocalHost: "127.0.0.1", LocalPort: localPort,
		RemotePort: 20080, NoReconnect: true, MaxConns: maxConns, MaxSetups: maxSetups, WarmConns: -1,
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
	})
	waitFor(t, "every announcement handled", 20*time.Second, func() bool {
		adm := tun.admitted.Load()
		return tun.refused.Load()+adm >= flood && tun.setups.Load() == 0 && accepts.Load() == adm && locals.Load() == adm
	})
	// Nothing more arrives once the limits are reached.
	time.Sleep(100 * time.Millisecond)
	elapsed := time.Since(start)
	if a, l := accepts.Load(), locals.Load(); a > maxConns || l > maxConns {
		t.Errorf("%d accept connections and %d local connections, want at most %d each", a, l, maxConns)
	}
	if adm := tun.admitted.Load(); adm != maxConns {
		t.Errorf("%d announcements accepted, want the limit, %d", adm, maxConns)
	}
	if st := tun.Status(); st.State != StateOpen || st.Active != tun.admitted.Load() {
		t.Errorf("status %v with %d active, want open with %d", st.State, st.Active, tun.admitted.Load())
	}
	t.Logf("%d accepted, %d refused in %v", tun.admitted.Load(), tun.refused.Load(), elapsed)
	lines := strings.Count(logs.String(), "too many visitors at once")
	if lines < 1 || float64(lines) > elapsed.Seconds()+1 {
		t.Errorf("%d refusal log lines in %v, want at least one and at most one a second", lines, elapsed)
	}
}

// TestClientConnectionFloodNoAccept: a server that announces 3000 visitors
// and then stops listening makes the client open no local connection at
// all: the local service is dialed only after the Accept is written.
func TestClientConnectionFloodNoAccept(t *testing.T) {
	t.Parallel()
	var fake *fakeBore
	ready := make(chan struct{})
	fake = startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		defer c.Close()
		if n != 1 {
			t.Errorf("connection %d reached a closed listener", n)
			return
		}
		<-ready
		floodConnections(t, c, fr, 3000, func() {})
	})
	localPort, locals := countingService(t)
	tun, _ := runTunnel(t, ClientConfig{
		Server: "127.0.0.1", ControlPort: fake.port(), LocalHost: "127.0.0.1", LocalPort: localPort,
		RemotePort: 20080, NoReconnect: true, WarmConns: -1,
	})
	// Stop listening before the announcements: every accept dial fails.
	waitFor(t, "control connection", 10*time.Second, func() bool {
		fake.mu.Lock()
		defer fake.mu.Unlock()
		return len(fake.conns) == 1
	})
	fake.ln.Close()
	close(ready)
	waitFor(t, "every announcement handled", 30*time.Second, func() bool {
		return tun.Status().State == StateOpen && tun.setups.Load() == 0 && tun.refused.Load()+tun.admitted.Load() >= 3000
	})
	if l := locals.Load(); l != 0 {
		t.Errorf("%d local connections opened for visitors never accepted, want 0", l)
	}
}
