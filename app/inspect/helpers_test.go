package inspect

import (
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel"
	"github.com/boretray/bore/tunnel/tunneltest"
	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startTunnel runs our server and client on loopback, the client sharing
// local (host:port) through wrap, and returns the public address.
func startTunnel(t testing.TB, local string, wrap tunnel.ConnWrapper) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(local)
	p, _ := strconv.Atoi(port)
	_, public := tunneltest.StartTunnel(t, tunnel.ClientConfig{LocalHost: host, LocalPort: uint16(p), WrapLocal: wrap})
	return public
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
