package inspect

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startTunnel runs our server and client on loopback, the client sharing
// local (host:port) through wrap, and returns the public address.
func startTunnel(t testing.TB, local string, wrap tunnel.ConnWrapper) string {
	t.Helper()
	srv, err := tunnel.NewServer(tunnel.ServerConfig{BindTunnels: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); srv.Serve(ctx, ln) }()
	host, port, _ := net.SplitHostPort(local)
	p, _ := strconv.Atoi(port)
	tun, err := tunnel.NewTunnel(tunnel.ClientConfig{
		Server: ln.Addr().String(), LocalHost: host, LocalPort: uint16(p), WrapLocal: wrap,
	})
	if err != nil {
		t.Fatal(err)
	}
	go func() { defer wg.Done(); tun.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := tun.Status()
		if st.State == tunnel.StateOpen && st.RemotePort != 0 {
			return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(st.RemotePort)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("tunnel did not open: %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// newInspector starts an Inspector for target, closed with the test.
func newInspector(t testing.TB, target string, opts Options) *Inspector {
	t.Helper()
	opts.Target = target
	in, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	return in
}

// find returns the kept summaries matching f.
func find(in *Inspector, f func(summary) bool) []summary {
	var out []summary
	for _, s := range in.store.list() {
		if f(s) {
			out = append(out, s)
		}
	}
	return out
}
