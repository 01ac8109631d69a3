// Package tunneltest runs a bore server, and tunnels through it, on
// loopback for the tests of the packages built on the tunnel engine.
//
// Each helper stops what it started, and waits for its goroutines, when the
// test ends.
package tunneltest

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel"
)

// MinPort and MaxPort are the public ports test servers give out unless a
// test asks for others: above Linux's ephemeral range (32768 to 60999), so
// that a tunnel's random port never takes one that a test has just found
// free and is about to bind, such as the captured scenarios' fixed blocks.
const (
	MinPort = 61000
	MaxPort = 65535
)

// StartServer runs our server on a free loopback port, with its tunnels on
// 127.0.0.1 and public ports between MinPort and MaxPort unless cfg says
// otherwise, and returns its control address.
func StartServer(t testing.TB, cfg tunnel.ServerConfig) string {
	t.Helper()
	if cfg.BindTunnels == "" {
		cfg.BindTunnels = "127.0.0.1"
	}
	if cfg.MinPort == 0 && cfg.MaxPort == 0 {
		cfg.MinPort, cfg.MaxPort = MinPort, MaxPort
	}
	srv, err := tunnel.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); ln.Close(); <-done })
	return ln.Addr().String()
}

// StartTunnel runs a client for cfg and waits until its tunnel is open. An
// empty cfg.Server gets a server of its own from StartServer. It returns the
// tunnel and its public address.
func StartTunnel(t testing.TB, cfg tunnel.ClientConfig) (*tunnel.Tunnel, string) {
	t.Helper()
	if cfg.Server == "" {
		cfg.Server = StartServer(t, tunnel.ServerConfig{})
	}
	tun, err := tunnel.NewTunnel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { tun.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if st := tun.Status(); st.State == tunnel.StateOpen && st.RemotePort != 0 {
			return tun, net.JoinHostPort("127.0.0.1", strconv.Itoa(int(st.RemotePort)))
		}
		if time.Now().After(deadline) {
			t.Fatalf("the tunnel to %s did not open: %+v", cfg.Server, tun.Status())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
