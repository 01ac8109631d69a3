package tunnel

import (
	"bytes"
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestClientMisbehavingServer: a server that answers Hello and then sends
// an oversized frame is not retried at the initial backoff for ever: after
// the second such session the client waits the backoff ceiling and its
// status says the server misbehaves. A session that forwards a visitor
// clears it.
func TestClientMisbehavingServer(t *testing.T) {
	t.Parallel()
	var sessions atomic.Int64
	var behave atomic.Bool
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		defer c.Close()
		f, err := fr.next()
		if err != nil || !strings.HasPrefix(string(f), `{"Hello":`) {
			return // an accept connection of the behaving session
		}
		sessions.Add(1)
		send(c, ServerMessage{Kind: ServerHello, Port: 20080}, ServerMessage{Kind: ServerHeartbeat})
		if behave.Load() {
			for {
				time.Sleep(50 * time.Millisecond)
				if _, err := c.Write(encodeFrame(ServerMessage{Kind: ServerHeartbeat})); err != nil {
					return
				}
			}
		}
		c.Write(bytes.Repeat([]byte("x"), 300))
	})
	const ceiling = 2 * time.Second
	tun, _ := runTunnel(t, ClientConfig{
		Server: "127.0.0.1", ControlPort: fake.port(), LocalHost: "127.0.0.1", LocalPort: startEcho(t), WarmConns: -1,
	}, func(tun *Tunnel) {
		tun.backoffInitial, tun.backoffMax, tun.behaveAfter = 10*time.Millisecond, ceiling, 200*time.Millisecond
	})
	var st Status
	waitFor(t, "the server reported as misbehaving", 10*time.Second, func() bool {
		st = tun.Status()
		return st.Misbehaving
	})
	if st.State != StateReconnecting || !strings.Contains(st.Reason, "misbehaving") {
		t.Errorf("status %v %q, want reconnecting with a reason that says the server misbehaves", st.State, st.Reason)
	}
	// The computed wait, not a timing: the next attempt is a ceiling away.
	if wait := time.Until(st.NextAttempt); wait < ceiling/2 {
		t.Errorf("next attempt in %v, want about the ceiling %v", wait, ceiling)
	}
	if n := sessions.Load(); n > 3 {
		t.Errorf("%d sessions before the client slowed down, want 2 or 3", n)
	}
	// Once the server behaves for behaveAfter, the mark goes.
	behave.Store(true)
	waitFor(t, "the mark cleared", 3*ceiling+10*time.Second, func() bool {
		st := tun.Status()
		return st.State == StateOpen && time.Since(st.Since) > 300*time.Millisecond && !st.Misbehaving
	})
}

// TestManagerReportsMisbehavingServer: the Manager's snapshots carry the
// mark, for the tray to show.
func TestManagerReportsMisbehavingServer(t *testing.T) {
	t.Parallel()
	fake := startFakeBore(t, func(n int, c net.Conn, fr *frameReader) {
		defer c.Close()
		if _, err := fr.next(); err != nil {
			return
		}
		send(c, ServerMessage{Kind: ServerHello, Port: 20080})
		c.Write([]byte(`{"Connection":"not-a-uuid"}` + "\x00"))
	})
	m := NewManager()
	defer m.Close()
	id, err := m.Start(ClientConfig{Server: "127.0.0.1", ControlPort: fake.port(), LocalPort: 1, WarmConns: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for snap := range m.Watch(ctx) {
		if st, ok := snap.Find(id); ok && st.Misbehaving {
			if !strings.Contains(st.Reason, "misbehaving") {
				t.Errorf("reason %q does not say the server misbehaves", st.Reason)
			}
			return
		}
	}
	t.Fatal("no snapshot marked the server as misbehaving")
}
