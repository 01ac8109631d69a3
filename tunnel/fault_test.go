//go:build linux

package tunnel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// Fault tests: the client side against servers that restart, freeze or
// vanish, links that freeze or are cut, and local services that come and
// go. The rule they check: a tunnel never stays Open while it carries
// nothing, and it comes back by itself once the fault is gone.

// TestServerRestartsVisitorsReturn restarts the server three times under
// a tunnel with visitors: the visitor in flight at each restart is closed,
// not left hanging, and after each restart the tunnel is back on the same
// public port and serves many visitors at once.
func TestServerRestartsVisitorsReturn(t *testing.T) {
	t.Parallel()
	ln := listenLocal(t)
	ctrl := ln.Addr().String()
	srv := serveOn(t, ln, ServerConfig{})
	tun, _ := runTunnel(t, clientFor(srv, startEcho(t)), func(tu *Tunnel) {
		tu.backoffInitial = 20 * time.Millisecond
		tu.backoffMax = 200 * time.Millisecond
	})
	port := waitOpen(t, tun)
	for round := range 3 {
		// A visitor mid-conversation when the server goes away.
		v := dialPublic(t, port)
		v.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := v.Write([]byte("hello")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(v, make([]byte, 5)); err != nil {
			t.Fatalf("round %d: echo before the restart: %v", round, err)
		}
		srv.stop()
		if _, err := io.Copy(io.Discard, v); err != nil && isTimeout(err) {
			t.Fatalf("round %d: the visitor was left hanging after the server stopped", round)
		}
		waitFor(t, "reconnecting", 10*time.Second, func() bool { return tun.Status().State == StateReconnecting })

		ln2, err := net.Listen("tcp", ctrl)
		if err != nil {
			t.Skipf("control port %s was taken while the server was down: %v", ctrl, err)
		}
		srv = serveOn(t, ln2, ServerConfig{})
		if got := waitOpen(t, tun); got != port {
			t.Fatalf("round %d: reopened on port %d, want the same port %d", round, got, port)
		}
		visitMany(t, port, 20, fmt.Sprintf("round %d", round))
	}
}

// visitMany runs n visitors at once through port, each echoing its own
// message.
func visitMany(t *testing.T, port uint16, n int, tag string) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", joinHostPort("127.0.0.1", port), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			msg := strings.Repeat(fmt.Sprintf("%s visitor %d;", tag, i), 50)
			if _, err := c.Write([]byte(msg)); err != nil {
				errs <- err
				return
			}
			c.(*net.TCPConn).CloseWrite()
			b, err := io.ReadAll(c)
			if err != nil || string(b) != msg {
				errs <- fmt.Errorf("%s visitor %d: got %d of %d bytes back (%v)", tag, i, len(b), len(msg), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestFrozenServerProcess stops a real "bore server" process with SIGSTOP:
// nothing is closed, the server just goes silent. The client must take
// the tunnel out of Open within its heartbeat bound (5 s) and, after
// SIGCONT, reopen it and carry traffic again.
func TestFrozenServerProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("uses SIGSTOP and SIGCONT on a child process: Linux only")
	}
	if testing.Short() {
		t.Skip("builds bore and waits out a real heartbeat timeout; skipped with -short")
	}
	t.Parallel()
	bore := proctest.BuildBore(t)
	srv, ctrl := startBoreServer(t, bore)
	tun, _ := runTunnel(t, ClientConfig{Server: "127.0.0.1", ControlPort: ctrl, LocalHost: "127.0.0.1", LocalPort: startEcho(t)}, func(tu *Tunnel) {
		tu.backoffInitial = 50 * time.Millisecond
		tu.backoffMax = 500 * time.Millisecond
	})
	if tun.heartbeatTimeout != heartbeatTimeout {
		t.Fatalf("the test must run with the default heartbeat timeout")
	}
	port := waitOpen(t, tun)
	if got := roundTrip(t, dialPublic(t, port), "before"); got != "before" {
		t.Fatalf("before the freeze got %q", got)
	}

	if err := srv.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Signal(syscall.SIGCONT) })
	// The bound is heartbeatTimeout (5 s); the deadline leaves room for a
	// loaded machine without asserting how long it took.
	waitFor(t, "the frozen server noticed", 3*heartbeatTimeout, func() bool {
		st := tun.Status()
		return st.State == StateReconnecting && st.Reason == "the server stopped responding"
	})
	if st := tun.Status(); st.State == StateOpen {
		t.Fatalf("tunnel open while the server is frozen")
	}

	if err := srv.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	// The server frees the old port when it sees our client closed the old
	// connection, or after its ClientTimeout (15 s) at worst; the client
	// asks for the old port a few times before taking any.
	var st Status
	waitFor(t, "reopened after SIGCONT", 60*time.Second, func() bool {
		st = tun.Status()
		return st.State == StateOpen
	})
	if st.RemotePort != port {
		t.Logf("reopened on port %d instead of %d (the server had not yet freed the old one)", st.RemotePort, port)
	}
	if got := roundTrip(t, dialPublic(t, st.RemotePort), "after"); got != "after" {
		t.Fatalf("after SIGCONT got %q", got)
	}
}

// lockedBuffer is an io.Writer safe to read while a process writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startBoreServer runs "bore server" on a free loopback control port until
// the test ends and returns the process and the port.
func startBoreServer(t *testing.T, bore string) (*exec.Cmd, uint16) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := portOf(ln.Addr())
		ln.Close()
		var out lockedBuffer
		cmd := exec.Command(bore, "server", "--bind-addr", "127.0.0.1", "--control-port", strconv.Itoa(int(port)))
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start bore server: %v", err)
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		stop := func() {
			cmd.Process.Signal(syscall.SIGCONT)
			cmd.Process.Kill()
			<-exited
		}
		deadline := time.Now().Add(15 * time.Second)
		for !strings.Contains(out.String(), "server listening") {
			select {
			case <-exited:
			default:
				if time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
					continue
				}
			}
			stop()
			if attempt < 3 && strings.Contains(out.String(), "address already in use") {
				break // another program took the port meanwhile: retry
			}
			t.Fatalf("bore server did not come up; its output:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "server listening") {
			continue
		}
		t.Cleanup(stop)
		return cmd, port
	}
}

// TestUnreachableServerDoesNotLeak keeps the server unreachable for 200
// failed attempts (more than 10 minutes' worth at the real backoff) and
// checks that goroutines and open descriptors do not grow per attempt,
// then brings the server back and sees the tunnel open. It does not run
// in parallel, so the counts are this test's alone.
func TestUnreachableServerDoesNotLeak(t *testing.T) {
	ln := listenLocal(t)
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	tun, _ := runTunnel(t, ClientConfig{Server: addr, LocalHost: "127.0.0.1", LocalPort: startEcho(t)}, func(tu *Tunnel) {
		tu.backoffInitial = time.Millisecond
		tu.backoffMax = 2 * time.Millisecond
	})
	attempts := func(n int) {
		t.Helper()
		waitFor(t, fmt.Sprintf("%d failed attempts", n), 60*time.Second, func() bool {
			st := tun.Status()
			if st.State == StateOpen || st.State == StateFailed {
				t.Fatalf("tunnel %v (%s) with no server", st.State, st.Reason)
			}
			return st.Attempt >= n
		})
	}
	attempts(20)
	g1, f1 := runtime.NumGoroutine(), openFDs(t)
	attempts(220)
	g2, f2 := runtime.NumGoroutine(), openFDs(t)
	t.Logf("after 20 attempts: %d goroutines, %d fds; after 220: %d goroutines, %d fds", g1, f1, g2, f2)
	if g2 > g1+5 {
		t.Errorf("goroutines grew from %d to %d over 200 failed attempts", g1, g2)
	}
	if f1 >= 0 && f2 > f1+5 {
		t.Errorf("open descriptors grew from %d to %d over 200 failed attempts", f1, f2)
	}
	if st := tun.Status(); st.Reason != "server unreachable: connection refused" {
		t.Errorf("reason %q, want the server reported unreachable", st.Reason)
	}

	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("control port %s was taken meanwhile: %v", addr, err)
	}
	serveOn(t, ln2, ServerConfig{})
	port := waitOpen(t, tun)
	if got := roundTrip(t, dialPublic(t, port), "back"); got != "back" {
		t.Fatalf("after the server came back got %q", got)
	}
}

// openFDs counts this process's open file descriptors, or -1 where /proc
// is missing.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// TestLocalServiceOutagesReportedOnceEach takes the local service down and
// up three times: visitors meanwhile get a closed connection, the tunnel
// stays open on the same control connection, and each outage is reported
// exactly once and cleared once the service is back.
func TestLocalServiceOutagesReportedOnceEach(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	localPort := portOf(ln.Addr())
	var (
		mu       sync.Mutex
		reported int
		last     string
	)
	tun, _ := runTunnel(t, clientFor(srv, localPort), func(tu *Tunnel) {
		tu.onChange = func(bool) {
			mu.Lock()
			defer mu.Unlock()
			if e := tu.Status().LocalError; e != last {
				if e != "" {
					reported++
				}
				last = e
			}
		}
	})
	serveLocal(t, ln, echo)
	port := waitOpen(t, tun)
	since := tun.Status().Since
	for round := range 3 {
		if got := roundTrip(t, dialPublic(t, port), "up"); got != "up" {
			t.Fatalf("round %d: with the service up got %q", round, got)
		}
		ln.Close()
		for range 4 {
			v := dialPublic(t, port)
			v.SetReadDeadline(time.Now().Add(10 * time.Second))
			n, err := v.Read(make([]byte, 1))
			if err == nil {
				t.Fatalf("round %d: visitor read %d bytes with the service down", round, n)
			}
			if isTimeout(err) {
				t.Fatalf("round %d: visitor left hanging with the service down", round)
			}
		}
		st := tun.Status()
		if st.State != StateOpen || !st.Since.Equal(since) || !strings.Contains(st.LocalError, "nothing is listening") {
			t.Fatalf("round %d: state %v since %v (was %v), local error %q", round, st.State, st.Since, since, st.LocalError)
		}
		var err error
		ln, err = net.Listen("tcp", joinHostPort("127.0.0.1", localPort))
		if err != nil {
			t.Skipf("local port %d was taken meanwhile: %v", localPort, err)
		}
		serveLocal(t, ln, echo)
		if got := roundTrip(t, dialPublic(t, port), "back"); got != "back" {
			t.Fatalf("round %d: with the service back got %q", round, got)
		}
		waitFor(t, "local error cleared", 5*time.Second, func() bool { return tun.Status().LocalError == "" })
		mu.Lock()
		n := reported
		mu.Unlock()
		if n != round+1 {
			t.Fatalf("after %d outages the local error was reported %d times", round+1, n)
		}
	}
}

// faultProxy is a TCP proxy between the client and the server's control
// port that can freeze its links (stop forwarding, close nothing: a
// sleeping laptop, a dead Wi-Fi) or cut them (reset both sides).
type faultProxy struct {
	ln     net.Listener
	target string

	mu       sync.Mutex
	freezeIn bool // new links start frozen
	links    map[*proxyLink]struct{}
	wg       sync.WaitGroup
}

// proxyLink is one proxied connection.
type proxyLink struct {
	client, server *net.TCPConn

	mu     sync.Mutex
	gate   chan struct{} // closed while the link forwards
	closed chan struct{}
	once   sync.Once
}

// startFaultProxy proxies a loopback port to target until the test ends.
func startFaultProxy(t *testing.T, target string) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, links: map[*proxyLink]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) port() uint16 { return portOf(p.ln.Addr()) }

func (p *faultProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		l := &proxyLink{client: c.(*net.TCPConn), server: s.(*net.TCPConn), gate: make(chan struct{}), closed: make(chan struct{})}
		p.mu.Lock()
		if !p.freezeIn {
			close(l.gate)
		}
		p.links[l] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.forward(l, l.server, l.client)
		go p.forward(l, l.client, l.server)
	}
}

// forward copies src to dst, holding each chunk (and the EOF) while the
// link is frozen.
func (p *faultProxy) forward(l *proxyLink, dst, src *net.TCPConn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if !l.pass() {
			return
		}
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				l.close(false)
				return
			}
		}
		if errors.Is(err, io.EOF) {
			dst.CloseWrite()
			return
		}
		if err != nil {
			l.close(false)
			return
		}
	}
}

// pass waits until the link forwards; false when it was closed instead.
func (l *proxyLink) pass() bool {
	l.mu.Lock()
	gate := l.gate
	l.mu.Unlock()
	select {
	case <-gate:
		return true
	case <-l.closed:
		return false
	}
}

func (l *proxyLink) freeze() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.gate:
		l.gate = make(chan struct{})
	default:
	}
}

func (l *proxyLink) thaw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.gate:
	default:
		close(l.gate)
	}
}

// close closes both sides; reset makes it an RST instead of a FIN.
func (l *proxyLink) close(reset bool) {
	l.once.Do(func() {
		if reset {
			l.client.SetLinger(0)
			l.server.SetLinger(0)
		}
		close(l.closed)
		l.client.Close()
		l.server.Close()
	})
}

// freeze stops forwarding on every link; with newToo, links opened from
// now on start frozen as well (a machine asleep), otherwise they pass (a
// network change: the old connections are dead, new ones work).
func (p *faultProxy) freeze(newToo bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.freezeIn = newToo
	for l := range p.links {
		l.freeze()
	}
}

// thaw resumes forwarding on every link.
func (p *faultProxy) thaw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.freezeIn = false
	for l := range p.links {
		l.thaw()
	}
}

// cut resets every link, both sides.
func (p *faultProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for l := range p.links {
		l.close(true)
		delete(p.links, l)
	}
}

func (p *faultProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for l := range p.links {
		l.close(false)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// proxiedTunnel runs a server, a fault proxy in front of its control port
// and a tunnel through the proxy with short liveness timers.
func proxiedTunnel(t *testing.T) (*testServer, *faultProxy, *Tunnel, *stateLog) {
	t.Helper()
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.heartbeat = 20 * time.Millisecond })
	p := startFaultProxy(t, joinHostPort("127.0.0.1", srv.port))
	cfg := clientFor(srv, startEcho(t))
	cfg.ControlPort = p.port()
	log := new(stateLog)
	tun, _ := runTunnel(t, cfg, func(tu *Tunnel) {
		tu.heartbeatTimeout = 300 * time.Millisecond
		tu.backoffInitial = 50 * time.Millisecond
		tu.backoffMax = 200 * time.Millisecond
		tu.onChange = func(bool) { log.record(tu.Status()) }
	})
	return srv, p, tun, log
}

// stateLog records every state a tunnel passes through, so a test sees a
// Reconnecting that lasted too short a time for polling to catch.
type stateLog struct {
	mu     sync.Mutex
	states []Status
}

func (l *stateLog) record(st Status) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.states); n == 0 || l.states[n-1].State != st.State || l.states[n-1].Reason != st.Reason {
		l.states = append(l.states, st)
	}
}

// mark returns a position in the log; seen looks only after it.
func (l *stateLog) mark() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.states)
}

func (l *stateLog) seen(after int, state State, reason string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, st := range l.states[after:] {
		if st.State == state && (reason == "" || st.Reason == reason) {
			return true
		}
	}
	return false
}

// leavesOpen waits for the tunnel to leave Open after a fault (marked by
// from), within a generous multiple of its heartbeat bound.
func leavesOpen(t *testing.T, tun *Tunnel, log *stateLog, from int, reason string) {
	t.Helper()
	waitFor(t, "tunnel leaves Open", 10*time.Second+20*tun.heartbeatTimeout, func() bool {
		return log.seen(from, StateReconnecting, reason)
	})
}

// TestFrozenLinkSleepAndResume freezes every connection, old and new, as
// a machine going to sleep does: the tunnel leaves Open within its
// heartbeat bound, and once the link thaws it is open again and carries
// traffic.
func TestFrozenLinkSleepAndResume(t *testing.T) {
	t.Parallel()
	_, p, tun, log := proxiedTunnel(t)
	port := waitOpen(t, tun)
	if got := roundTrip(t, dialPublic(t, port), "awake"); got != "awake" {
		t.Fatalf("got %q", got)
	}
	from := log.mark()
	p.freeze(true)
	leavesOpen(t, tun, log, from, "the server stopped responding")
	p.thaw()
	waitFor(t, "open after resume", 30*time.Second, func() bool { return tun.Status().State == StateOpen })
	st := tun.Status()
	if st.RemotePort != port {
		t.Logf("resumed on port %d instead of %d", st.RemotePort, port)
	}
	if got := roundTrip(t, dialPublic(t, st.RemotePort), "resumed"); got != "resumed" {
		t.Fatalf("after resume got %q", got)
	}
}

// TestFrozenLinkNetworkChange freezes the open connections for good while
// new ones work, as when a laptop moves to another network: the tunnel
// leaves Open, reconnects over a new connection and, the server still
// holding the old port for the dead connection, takes another port.
func TestFrozenLinkNetworkChange(t *testing.T) {
	t.Parallel()
	_, p, tun, log := proxiedTunnel(t)
	port := waitOpen(t, tun)
	from := log.mark()
	p.freeze(false)
	leavesOpen(t, tun, log, from, "the server stopped responding")
	var st Status
	waitFor(t, "open on a new connection", 30*time.Second, func() bool {
		st = tun.Status()
		return st.State == StateOpen && st.RemotePort != 0
	})
	if st.RemotePort == port {
		t.Fatalf("reopened on the old port %d although the server still holds it", port)
	}
	if got := roundTrip(t, dialPublic(t, st.RemotePort), "moved"); got != "moved" {
		t.Fatalf("after the network change got %q", got)
	}
}

// TestCutLinkReconnects resets every connection on both sides: the client
// reconnects at once and, the server having seen the reset too, gets its
// old port back.
func TestCutLinkReconnects(t *testing.T) {
	t.Parallel()
	_, p, tun, _ := proxiedTunnel(t)
	port := waitOpen(t, tun)
	since := tun.Status().Since
	p.cut()
	waitFor(t, "reopened after the cut", 30*time.Second, func() bool {
		st := tun.Status()
		return st.State == StateOpen && st.Since.After(since)
	})
	if got := tun.Status().RemotePort; got != port {
		t.Fatalf("reopened on port %d, want the old port %d", got, port)
	}
	if got := roundTrip(t, dialPublic(t, port), "spliced"); got != "spliced" {
		t.Fatalf("after the cut got %q", got)
	}
}

// deadlineConn records the read deadlines set on a control connection.
type deadlineConn struct {
	*net.TCPConn
	rec *deadlineLog
}

// deadlineLog is the read deadlines set, with when they were set.
type deadlineLog struct {
	mu  sync.Mutex
	set [][2]time.Time // {when, deadline}
}

func (c deadlineConn) SetReadDeadline(d time.Time) error {
	c.rec.mu.Lock()
	c.rec.set = append(c.rec.set, [2]time.Time{time.Now(), d})
	c.rec.mu.Unlock()
	return c.TCPConn.SetReadDeadline(d)
}

// recordingDialer wraps connections to the control address.
type recordingDialer struct {
	ctrl string
	rec  *deadlineLog
}

func (d recordingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := new(net.Dialer).DialContext(ctx, network, addr)
	if err != nil || addr != d.ctrl {
		return c, err
	}
	return deadlineConn{c.(*net.TCPConn), d.rec}, nil
}

// TestLivenessDeadlineIsMonotonic documents why a jump of the wall clock
// (NTP after a sleep, a user changing the time) can neither kill a healthy
// tunnel nor keep a dead one open: the liveness check is a read deadline
// re-armed from time.Now() after every frame, and time.Now() carries a
// monotonic reading that deadlines are measured by. A deadline without
// one would follow the wall clock.
func TestLivenessDeadlineIsMonotonic(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.heartbeat = 10 * time.Millisecond })
	rec := &deadlineLog{}
	cfg := clientFor(srv, startEcho(t))
	cfg.Dialer = recordingDialer{ctrl: joinHostPort("127.0.0.1", srv.port), rec: rec}
	tun, _ := runTunnel(t, cfg)
	waitOpen(t, tun)
	// Heartbeats re-arm the deadline: wait for a few.
	waitFor(t, "deadline re-armed by heartbeats", 10*time.Second, func() bool {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		return len(rec.set) >= 5
	})
	rec.mu.Lock()
	defer rec.mu.Unlock()
	armed := 0
	for _, s := range rec.set {
		when, d := s[0], s[1]
		if d.IsZero() {
			continue
		}
		armed++
		if !strings.Contains(d.String(), " m=") {
			t.Errorf("read deadline %v has no monotonic reading: a wall-clock jump would move it", d)
		}
		if !d.After(when) || d.Sub(when) > tun.heartbeatTimeout {
			t.Errorf("read deadline %v set at %v: want within %v ahead", d, when, tun.heartbeatTimeout)
		}
	}
	if armed == 0 {
		t.Fatal("the client set no read deadline on the control connection: nothing would notice a frozen server")
	}
}
