package tunnel

import (
	"context"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// inPrivateNetwork runs f on a thread moved into a network namespace of
// its own, with only a loopback interface, so that f may listen on
// 0.0.0.0 and :: without opening a port on this machine's networks.
// Sockets f opens stay in that namespace; goroutines f starts do not, so
// f must listen and dial itself. Needs root (CAP_SYS_ADMIN); skipped
// without it, except under CI.
func inPrivateNetwork(t *testing.T, f func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread, changed for good, ends with this
		// goroutine.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		ifr, err := unix.NewIfreq("lo")
		if err != nil {
			errc <- err
			return
		}
		ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
		if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
			errc <- err
			return
		}
		f()
		errc <- nil
	}()
	if err := <-errc; err != nil {
		msg := "needs root to make a private network namespace: " + err.Error()
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// dialsOK reports whether a TCP connection to host:port succeeds.
func dialsOK(host string, port int) bool {
	c, err := net.DialTimeout("tcp", net.JoinHostPort(host, strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// listenProbe is a slog.Handler that, when the server logs that it is
// listening, probes the control port over IPv4 and IPv6 from the same
// goroutine (and so the same network namespace), then stops the server.
type listenProbe struct {
	mu       sync.Mutex
	addr, ip string
	v4, v6   bool
	stop     func()
}

func (p *listenProbe) Enabled(context.Context, slog.Level) bool { return true }
func (p *listenProbe) WithAttrs([]slog.Attr) slog.Handler       { return p }
func (p *listenProbe) WithGroup(string) slog.Handler            { return p }
func (p *listenProbe) Handle(_ context.Context, r slog.Record) error {
	if r.Message != "server listening" {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "addr":
			p.addr = a.Value.String()
		case "ip":
			p.ip = a.Value.String()
		}
		return true
	})
	if _, ps, err := net.SplitHostPort(p.addr); err == nil {
		port, _ := strconv.Atoi(ps)
		p.v4, p.v6 = dialsOK("127.0.0.1", port), dialsOK("::1", port)
	}
	p.stop()
	return nil
}

// TestControlPortAddressFamilies: --bind-addr 0.0.0.0 listens on IPv4
// only, as bore does, and :: on IPv6 (here dual-stack, Linux's default);
// the startup log says which. Before, 0.0.0.0 listened dual-stack, so an
// operator who firewalled IPv4 had a control port open over IPv6.
func TestControlPortAddressFamilies(t *testing.T) {
	for _, tc := range []struct {
		bind, ip string
		v4, v6   bool
	}{
		{"0.0.0.0", "IPv4 only", true, false},
		{"::", "IPv6 and IPv4", true, true},
		{"::1", "IPv6 only", false, true},
		{"127.0.0.1", "IPv4 only", true, false},
	} {
		var p listenProbe
		inPrivateNetwork(t, func() {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			p.stop = cancel
			srv, err := NewServer(ServerConfig{Logger: slog.New(&p)})
			if err != nil {
				t.Error(err)
				return
			}
			if err := srv.ListenAndServe(ctx, net.JoinHostPort(tc.bind, "0")); err != nil {
				t.Errorf("--bind-addr %s: %v", tc.bind, err)
			}
		})
		if p.v4 != tc.v4 || p.v6 != tc.v6 || p.ip != tc.ip {
			t.Errorf("--bind-addr %s: listening on %s (logged %q): IPv4 connects %v, IPv6 connects %v; want %q, IPv4 %v, IPv6 %v",
				tc.bind, p.addr, p.ip, p.v4, p.v6, tc.ip, tc.v4, tc.v6)
		}
	}
}

// TestListenAddressFamilies checks Listen, which the metrics listener and
// the public ports use too, the same way.
func TestListenAddressFamilies(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		v4, v6 bool
	}{
		{"0.0.0.0:0", true, false},
		{"[::]:0", true, true},
	} {
		var v4, v6 bool
		var fams string
		inPrivateNetwork(t, func() {
			ln, err := Listen(context.Background(), tc.addr)
			if err != nil {
				t.Errorf("Listen(%s): %v", tc.addr, err)
				return
			}
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			v4, v6, fams = dialsOK("127.0.0.1", port), dialsOK("::1", port), ListenerFamilies(ln)
		})
		if v4 != tc.v4 || v6 != tc.v6 {
			t.Errorf("Listen(%s) (%s): IPv4 connects %v, IPv6 %v; want %v, %v", tc.addr, fams, v4, v6, tc.v4, tc.v6)
		}
	}
}
