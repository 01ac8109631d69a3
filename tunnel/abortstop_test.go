package tunnel

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Tests in this file stop a tunnel or the server in the middle of
// transfers. A stop cuts them short as an abort does, so whoever receives
// must see a reset, not a clean end that would make a truncated transfer
// look complete: the visitor of a download, the local service of an
// upload. The side that sends gets a reset too: its writes fail.

// stopService is a local service in the middle of two transfers: a
// visitor that sends "GET" gets a download that streams until the
// connection fails, one that sends "PUT" an upload that the service reads
// to its end. Each connection only reads or only writes, so that how it
// ends shows in that one call: a reset arriving while another call is
// under way could be reported to that one instead.
type stopService struct {
	port     uint16
	uploaded chan struct{} // closed once the upload is under way
	download chan error    // the error that ended the download's writes
	upload   chan error    // how the upload's reads ended (io.EOF: cleanly)
}

func startStopService(t *testing.T) *stopService {
	t.Helper()
	ln := listenLocal(t)
	s := &stopService{port: portOf(ln.Addr()), uploaded: make(chan struct{}), download: make(chan error, 1), upload: make(chan error, 1)}
	serveLocal(t, ln, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(15 * time.Second))
		req := make([]byte, 3)
		if _, err := io.ReadFull(c, req); err != nil {
			t.Errorf("local service: request: %v", err)
			return
		}
		switch string(req) {
		case "GET":
			chunk := make([]byte, 32<<10)
			for {
				if _, err := c.Write(chunk); err != nil {
					s.download <- err
					return
				}
			}
		case "PUT":
			if _, err := io.ReadFull(c, make([]byte, 256<<10)); err != nil {
				s.upload <- err
				return
			}
			close(s.uploaded)
			_, err := io.Copy(io.Discard, c)
			if err == nil {
				err = io.EOF
			}
			s.upload <- err
		}
	})
	return s
}

// startTransfers starts a download and an upload through port and returns
// once both are under way: the downloading visitor, and where the
// uploading visitor's error arrives once its writes fail.
func startTransfers(t *testing.T, port uint16, svc *stopService) (net.Conn, <-chan error) {
	t.Helper()
	down := dialPublic(t, port)
	if _, err := down.Write([]byte("GET")); err != nil {
		t.Fatal(err)
	}
	readSome(t, down, 256<<10, "visitor during the download")

	up := dialPublic(t, port)
	up.SetWriteDeadline(time.Now().Add(15 * time.Second))
	if _, err := up.Write([]byte("PUT")); err != nil {
		t.Fatal(err)
	}
	upErr := make(chan error, 1)
	go func() {
		chunk := make([]byte, 32<<10)
		for {
			if _, err := up.Write(chunk); err != nil {
				upErr <- err
				return
			}
		}
	}()
	select {
	case <-svc.uploaded:
	case err := <-svc.upload:
		t.Fatalf("local service: %v before the upload arrived", err)
	case <-time.After(15 * time.Second):
		t.Fatal("the upload did not arrive")
	}
	return down, upErr
}

// wantTransfersReset checks how the transfers startTransfers began ended
// after what: every side saw a reset.
func wantTransfersReset(t *testing.T, down net.Conn, upErr <-chan error, svc *stopService, what string) {
	t.Helper()
	wantReset(t, down, "downloading visitor after "+what)
	wait := func(c <-chan error, who string, want ...error) {
		t.Helper()
		select {
		case err := <-c:
			for _, w := range want {
				if errors.Is(err, w) {
					return
				}
			}
			t.Fatalf("%s saw %v after %s, want a connection reset", who, errOrEOF(err), what)
		case <-time.After(20 * time.Second):
			t.Fatalf("%s: the connection did not end after %s", who, what)
		}
	}
	wait(svc.upload, "local service reading the upload", syscall.ECONNRESET)
	// A write fails with EPIPE once the reset was reported elsewhere;
	// after a clean end (FIN) writes would go on.
	wait(svc.download, "local service writing the download", syscall.ECONNRESET, syscall.EPIPE)
	wait(upErr, "uploading visitor", syscall.ECONNRESET, syscall.EPIPE)
}

// stoppableTunnel runs a tunnel for cfg and returns it with stop, which
// cancels it and fails the test unless Run returns nil within 10 s.
func stoppableTunnel(t *testing.T, cfg ClientConfig) (*Tunnel, func()) {
	t.Helper()
	tun, err := NewTunnel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var runErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		runErr = tun.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return tun, func() {
		t.Helper()
		cancel()
		select {
		case <-done:
			if runErr != nil {
				t.Fatalf("Run after the stop = %v", runErr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the tunnel did not stop within 10s")
		}
	}
}

// TestStopTunnelResetsTransfers: the tunnel stops (its context is
// cancelled: Stop in the tray, Ctrl-C) in the middle of a download and an
// upload. The visitors and the local service all get a reset.
func TestStopTunnelResetsTransfers(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	svc := startStopService(t)
	tun, stop := stoppableTunnel(t, clientFor(srv, svc.port))
	down, upErr := startTransfers(t, waitOpen(t, tun), svc)

	stop()
	wantTransfersReset(t, down, upErr, svc, "the tunnel stopped")
	waitFor(t, "visitors forgotten", 10*time.Second, func() bool { return srv.Stats().Active == 0 })
}

// TestStopServerResetsTransfers: the server stops in the middle of a
// download and an upload. The visitors and the local service all get a
// reset, while the tunnel's control connection ends as before, with a
// clean close the client takes for the server having closed it. The stop
// does not wait for the downloading visitor, which reads nothing until
// the server is gone: a close of the accept connection alone would leave
// the copy to the visitor waiting for room.
func TestStopServerResetsTransfers(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	svc := startStopService(t)
	// No retry within the test: it would replace the reason the control
	// connection ended with why the retry failed.
	tun, _ := runTunnel(t, clientFor(srv, svc.port), func(tu *Tunnel) {
		tu.backoffInitial, tu.backoffMax = time.Hour, time.Hour
	})
	down, upErr := startTransfers(t, waitOpen(t, tun), svc)

	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		srv.stop()
	}()
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop within 10s")
	}
	wantTransfersReset(t, down, upErr, svc, "the server stopped")
	var st Status
	waitFor(t, "tunnel reconnecting", 10*time.Second, func() bool {
		st = tun.Status()
		return st.State == StateReconnecting && st.Active == 0
	})
	if !errors.Is(st.Err, ErrServerClosed) {
		t.Fatalf("the control connection ended with %v, want %v", st.Err, ErrServerClosed)
	}
}

// TestForwardedOutlivesControl: the server alone. A forwarded visitor
// does not end with its tunnel's control connection: the client may be
// reconnecting, and its accept connection carries the visitor's end. A
// client that stops resets it (TestStopTunnelResetsTransfers), and the
// visitor gets that reset.
func TestForwardedOutlivesControl(t *testing.T) {
	t.Parallel()
	srv, ctrl, v, a := forwardedByHand(t)

	abortConn(ctrl)
	waitFor(t, "tunnel gone", 10*time.Second, func() bool { return srv.Stats().Tunnels == 0 })
	v.SetDeadline(time.Now().Add(15 * time.Second))
	for _, dir := range []struct {
		from, to net.Conn
		what     string
	}{{a, v, "accept connection to visitor"}, {v, a, "visitor to accept connection"}} {
		if _, err := dir.from.Write([]byte("still")); err != nil {
			t.Fatalf("%s: %v", dir.what, err)
		}
		b := make([]byte, 5)
		if _, err := io.ReadFull(dir.to, b); err != nil || string(b) != "still" {
			t.Fatalf("%s after the control connection ended: %q, %v", dir.what, b, err)
		}
	}
	if _, err := a.Write(abortPayload); err != nil {
		t.Fatal(err)
	}
	readSome(t, v, 64<<10, "visitor before the reset")
	abortConn(a)
	wantReset(t, v, "visitor after the accept connection reset")
	waitFor(t, "visitor forgotten", 10*time.Second, func() bool { return srv.Stats().Active == 0 })
}

// stallingLocalDialer dials the server as usual and holds every dial to
// local until its context ends, telling dialing when the first begins.
type stallingLocalDialer struct {
	local   string
	dialing chan struct{}
	once    sync.Once
	d       net.Dialer
}

func (s *stallingLocalDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	if addr != s.local {
		return s.d.DialContext(ctx, network, addr)
	}
	s.once.Do(func() { close(s.dialing) })
	<-ctx.Done()
	return nil, &net.OpError{Op: "dial", Net: network, Err: ctx.Err()}
}

// TestStopDuringLocalDialReportsNothing: a tunnel stopped while it is
// dialing the local service for a visitor does not report the local
// service as unreachable: the stop cut the dial short.
func TestStopDuringLocalDialReportsNothing(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	port := startEcho(t)
	cfg := clientFor(srv, port)
	dialer := &stallingLocalDialer{local: net.JoinHostPort(cfg.LocalHost, strconv.Itoa(int(port))), dialing: make(chan struct{})}
	cfg.Dialer = dialer
	tun, stop := stoppableTunnel(t, cfg)
	v := dialPublic(t, waitOpen(t, tun))
	select {
	case <-dialer.dialing:
	case <-time.After(10 * time.Second):
		t.Fatal("the visitor's local dial did not begin within 10s")
	}
	stop()
	if e := tun.Status().LocalError; e != "" {
		t.Errorf("after a stop during the local dial, LocalError = %q, want none", e)
	}
	wantClosed(t, v, "visitor of the stopped tunnel")
}
