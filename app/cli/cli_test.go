package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/boretray/bore/tunnel"
	"github.com/boretray/bore/tunnel/tunneltest"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func run(t *testing.T, ctx context.Context, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncBuffer
	code := Run(ctx, args, IO{Getenv: func(k string) string { return env[k] }, Stdout: &out, Stderr: &errOut}, "1.2.3")
	return code, out.String(), errOut.String()
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no command", nil, nil, "Usage"},
		{"unknown command", nil, []string{"tunnel"}, "unrecognized subcommand"},
		{"local without port", nil, []string{"local", "--to", "x"}, "<LOCAL_PORT>"},
		{"local without to", nil, []string{"local", "3000"}, "--to <SERVER>"},
		{"local bad port", nil, []string{"local", "http", "--to", "x"}, "invalid value \"http\""},
		{"local port too big", nil, []string{"local", "70000", "--to", "x"}, "invalid value \"70000\""},
		{"local two ports", nil, []string{"local", "1", "2", "--to", "x"}, "unexpected argument"},
		{"local unknown flag", nil, []string{"local", "1", "--to", "x", "--bogus"}, "flag provided but not defined"},
		{"local remote port too big", nil, []string{"local", "1", "--to", "x", "-p", "65536"}, "--port"},
		{"local bad env port", map[string]string{"BORE_LOCAL_PORT": "abc"}, []string{"local", "--to", "x"}, "BORE_LOCAL_PORT"},
		{"local bad control port", nil, []string{"local", "1", "--to", "x:abc"}, "invalid control port"},
		{"local bad log level", nil, []string{"local", "1", "--to", "x", "--log-level", "loud"}, "invalid log level"},
		{"server empty range", nil, []string{"server", "--min-port", "2000", "--max-port", "1000"}, "port range is empty"},
		{"server env empty range", map[string]string{"BORE_MIN_PORT": "3000", "BORE_MAX_PORT": "2000"}, []string{"server"}, "port range is empty"},
		{"server bind host name", nil, []string{"server", "--bind-addr", "localhost"}, "expected an IP address"},
		{"server positional", nil, []string{"server", "extra"}, "unexpected argument"},
		{"server zero pending per ip", nil, []string{"server", "--max-pending-per-ip", "0"}, "--max-pending-per-ip must be at least 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := run(t, context.Background(), tc.env, tc.args...)
			if code != ExitUsage {
				t.Errorf("exit code %d, want %d", code, ExitUsage)
			}
			if !strings.Contains(errOut, tc.want) {
				t.Errorf("stderr %q does not mention %q", errOut, tc.want)
			}
		})
	}
}

func TestHelpAndVersion(t *testing.T) {
	t.Parallel()
	env := map[string]string{"BORE_SECRET": "hunter2-very-secret"}
	for _, args := range [][]string{{"--help"}, {"local", "--help"}, {"local", "-h"}, {"server", "--help"}} {
		code, out, _ := run(t, context.Background(), env, args...)
		if code != ExitOK || !strings.Contains(out, "Usage") {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
		if strings.Contains(out, "hunter2") {
			t.Errorf("%v: help shows the secret", args)
		}
	}
	for _, args := range [][]string{{"--version"}, {"-V"}} {
		if code, out, _ := run(t, context.Background(), nil, args...); code != ExitOK || out != "bore 1.2.3\n" {
			t.Errorf("%v: exit %d, output %q", args, code, out)
		}
	}
	_, out, _ := run(t, context.Background(), nil, "local", "--help")
	for _, flag := range []string{"--to", "--local-host", "--port", "--secret", "--control-port", "--no-reconnect", "BORE_SERVER", "BORE_SECRET", "BORE_LOCAL_PORT"} {
		if !strings.Contains(out, flag) {
			t.Errorf("local help lacks %s", flag)
		}
	}
	_, out, _ = run(t, context.Background(), nil, "server", "--help")
	for _, flag := range []string{"--min-port", "--max-port", "--secret", "--bind-addr", "--bind-tunnels", "--control-port", "BORE_MIN_PORT", "BORE_MAX_PORT"} {
		if !strings.Contains(out, flag) {
			t.Errorf("server help lacks %s", flag)
		}
	}
}

// freePort returns a loopback port nobody listens on at the moment.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServerCmd runs "bore server" in the test and returns its control
// port once it listens.
func startServerCmd(t *testing.T, env map[string]string, args ...string) (int, *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var port int
	var out *syncBuffer
	for attempt := 0; ; attempt++ {
		port = freePort(t)
		out = new(syncBuffer)
		done := make(chan int, 1)
		all := append([]string{"server", "--bind-addr", "127.0.0.1", "--control-port", fmt.Sprint(port)}, args...)
		go func() {
			done <- Run(ctx, all, IO{Getenv: func(k string) string { return env[k] }, Stdout: out, Stderr: out}, "test")
		}()
		deadline := time.Now().Add(10 * time.Second)
		for !strings.Contains(out.String(), "server listening") {
			select {
			case code := <-done:
				if attempt < 3 {
					goto retry
				}
				t.Fatalf("server exited with %d: %s", code, out)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("server did not start: %s", out)
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Cleanup(func() {
			cancel()
			if code := <-done; code != ExitOK {
				t.Errorf("server exit code %d after shutdown", code)
			}
		})
		return port, out
	retry:
	}
}

func echoService(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestLocalAgainstServer(t *testing.T) {
	t.Parallel()
	secret := "s3cret-value"
	ctrl, srvOut := startServerCmd(t, map[string]string{"BORE_SECRET": secret}, "--min-port", "1024")
	echo := echoService(t)

	// Wrong secret from the environment: exit 1 with the server's words.
	code, out, errOut := run(t, context.Background(), map[string]string{"BORE_SECRET": "nope", "BORE_SERVER": fmt.Sprintf("127.0.0.1:%d", ctrl)}, "local", fmt.Sprint(echo))
	if code != ExitRuntime || !strings.Contains(errOut, "invalid secret") {
		t.Fatalf("wrong secret: exit %d, stderr %q", code, errOut)
	}
	if strings.Contains(out+errOut+srvOut.String(), "nope") || strings.Contains(srvOut.String(), secret) {
		t.Error("a secret appears in the output")
	}

	// Right secret, local port from the environment: the tunnel opens and
	// carries bytes; cancelling (Ctrl-C) exits 0.
	ctx, cancel := context.WithCancel(context.Background())
	var lout syncBuffer
	done := make(chan int, 1)
	env := map[string]string{"BORE_LOCAL_PORT": fmt.Sprint(echo), "BORE_SECRET": secret}
	go func() {
		done <- Run(ctx, []string{"local", "--to", "127.0.0.1", "--control-port", fmt.Sprint(ctrl)},
			IO{Getenv: func(k string) string { return env[k] }, Stdout: &lout, Stderr: &lout}, "test")
	}()
	var public string
	deadline := time.Now().Add(10 * time.Second)
	for public == "" {
		if i := strings.Index(lout.String(), "listening at "); i >= 0 {
			public = strings.Fields(lout.String()[i+len("listening at "):])[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no listening line: %s", lout.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := net.Dial("tcp", public)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("ping"))
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("through the tunnel: %q, %v", buf, err)
	}
	c.Close()
	cancel()
	if code := <-done; code != ExitOK {
		t.Errorf("exit code after cancel %d, want 0", code)
	}
	if strings.Contains(lout.String(), secret) {
		t.Error("the secret appears in the client's logs")
	}
}

func TestLocalPortOutOfRange(t *testing.T) {
	t.Parallel()
	ctrl, _ := startServerCmd(t, nil, "--min-port", "30000", "--max-port", "30010")
	code, _, errOut := run(t, context.Background(), nil, "local", "1", "--to", fmt.Sprintf("127.0.0.1:%d", ctrl), "-p", "40000")
	if code != ExitRuntime || !strings.Contains(errOut, "client port number not in allowed range") {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
}

func TestNoReconnectExitsZeroWhenServerStops(t *testing.T) {
	t.Parallel()
	srv, err := tunnel.NewServer(tunnel.ServerConfig{BindTunnels: "127.0.0.1", MinPort: tunneltest.MinPort, MaxPort: tunneltest.MaxPort})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, scancel := context.WithCancel(context.Background())
	sdone := make(chan struct{})
	go func() { defer close(sdone); srv.Serve(sctx, ln) }()
	defer func() { scancel(); <-sdone }()

	var out syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- Run(context.Background(), []string{"local", "1", "--to", ln.Addr().String(), "--no-reconnect"},
			IO{Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &out}, "test")
	}()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "listening at") {
		if time.Now().After(deadline) {
			t.Fatalf("tunnel did not open: %s", out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	scancel()
	select {
	case code := <-done:
		if code != ExitOK {
			t.Fatalf("exit %d, want 0 (bore exits 0 when the server closes): %s", code, out.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("client kept running with --no-reconnect")
	}
}
