package tunnel

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// Tests in this file end one side of a forwarded connection with an abort
// (a TCP reset) in the middle of a transfer. The other side must see an
// abort too, not a clean end that would make a truncated transfer look
// complete; a clean end (FIN) stays a half-close, as the half-close tests
// in e2e_test.go check. Each crosses both the server and the client, one
// direction each.

// abortConn ends c with a reset instead of a FIN.
func abortConn(c net.Conn) {
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
}

// wantReset reads c to its end and fails unless it ends with a reset.
func wantReset(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	n, err := io.Copy(io.Discard, c)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("%s: read %d bytes, then %v; want a connection reset", what, n, errOrEOF(err))
	}
}

func errOrEOF(err error) any {
	if err == nil {
		return "a clean EOF"
	}
	return err
}

// TestLocalServiceAbortReachesVisitor: the local service sends 1 MiB and
// resets its connection. The visitor must get a reset, not a clean EOF
// after the bytes that made it.
func TestLocalServiceAbortReachesVisitor(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	serveLocal(t, ln, func(c net.Conn) {
		// Wait for the visitor's request, or the reset could reach it
		// before its dial returns.
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 3)); err != nil {
			return
		}
		c.Write(bytes.Repeat([]byte{'d'}, 1<<20))
		abortConn(c)
	})
	tun, _ := runTunnel(t, clientFor(srv, portOf(ln.Addr())))
	v := dialPublic(t, waitOpen(t, tun))
	if _, err := v.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	wantReset(t, v, "visitor after the local service reset")
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 && srv.Stats().Active == 0 })
}

// TestVisitorAbortReachesLocalService: a visitor uploads, then resets in
// the middle of it. The local service must get a reset, not a clean EOF
// after a part of the upload.
func TestVisitorAbortReachesLocalService(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	got := make(chan struct{})
	result := make(chan error, 1)
	serveLocal(t, ln, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		buf := make([]byte, 64<<10)
		if _, err := io.ReadFull(c, buf); err != nil {
			result <- err
			return
		}
		close(got) // the upload is under way
		_, err := io.Copy(io.Discard, c)
		if err == nil {
			err = io.EOF // a clean end
		}
		result <- err
	})
	tun, _ := runTunnel(t, clientFor(srv, portOf(ln.Addr())))
	v := dialPublic(t, waitOpen(t, tun))
	v.SetDeadline(time.Now().Add(15 * time.Second))
	if _, err := v.Write(bytes.Repeat([]byte{'u'}, 256<<10)); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case err := <-result:
		t.Fatalf("local service: %v before the upload arrived", err)
	}
	abortConn(v)
	err := <-result
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("local service saw %v after the visitor reset, want a connection reset", err)
	}
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 && srv.Stats().Active == 0 })
}
