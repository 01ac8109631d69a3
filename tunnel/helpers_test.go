package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testServer is a Server running on a loopback control port.
type testServer struct {
	*Server
	port   uint16 // control port
	cancel context.CancelFunc
	done   chan struct{}
}

// testMinPort and testMaxPort are the public ports test servers give out
// unless a test asks for others: above Linux's ephemeral range (32768 to
// 60999), so that a tunnel's random port never takes one that another test
// has just found free and is about to bind, such as the replayed
// scenarios' blocks (as tunneltest.MinPort does for other packages).
const (
	testMinPort = 61000
	testMaxPort = 65535
)

// startServer runs a Server on 127.0.0.1:0 with tunnels on 127.0.0.1 and
// stops it when the test ends.
func startServer(t *testing.T, cfg ServerConfig, tweak ...func(*Server)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, ln, cfg, tweak...)
}

func serveOn(t *testing.T, ln net.Listener, cfg ServerConfig, tweak ...func(*Server)) *testServer {
	t.Helper()
	if cfg.BindTunnels == "" {
		cfg.BindTunnels = "127.0.0.1"
	}
	if cfg.MinPort == 0 && cfg.MaxPort == 0 {
		cfg.MinPort, cfg.MaxPort = testMinPort, testMaxPort
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tweak {
		f(srv)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{Server: srv, port: uint16(ln.Addr().(*net.TCPAddr).Port), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(ts.done)
		if err := srv.Serve(ctx, ln); err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(ts.stop)
	return ts
}

// stop shuts the server down and waits for it.
func (s *testServer) stop() {
	s.cancel()
	<-s.done
}

// listenLocal opens a loopback listener closed at the end of the test.
func listenLocal(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

func portOf(a net.Addr) uint16 { return uint16(a.(*net.TCPAddr).Port) }

// serveLocal runs handler for each connection on ln until the test ends.
func serveLocal(t *testing.T, ln net.Listener, handler func(net.Conn)) {
	t.Helper()
	var wg sync.WaitGroup
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handler(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		wg.Wait()
	})
}

// echo copies everything back, then half-closes.
func echo(c net.Conn) {
	io.Copy(c, c)
	c.(*net.TCPConn).CloseWrite()
}

// startEcho runs an echo service and returns its port.
func startEcho(t *testing.T) uint16 {
	t.Helper()
	ln := listenLocal(t)
	serveLocal(t, ln, echo)
	return portOf(ln.Addr())
}

// runTunnel runs a client tunnel until the test ends and returns it with
// a channel carrying Run's result.
func runTunnel(t *testing.T, cfg ClientConfig, tweak ...func(*Tunnel)) (*Tunnel, <-chan error) {
	t.Helper()
	tun, err := NewTunnel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range tweak {
		f(tun)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		res <- tun.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("tunnel did not stop within 10s of cancel")
		}
	})
	return tun, res
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitOpen waits for the tunnel to be open and returns its public port.
func waitOpen(t *testing.T, tun *Tunnel) uint16 {
	t.Helper()
	var st Status
	waitFor(t, "tunnel open", 10*time.Second, func() bool {
		st = tun.Status()
		if st.State == StateFailed {
			t.Fatalf("tunnel failed: %s", st.Reason)
		}
		return st.State == StateOpen
	})
	return st.RemotePort
}

// dialPublic connects to a tunnel's public port.
func dialPublic(t *testing.T, port uint16) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

// roundTrip writes msg, half-closes, and returns everything read back.
func roundTrip(t *testing.T, c *net.TCPConn, msg string) string {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	b, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read back: %v", err)
	}
	return string(b)
}

func clientFor(s *testServer, localPort uint16) ClientConfig {
	return ClientConfig{Server: "127.0.0.1", ControlPort: s.port, LocalHost: "127.0.0.1", LocalPort: localPort}
}

// wantClosed fails the test when a read on c within 5 s returns data
// instead of an error: the peer was to close it.
func wantClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatalf("%s: read %d bytes, want a closed connection", what, n)
	}
}
