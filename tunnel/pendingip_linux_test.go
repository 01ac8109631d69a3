package tunnel

import (
	"io"
	"net"
	"strconv"
	"testing"
	"time"
)

// Loopback covers 127.0.0.0/8 on Linux, so 127.0.0.1 and 127.0.0.2 are two
// client addresses of this machine.

// dialerFrom dials from the loopback address ip.
func dialerFrom(ip string) *net.Dialer {
	return &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
}

// rawControlFrom opens a tunnel from client address ip with a bare control
// connection that reads its frames and never accepts a visitor. It
// returns the public port.
func rawControlFrom(t *testing.T, srv *testServer, ip string) uint16 {
	t.Helper()
	c, err := dialerFrom(ip).Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.port))))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
	fr := newFrameReader(c)
	m, err := fr.readServer()
	if err != nil || m.Kind != ServerHello {
		t.Fatalf("hello reply: %+v, %v", m, err)
	}
	c.SetDeadline(time.Time{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(io.Discard, c)
	}()
	t.Cleanup(func() { c.Close(); <-drained })
	return m.Port
}

// TestPendingFairSharePerAddress: the tunnels of one client address
// (127.0.0.2) park visitors their client never accepts, more than the
// whole server's pending cap. They get their address's share and no
// more, and a tunnel from another address (127.0.0.1) keeps serving its
// visitors.
func TestPendingFairSharePerAddress(t *testing.T) {
	t.Parallel()
	const total, perIP, flood = 8, 4, 30
	srv := startServer(t, ServerConfig{MaxPending: total, MaxPendingPerIP: perIP}, func(s *Server) { s.clock = &fakeClock{} })

	var targets []uint16
	for range 3 {
		targets = append(targets, rawControlFrom(t, srv, "127.0.0.2"))
	}
	var visitors []net.Conn
	t.Cleanup(func() {
		for _, v := range visitors {
			v.Close()
		}
	})
	for i := range flood {
		v := dialPublic(t, targets[i%len(targets)])
		visitors = append(visitors, v)
	}
	handled := func() int64 {
		st := srv.Stats()
		return st.Pending + st.Refused["pending"] + st.Refused["pending_ip"]
	}
	waitFor(t, "every visitor seen", 10*time.Second, func() bool { return handled() == flood })
	st := srv.Stats()
	if st.Pending != perIP || st.Refused["pending_ip"] != flood-perIP || st.Refused["pending"] != 0 {
		t.Fatalf("after %d visitors to one address's tunnels: %d pending, refusals %v; want %d pending and %d refused for the address's share",
			flood, st.Pending, st.Refused, perIP, flood-perIP)
	}

	// Another address's tunnel still gets its visitors through.
	cfg := clientFor(srv, startEcho(t))
	cfg.Dialer = dialerFrom("127.0.0.1")
	tun, _ := runTunnel(t, cfg)
	public := waitOpen(t, tun)
	for i := range 2 * total {
		msg := "visitor " + strconv.Itoa(i)
		if got := roundTrip(t, dialPublic(t, public), msg); got != msg {
			t.Fatalf("other address's tunnel echoed %q, want %q", got, msg)
		}
	}
	if s := tun.Status(); s.Total != 2*total {
		t.Errorf("other address's tunnel served %d visitors, want %d", s.Total, 2*total)
	}
}
