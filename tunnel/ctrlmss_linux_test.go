package tunnel

import (
	"context"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// serverMSS dials a loopback listener with d and returns the segment size
// the accepted side may send.
func serverMSS(t *testing.T, d Dialer) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := d.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := s.(*net.TCPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var mss int
	var gerr error
	if err := raw.Control(func(fd uintptr) { mss, gerr = unix.GetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_MAXSEG) }); err != nil {
		t.Fatal(err)
	}
	if gerr != nil {
		t.Fatal(gerr)
	}
	return mss
}

func TestControlDialerAsksForSmallSegments(t *testing.T) {
	t.Parallel()
	if got := serverMSS(t, &net.Dialer{}); got <= controlMSS {
		t.Fatalf("a plain connection's segment size is %d; the check below would prove nothing", got)
	}
	called := false
	d := &net.Dialer{Control: func(string, string, syscall.RawConn) error { called = true; return nil }}
	if got := serverMSS(t, controlDialer(d)); got > controlMSS {
		t.Fatalf("the server may send segments of %d bytes on a control connection, want at most %d", got, controlMSS)
	}
	if !called {
		t.Fatal("the dialer's own Control did not run")
	}
	if d.Control == nil || serverMSS(t, d) <= controlMSS {
		t.Fatal("controlDialer changed the dialer it was given")
	}
}

// A Dialer that is not a *net.Dialer is used as it is.
func TestControlDialerKeepsOtherDialers(t *testing.T) {
	t.Parallel()
	d := dialerFunc(func(ctx context.Context, network, addr string) (net.Conn, error) {
		return nil, net.ErrClosed
	})
	if _, err := controlDialer(d).DialContext(context.Background(), "tcp", "127.0.0.1:1"); err != net.ErrClosed {
		t.Fatalf("got %v, want the dialer's own error", err)
	}
}

type dialerFunc func(ctx context.Context, network, addr string) (net.Conn, error)

func (f dialerFunc) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}
