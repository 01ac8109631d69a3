package tunnel

import (
	"bytes"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Tests in this file end one side of a forwarded connection with an abort
// (a TCP reset) in the middle of a transfer. The other side must see a
// reset too, not a clean end that would make a truncated transfer look
// complete; a clean end (FIN) stays a half-close, as the half-close tests
// in e2e_test.go and integrity_test.go check. The first two cross the
// server and the client, one direction each; the others play one of the
// two processes by hand, so each process is checked in each direction on
// its own.

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

// readSome reads n bytes of c or fails.
func readSome(t *testing.T, c net.Conn, n int, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	if _, err := io.ReadFull(c, make([]byte, n)); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// abortPayload is what a side sends before it resets: 1 MiB.
var abortPayload = bytes.Repeat([]byte{'d'}, 1<<20)

// TestAbortLocalServiceReachesVisitor: the local service sends 1 MiB and
// resets its connection at once. The visitor must get a reset, not a
// clean EOF after the bytes that made it.
func TestAbortLocalServiceReachesVisitor(t *testing.T) {
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
		c.Write(abortPayload)
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

// TestAbortVisitorReachesLocalService: a visitor uploads, then resets in
// the middle of it. The local service must get a reset, not a clean EOF
// after a part of the upload.
func TestAbortVisitorReachesLocalService(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	got := make(chan struct{})
	result := make(chan error, 1)
	serveLocal(t, ln, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 64<<10)); err != nil {
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
	if err := <-result; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("local service saw %v after the visitor reset, want a connection reset", err)
	}
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 && srv.Stats().Active == 0 })
}

// forwardedByHand opens a tunnel on a server with a control connection
// played by hand, connects a visitor and claims it with an accept
// connection played by hand, and returns the server, the control
// connection, the visitor and the accept connection once the server
// forwards between the last two.
func forwardedByHand(t *testing.T) (*testServer, net.Conn, net.Conn, net.Conn) {
	t.Helper()
	srv := startServer(t, ServerConfig{})
	ctrl, fr, port := rawControl(t, srv)
	v := dialPublic(t, port)
	id := nextConnection(t, fr).ID
	a := hostileDial(t, srv)
	if _, err := a.Write(encodeFrame(ClientMessage{Kind: ClientAccept, ID: id})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "visitor forwarded", 10*time.Second, func() bool { return srv.Stats().Active == 1 })
	return srv, ctrl, v, a
}

// TestAbortServerPassesClientReset: the server alone. A client's accept
// connection that carried 1 MiB to the visitor and then reset must reach
// the visitor as a reset.
func TestAbortServerPassesClientReset(t *testing.T) {
	t.Parallel()
	srv, _, v, a := forwardedByHand(t)
	if _, err := a.Write(abortPayload); err != nil {
		t.Fatal(err)
	}
	readSome(t, v, 64<<10, "visitor before the reset")
	abortConn(a)
	wantReset(t, v, "visitor after the accept connection reset")
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return srv.Stats().Active == 0 })
}

// TestAbortServerPassesVisitorReset: the server alone. A visitor that
// resets in the middle of an upload must reach the client's accept
// connection as a reset.
func TestAbortServerPassesVisitorReset(t *testing.T) {
	t.Parallel()
	srv, _, v, a := forwardedByHand(t)
	v.SetWriteDeadline(time.Now().Add(15 * time.Second))
	if _, err := v.Write(abortPayload); err != nil {
		t.Fatal(err)
	}
	readSome(t, a, 64<<10, "accept connection before the reset")
	abortConn(v)
	wantReset(t, a, "accept connection after the visitor reset")
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return srv.Stats().Active == 0 })
}

// abortClientRun runs a tunnel against a server played by hand that
// announces one visitor, and returns the tunnel and the accept connection
// it opens for that visitor, once its Accept has arrived.
func abortClientRun(t *testing.T, localPort uint16) (*Tunnel, <-chan net.Conn) {
	t.Helper()
	id := uuid.New()
	accepted := make(chan net.Conn, 1)
	// A handler that returns leaves its connection open; the fake server
	// closes them all when the test ends.
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		switch n {
		case 1:
			if !expectHello(t, fr) {
				return
			}
			send(c, ServerMessage{Kind: ServerHello, Port: 20080}, ServerMessage{Kind: ServerConnection, ID: id})
		case 2:
			f, err := fr.next()
			if want := `{"Accept":"` + id.String() + `"}`; err != nil || string(f) != want {
				t.Errorf("accept connection sent %q, %v; want %s", f, err, want)
				return
			}
			if len(fr.buffered()) != 0 {
				t.Errorf("bytes after the Accept frame: %q", fr.buffered())
				return
			}
			accepted <- c
		default:
			t.Errorf("unexpected connection %d", n)
		}
	})
	tun, _ := runTunnel(t, ClientConfig{
		Server:      "127.0.0.1",
		ControlPort: fake.port(),
		LocalHost:   "127.0.0.1",
		LocalPort:   localPort,
		RemotePort:  20080,
		NoReconnect: true,
		WarmConns:   -1, // the script plays every connection
	})
	return tun, accepted
}

// waitAccepted returns the accept connection once it arrived.
func waitAccepted(t *testing.T, accepted <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-accepted:
		return c
	case <-time.After(15 * time.Second):
		t.Fatal("no accept connection")
		return nil
	}
}

// TestAbortClientPassesServiceReset: the client alone. A local service
// that sends 1 MiB and resets must reach the server's end of the accept
// connection as a reset.
func TestAbortClientPassesServiceReset(t *testing.T) {
	t.Parallel()
	ln := listenLocal(t)
	serveLocal(t, ln, func(c net.Conn) {
		// Wait for the visitor's request: a reset before the client's
		// dial returned would make the dial fail instead.
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 3)); err != nil {
			return
		}
		c.Write(abortPayload)
		abortConn(c)
	})
	tun, accepted := abortClientRun(t, portOf(ln.Addr()))
	a := waitAccepted(t, accepted)
	if _, err := a.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	wantReset(t, a, "server's end of the accept connection after the local service reset")
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 })
}

// TestAbortClientPassesServerReset: the client alone. An accept
// connection that resets in the middle of an upload must reach the local
// service as a reset.
func TestAbortClientPassesServerReset(t *testing.T) {
	t.Parallel()
	ln := listenLocal(t)
	got := make(chan struct{})
	result := make(chan error, 1)
	serveLocal(t, ln, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		if _, err := io.ReadFull(c, make([]byte, 64<<10)); err != nil {
			result <- err
			return
		}
		close(got)
		_, err := io.Copy(io.Discard, c)
		if err == nil {
			err = io.EOF
		}
		result <- err
	})
	tun, accepted := abortClientRun(t, portOf(ln.Addr()))
	a := waitAccepted(t, accepted)
	if _, err := a.Write(abortPayload); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case err := <-result:
		t.Fatalf("local service: %v before the upload arrived", err)
	}
	abortConn(a)
	if err := <-result; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("local service saw %v after the accept connection reset, want a connection reset", err)
	}
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 })
}

// TestAbortCleanEndStaysHalfClose: the visitor half-closes after its
// request and the service answers 4 MiB and closes, while the client and
// the server are told nothing of aborts: every byte arrives, followed by a
// clean EOF in each direction, never a reset.
func TestAbortCleanEndStaysHalfClose(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	reply := bytes.Repeat([]byte{'r'}, 4<<20)
	svc := make(chan error, 1)
	serveLocal(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(15 * time.Second))
		b, err := io.ReadAll(c)
		if err == nil && string(b) != "request" {
			err = errors.New("request arrived as " + string(b))
		}
		if err == nil {
			_, err = c.Write(reply)
		}
		svc <- err
	})
	tun, _ := runTunnel(t, clientFor(srv, portOf(ln.Addr())))
	v := dialPublic(t, waitOpen(t, tun))
	v.SetDeadline(time.Now().Add(15 * time.Second))
	v.Write([]byte("request"))
	v.CloseWrite()
	b, err := io.ReadAll(v)
	if err != nil || !bytes.Equal(b, reply) {
		t.Fatalf("visitor read %d bytes, then %v; want %d bytes and a clean EOF", len(b), errOrEOF(err), len(reply))
	}
	if err := <-svc; err != nil {
		t.Fatalf("local service: %v", err)
	}
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 && srv.Stats().Active == 0 })
}

// unwrappingConn is a wrapped local connection that lets the tunnel see
// the socket it wraps through NetConn, as ConnWrapper asks.
type unwrappingConn struct {
	net.Conn // an interface, so the raw socket stays hidden from the copy
}

func (c *unwrappingConn) NetConn() net.Conn { return c.Conn }

func (c *unwrappingConn) CloseWrite() error { return c.Conn.(*net.TCPConn).CloseWrite() }

type unwrappingWrapper struct{}

func (unwrappingWrapper) Wrap(local net.Conn) net.Conn { return &unwrappingConn{Conn: local} }

// TestAbortThroughWrappedLocal: with the local connection wrapped (an
// inspector), a visitor's reset still reaches the local service as a
// reset, and the service's reset the visitor.
func TestAbortThroughWrappedLocal(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	ln := listenLocal(t)
	got := make(chan struct{}, 1)
	result := make(chan error, 1)
	serveLocal(t, ln, func(c net.Conn) {
		c.SetReadDeadline(time.Now().Add(15 * time.Second))
		b := make([]byte, 3)
		if _, err := io.ReadFull(c, b); err != nil {
			result <- err
			return
		}
		if string(b) == "GET" { // the service resets
			c.Write(abortPayload)
			abortConn(c)
			return
		}
		got <- struct{}{} // the upload is under way; the visitor resets
		_, err := io.Copy(io.Discard, c)
		if err == nil {
			err = io.EOF
		}
		result <- err
	})
	cfg := clientFor(srv, portOf(ln.Addr()))
	cfg.WrapLocal = unwrappingWrapper{}
	tun, _ := runTunnel(t, cfg)
	port := waitOpen(t, tun)

	v := dialPublic(t, port)
	v.Write([]byte("GET"))
	wantReset(t, v, "visitor after the wrapped local service reset")

	v = dialPublic(t, port)
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
	if err := <-result; !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("wrapped local service saw %v after the visitor reset, want a connection reset", err)
	}
	waitFor(t, "visitors forgotten", 10*time.Second, func() bool { return tun.Status().Active == 0 && srv.Stats().Active == 0 })
}
