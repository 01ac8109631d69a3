package tunnel

import (
	"net"
	"testing"
	"time"
)

// spoofListener hands the server loopback connections that claim to come
// from the next address of from, so per-address limits can be tried with
// IPv6 clients on a machine that has only ::1.
type spoofListener struct {
	net.Listener
	from chan net.IP
}

type spoofConn struct {
	net.Conn
	remote net.Addr
}

func (c spoofConn) RemoteAddr() net.Addr { return c.remote }

func (l spoofListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	select {
	case ip := <-l.from:
		return spoofConn{c, &net.TCPAddr{IP: ip, Port: 40000}}, nil
	default:
		return c, nil
	}
}

// TestTunnelsPerAddressCountIPv6Slash64: an IPv6 client usually holds a
// whole /64, so the tunnels-per-address limit counts each /64 as one
// address; another /64 has its own allowance, and an IPv4 address given
// in IPv6 form counts as that IPv4 address.
func TestTunnelsPerAddressCountIPv6Slash64(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	from := make(chan net.IP, 1)
	srv := serveOn(t, spoofListener{ln, from}, ServerConfig{MaxTunnelsPerIP: 2})
	hello := func(ip string) string {
		t.Helper()
		from <- net.ParseIP(ip)
		c := hostileDial(t, srv)
		c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		m, err := newFrameReader(c).readServer()
		if err != nil {
			t.Fatalf("hello from %s: %v", ip, err)
		}
		if m.Kind == ServerErr {
			c.Close()
			return m.Text
		}
		return ""
	}
	for _, step := range []struct{ ip, want string }{
		{"2001:db8:1:2::1", ""},
		{"2001:db8:1:2::2", ""},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", errTextTooManyTunnels}, // same /64
		{"2001:db8:1:3::1", ""}, // another /64
		{"192.0.2.7", ""},
		{"::ffff:192.0.2.7", ""},
		{"192.0.2.7", errTextTooManyTunnels},
	} {
		if got := hello(step.ip); got != step.want {
			t.Errorf("Hello from %s: error %q, want %q", step.ip, got, step.want)
		}
	}
	if st := srv.Stats(); st.Tunnels != 5 || st.Refused["per_ip"] != 2 {
		t.Errorf("%d tunnels open, %d refused per address; want 5 and 2", st.Tunnels, st.Refused["per_ip"])
	}
}
