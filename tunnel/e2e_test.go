package tunnel

import (
	"bufio"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBasicProxy(t *testing.T) {
	t.Parallel()
	for _, secret := range []string{"", "abc", "bore-test-secret"} {
		t.Run(fmt.Sprintf("secret=%q", secret), func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, ServerConfig{MinPort: 1024, MaxPort: 65535, Secret: secret})
			cfg := clientFor(srv, startEcho(t))
			cfg.Secret = secret
			tun, _ := runTunnel(t, cfg)
			port := waitOpen(t, tun)
			for i := range 3 {
				msg := fmt.Sprintf("hello %d\n", i)
				if got := roundTrip(t, dialPublic(t, port), msg); got != msg {
					t.Errorf("round trip %d: got %q, want %q", i, got, msg)
				}
			}
			waitFor(t, "counters", 5*time.Second, func() bool {
				st := tun.Status()
				return st.Total == 3 && st.Active == 0 && st.BytesIn == 24 && st.BytesOut == 24
			})
		})
	}
}

func TestMismatchedSecret(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name           string
		server, client string
		want           string
	}{
		{"wrong secret", "abc", "xyz", "server error: invalid secret"},
		{"client without secret", "abc", "", ErrAuthRequired.Error()},
		{"client with secret, server without", "", "abc", ErrNoAuthExpected.Error()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, ServerConfig{Secret: tc.server}, func(s *Server) {
				s.handshakeTimeout = 200 * time.Millisecond
			})
			cfg := clientFor(srv, startEcho(t))
			cfg.Secret = tc.client
			tun, res := runTunnel(t, cfg)
			select {
			case err := <-res:
				// "server without secret" may also end in our own 3s
				// timeout if the server's silence outlasts it: either
				// way the tunnel must fail, not retry.
				if err == nil || !strings.Contains(err.Error(), tc.want) && !strings.Contains(err.Error(), errTextTimeout) {
					t.Fatalf("Run = %v, want %q", err, tc.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("tunnel did not fail")
			}
			if st := tun.Status(); st.State != StateFailed || st.Reason == "" {
				t.Errorf("status = %v %q, want failed with a reason", st.State, st.Reason)
			}
		})
	}
}

func TestPortErrors(t *testing.T) {
	t.Parallel()
	taken := listenLocal(t)
	tp := portOf(taken.Addr())
	cases := []struct {
		name     string
		min, max uint16
		ask      uint16
		want     string
	}{
		{"below range", 30000, 30010, 29999, errTextPortRange},
		{"above range", 30000, 30010, 30011, errTextPortRange},
		{"in use", tp, tp, tp, errTextPortInUse},
		{"no free port", tp, tp, 0, errTextNoFreePort},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startServer(t, ServerConfig{MinPort: tc.min, MaxPort: tc.max})
			cfg := clientFor(srv, 1)
			cfg.RemotePort = tc.ask
			cfg.NoReconnect = true
			_, res := runTunnel(t, cfg)
			err := <-res
			var se *ServerError
			if !errors.As(err, &se) || se.Text != tc.want {
				t.Fatalf("Run = %v, want server error %q", err, tc.want)
			}
		})
	}
}

func TestPortRangeRespected(t *testing.T) {
	t.Parallel()
	// A small range: every tunnel must land inside it.
	base := uint16(40000 + rand.IntN(10000))
	srv := startServer(t, ServerConfig{MinPort: base, MaxPort: base + 20})
	echoPort := startEcho(t)
	for range 3 {
		tun, _ := runTunnel(t, clientFor(srv, echoPort))
		if p := waitOpen(t, tun); p < base || p > base+20 {
			t.Errorf("got port %d outside %d-%d", p, base, base+20)
		}
	}
}

func TestHalfClose(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	// The local service reads the whole request, then replies, as an HTTP
	// server would for a client that shut its write side.
	ln := listenLocal(t)
	serveLocal(t, ln, func(c net.Conn) {
		req, _ := io.ReadAll(c)
		c.Write([]byte("ECHO: " + string(req)))
	})
	tun, _ := runTunnel(t, clientFor(srv, portOf(ln.Addr())))
	port := waitOpen(t, tun)
	if got := roundTrip(t, dialPublic(t, port), "PING H\n"); got != "ECHO: PING H\n" {
		t.Fatalf("got %q after half-close, want the whole reply", got)
	}
}

func TestLocalServiceHalfCloses(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	// The local service says hello and shuts its write side, then still
	// reads what the visitor sends.
	got := make(chan string, 1)
	ln := listenLocal(t)
	serveLocal(t, ln, func(c net.Conn) {
		c.Write([]byte("banner\n"))
		c.(*net.TCPConn).CloseWrite()
		b, _ := io.ReadAll(c)
		got <- string(b)
	})
	tun, _ := runTunnel(t, clientFor(srv, portOf(ln.Addr())))
	v := dialPublic(t, waitOpen(t, tun))
	v.SetDeadline(time.Now().Add(10 * time.Second))
	b, err := io.ReadAll(v)
	if err != nil || string(b) != "banner\n" {
		t.Fatalf("visitor read %q, %v", b, err)
	}
	v.Write([]byte("late words"))
	v.CloseWrite()
	if s := <-got; s != "late words" {
		t.Fatalf("local service read %q", s)
	}
}

// TestBulkTransfer moves 1 GiB each way at once through one visitor
// connection and checks SHA-256 on both ends.
func TestBulkTransfer(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 2 GiB; skipped with -short")
	}
	t.Parallel()
	const size = 1 << 30
	srv := startServer(t, ServerConfig{})
	type result struct {
		sum [32]byte
		n   int64
	}
	localGot := make(chan result, 1)
	ln := listenLocal(t)
	serveLocal(t, ln, func(c net.Conn) {
		// The handler closes c when it returns: wait for the download
		// to be written first, or the close would cut it short.
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			io.Copy(c, io.LimitReader(newStream(2), size))
			c.(*net.TCPConn).CloseWrite()
		}()
		h := sha256.New()
		n, _ := io.Copy(h, c)
		localGot <- result{[32]byte(h.Sum(nil)), n}
		<-wrote
	})
	tun, _ := runTunnel(t, clientFor(srv, portOf(ln.Addr())))
	v := dialPublic(t, waitOpen(t, tun))
	go func() {
		io.Copy(v, io.LimitReader(newStream(1), size))
		v.CloseWrite()
	}()
	h := sha256.New()
	n, err := io.Copy(h, v)
	if err != nil || n != size {
		t.Fatalf("visitor received %d bytes (%v), want %d", n, err, size)
	}
	if got, want := [32]byte(h.Sum(nil)), streamSum(2, size); got != want {
		t.Errorf("download SHA-256 mismatch")
	}
	up := <-localGot
	if up.n != size || up.sum != streamSum(1, size) {
		t.Errorf("upload: local service got %d bytes, SHA-256 match %v", up.n, up.sum == streamSum(1, size))
	}
	waitFor(t, "byte counters", 5*time.Second, func() bool {
		st := tun.Status()
		return st.BytesIn == size && st.BytesOut == size
	})
}

// newStream returns a deterministic pseudo-random byte stream.
func newStream(seed uint64) io.Reader {
	var key [32]byte
	key[0] = byte(seed)
	return rand.NewChaCha8(key)
}

var (
	sumMu    sync.Mutex
	sumCache = map[[2]uint64][32]byte{}
)

func streamSum(seed uint64, n int64) [32]byte {
	sumMu.Lock()
	defer sumMu.Unlock()
	k := [2]uint64{seed, uint64(n)}
	if s, ok := sumCache[k]; ok {
		return s
	}
	h := sha256.New()
	io.Copy(h, io.LimitReader(newStream(seed), n))
	s := [32]byte(h.Sum(nil))
	sumCache[k] = s
	return s
}

func TestManyConcurrentVisitors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	tun, _ := runTunnel(t, clientFor(srv, startEcho(t)))
	port := waitOpen(t, tun)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			msg := strings.Repeat(fmt.Sprintf("visitor %d;", i), 100)
			if _, err := c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			c.(*net.TCPConn).CloseWrite()
			b, err := io.ReadAll(c)
			if err != nil || string(b) != msg {
				errs <- fmt.Errorf("visitor %d: got %d bytes (%v)", i, len(b), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitFor(t, "all visitors counted", 5*time.Second, func() bool {
		st := tun.Status()
		return st.Total == n && st.Active == 0
	})
}

// fakeClock fires AfterFunc callbacks when the test says so.
type fakeClock struct {
	mu     sync.Mutex
	timers []*fakeTimer
}

type fakeTimer struct {
	f       func()
	stopped bool
}

func (c *fakeClock) AfterFunc(_ time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	ft := &fakeTimer{f: f}
	c.timers = append(c.timers, ft)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := !ft.stopped
		ft.stopped = true
		return was
	}
}

// fireAll runs every timer not stopped yet, as if their time had come.
func (c *fakeClock) fireAll() int {
	c.mu.Lock()
	ts := c.timers
	c.timers = nil
	c.mu.Unlock()
	n := 0
	for _, ft := range ts {
		if !ft.stopped {
			ft.stopped = true
			ft.f()
			n++
		}
	}
	return n
}

// rawControl opens a tunnel by hand, so the test decides whether visitors
// are accepted.
func rawControl(t *testing.T, srv *testServer) (net.Conn, *frameReader, uint16) {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
	fr := newFrameReader(c)
	m, err := fr.readServer()
	if err != nil || m.Kind != ServerHello {
		t.Fatalf("hello reply: %+v, %v", m, err)
	}
	return c, fr, m.Port
}

// nextConnection skips heartbeats and returns the next visitor id.
func nextConnection(t *testing.T, fr *frameReader) ServerMessage {
	t.Helper()
	for {
		m, err := fr.readServer()
		if err != nil {
			t.Fatalf("control read: %v", err)
		}
		if m.Kind == ServerConnection {
			return m
		}
	}
}

func TestPendingVisitorExpires(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.clock = clk })
	_, fr, port := rawControl(t, srv)

	v := dialPublic(t, port)
	id := nextConnection(t, fr).ID
	waitFor(t, "pending entry", 5*time.Second, func() bool { return srv.Stats().Pending == 1 })

	// Ten seconds pass with no Accept: the visitor is dropped...
	if n := clk.fireAll(); n != 1 {
		t.Fatalf("fired %d timers, want 1", n)
	}
	wantClosed(t, v, "visitor after expiry")
	if st := srv.Stats(); st.Pending != 0 || st.Refused["expired"] != 1 {
		t.Errorf("stats after expiry: %+v", st)
	}
	// ...and a late Accept is treated as unknown: closed with no reply.
	a, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	a.Write(encodeFrame(ClientMessage{Kind: ClientAccept, ID: id}))
	a.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(a); err != nil || len(b) != 0 {
		t.Fatalf("late accept got %q, %v; want silent close", b, err)
	}
}

func TestAcceptedVisitorDoesNotExpire(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.clock = clk })
	_, fr, port := rawControl(t, srv)
	v := dialPublic(t, port)
	id := nextConnection(t, fr).ID
	a, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	// Bytes behind the Accept frame in the same write reach the visitor.
	a.Write(append(encodeFrame(ClientMessage{Kind: ClientAccept, ID: id}), "BYTES AFTER NUL\n"...))
	v.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReader(v).ReadString('\n')
	if err != nil || line != "BYTES AFTER NUL\n" {
		t.Fatalf("visitor read %q, %v", line, err)
	}
	if n := clk.fireAll(); n != 0 {
		t.Errorf("%d expiry timers still armed after accept", n)
	}
}

func TestPendingCap(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	srv := startServer(t, ServerConfig{MaxPendingPerTunnel: 3}, func(s *Server) { s.clock = clk })
	_, fr, port := rawControl(t, srv)
	for range 3 {
		dialPublic(t, port)
		nextConnection(t, fr)
	}
	extra := dialPublic(t, port)
	wantClosed(t, extra, "visitor over the pending cap")
	if st := srv.Stats(); st.Pending != 3 || st.Refused["pending"] != 1 {
		t.Errorf("stats: %+v", st)
	}
}

func TestHandshakeTimeout(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.handshakeTimeout = 100 * time.Millisecond })
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Fatalf("idle connection got %q, %v; want a silent close", b, err)
	}
}

func TestTunnelsPerIPLimit(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{MaxTunnelsPerIP: 2})
	rawControl(t, srv)
	rawControl(t, srv)
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", srv.port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	m, err := newFrameReader(c).readServer()
	if err != nil || m.Kind != ServerErr || m.Text != errTextTooManyTunnels {
		t.Fatalf("third tunnel got %+v, %v", m, err)
	}
}

// silentServer completes a Hello and then sends nothing, without closing:
// a frozen server.
func silentServer(t *testing.T) (uint16, <-chan struct{}) {
	t.Helper()
	ln := listenLocal(t)
	hello := make(chan struct{}, 10)
	serveLocal(t, ln, func(c net.Conn) {
		fr := newFrameReader(c)
		if _, err := fr.readClient(); err != nil {
			return
		}
		c.Write(encodeFrame(ServerMessage{Kind: ServerHello, Port: 45678}))
		hello <- struct{}{}
		io.Copy(io.Discard, c) // hold the connection open until the client drops it
	})
	return portOf(ln.Addr()), hello
}

func TestHeartbeatLiveness(t *testing.T) {
	t.Parallel()
	port, hello := silentServer(t)
	tun, _ := runTunnel(t, ClientConfig{Server: "127.0.0.1", ControlPort: port, LocalPort: 1}, func(tu *Tunnel) {
		tu.heartbeatTimeout = 200 * time.Millisecond
		tu.backoffInitial = 10 * time.Millisecond
	})
	<-hello
	waitFor(t, "dead connection noticed", 10*time.Second, func() bool {
		st := tun.Status()
		return st.State == StateReconnecting && st.Reason == reasonText(ErrNoHeartbeat)
	})
	select { // and it reconnects
	case <-hello:
	case <-time.After(10 * time.Second):
		t.Fatal("no reconnection after the heartbeat timeout")
	}
}

func TestHeartbeatsKeepTunnelOpen(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.heartbeat = 10 * time.Millisecond })
	tun, _ := runTunnel(t, clientFor(srv, startEcho(t)), func(tu *Tunnel) {
		// Generous beside the 10 ms heartbeats: a loaded machine can
		// stall a goroutine for a few hundred milliseconds.
		tu.heartbeatTimeout = time.Second
	})
	waitOpen(t, tun)
	since := tun.Status().Since
	// Several heartbeat timeouts' worth of time passes with heartbeats
	// flowing: the tunnel stays open on the same connection.
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		if st := tun.Status(); st.State != StateOpen || !st.Since.Equal(since) {
			t.Fatalf("tunnel left open state: %v %q", st.State, st.Reason)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReconnectSamePortAfterServerRestart(t *testing.T) {
	t.Parallel()
	ln := listenLocal(t)
	ctrl := ln.Addr().String()
	srv := serveOn(t, ln, ServerConfig{})
	echoPort := startEcho(t)
	tun, _ := runTunnel(t, clientFor(srv, echoPort), func(tu *Tunnel) { tu.backoffInitial = 20 * time.Millisecond })
	port := waitOpen(t, tun)

	srv.stop()
	waitFor(t, "reconnecting", 10*time.Second, func() bool { return tun.Status().State == StateReconnecting })

	ln2, err := net.Listen("tcp", ctrl)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ln2, ServerConfig{})
	waitFor(t, "reopened", 20*time.Second, func() bool { return tun.Status().State == StateOpen })
	if got := tun.Status().RemotePort; got != port {
		t.Fatalf("reconnected on port %d, want the same port %d", got, port)
	}
	if got := roundTrip(t, dialPublic(t, port), "again"); got != "again" {
		t.Fatalf("after reconnect got %q", got)
	}
}

func TestReconnectTakesNewPortWhenOldIsGone(t *testing.T) {
	t.Parallel()
	ln := listenLocal(t)
	ctrl := ln.Addr().String()
	srv := serveOn(t, ln, ServerConfig{})
	tun, _ := runTunnel(t, clientFor(srv, startEcho(t)), func(tu *Tunnel) { tu.backoffInitial = 5 * time.Millisecond })
	port := waitOpen(t, tun)
	srv.stop()
	waitFor(t, "reconnecting", 10*time.Second, func() bool { return tun.Status().State == StateReconnecting })
	// Someone else takes the port while the server is down.
	squat, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Skipf("port %d was taken meanwhile: %v", port, err)
	}
	defer squat.Close()
	ln2, err := net.Listen("tcp", ctrl)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ln2, ServerConfig{})
	waitFor(t, "reopened on another port", 60*time.Second, func() bool {
		st := tun.Status()
		return st.State == StateOpen && st.RemotePort != port
	})
}

func TestServerUnreachableIsRetried(t *testing.T) {
	t.Parallel()
	ln := listenLocal(t)
	addr := ln.Addr().String()
	port := portOf(ln.Addr())
	ln.Close() // nothing listens there now
	tun, _ := runTunnel(t, ClientConfig{Server: "127.0.0.1", ControlPort: port, LocalPort: startEcho(t)}, func(tu *Tunnel) {
		tu.backoffInitial = 20 * time.Millisecond
	})
	waitFor(t, "retrying", 10*time.Second, func() bool {
		st := tun.Status()
		return st.State == StateReconnecting && strings.Contains(st.Reason, "unreachable") && !st.NextAttempt.IsZero()
	})
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	serveOn(t, ln2, ServerConfig{})
	waitOpen(t, tun)
}

func TestNoReconnectEndsWhenServerCloses(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	cfg := clientFor(srv, startEcho(t))
	cfg.NoReconnect = true
	tun, res := runTunnel(t, cfg)
	waitOpen(t, tun)
	srv.stop()
	select {
	case err := <-res:
		if !errors.Is(err, ErrServerClosed) {
			t.Fatalf("Run = %v, want ErrServerClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("tunnel kept running after the server closed")
	}
}

func TestLocalServiceDownReportedOnce(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	localPort := portOf(ln.Addr())
	ln.Close() // the local service is down
	var seen []string
	var mu sync.Mutex
	tun, _ := runTunnel(t, clientFor(srv, localPort), func(tu *Tunnel) {
		tu.onChange = func(bool) {
			mu.Lock()
			defer mu.Unlock()
			if e := tu.Status().LocalError; len(seen) == 0 || seen[len(seen)-1] != e {
				seen = append(seen, e)
			}
		}
	})
	port := waitOpen(t, tun)
	for range 5 {
		v := dialPublic(t, port)
		v.SetReadDeadline(time.Now().Add(10 * time.Second))
		if n, err := v.Read(make([]byte, 1)); err == nil {
			t.Fatalf("visitor read %d bytes with no local service", n)
		}
	}
	st := tun.Status()
	if st.State != StateOpen || !strings.Contains(st.LocalError, "nothing is listening on 127.0.0.1:") {
		t.Fatalf("status %v, local error %q", st.State, st.LocalError)
	}
	// The service comes back: the next visitor gets through and the
	// problem is cleared.
	ln2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", localPort))
	if err != nil {
		t.Skipf("local port reused meanwhile: %v", err)
	}
	serveLocal(t, ln2, echo)
	if got := roundTrip(t, dialPublic(t, port), "up"); got != "up" {
		t.Fatalf("got %q", got)
	}
	waitFor(t, "local error cleared", 5*time.Second, func() bool { return tun.Status().LocalError == "" })
	mu.Lock()
	defer mu.Unlock()
	reported := 0
	for _, e := range seen {
		if e != "" {
			reported++
		}
	}
	if reported != 1 {
		t.Errorf("local error reported %d times (%q), want once", reported, seen)
	}
}

func TestStopClosesVisitors(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	tun, err := NewTunnel(clientFor(srv, startEcho(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- tun.Run(ctx) }()
	port := waitOpen(t, tun)
	v := dialPublic(t, port)
	v.Write([]byte("x"))
	v.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(v, make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-res; err != nil {
		t.Fatalf("Run after cancel = %v", err)
	}
	if st := tun.Status(); st.State != StateStopped || st.Active != 0 {
		t.Errorf("after stop: %v, %d active", st.State, st.Active)
	}
	if _, err := v.Read(make([]byte, 1)); err == nil {
		t.Error("visitor still open after the tunnel stopped")
	}
}

func TestPendingCapWholeServer(t *testing.T) {
	t.Parallel()
	clk := &fakeClock{}
	srv := startServer(t, ServerConfig{MaxPending: 2, MaxPendingPerIP: 2}, func(s *Server) { s.clock = clk })
	_, fr1, port1 := rawControl(t, srv)
	_, fr2, port2 := rawControl(t, srv)
	dialPublic(t, port1)
	nextConnection(t, fr1)
	dialPublic(t, port2)
	nextConnection(t, fr2)
	// Each tunnel is far below its own cap, but the server is full.
	extra := dialPublic(t, port1)
	wantClosed(t, extra, "visitor over the server-wide pending cap")
	if st := srv.Stats(); st.Pending != 2 || st.Refused["pending"] != 1 {
		t.Errorf("stats: %+v", st)
	}
}
