package tunnel

import (
	"context"
	"io"
	"testing"
	"time"
)

// nextSnap reads snapshots until cond holds.
func nextSnap(t *testing.T, ch <-chan Snapshot, what string, cond func(Snapshot) bool) Snapshot {
	t.Helper()
	timeout := time.After(15 * time.Second)
	for {
		select {
		case s, ok := <-ch:
			if !ok {
				t.Fatalf("watch channel closed while waiting for %s", what)
			}
			if cond(s) {
				return s
			}
		case <-timeout:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestManagerLifecycle(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	m := NewManager()
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := m.Watch(ctx)

	first := nextSnap(t, w, "initial snapshot", func(Snapshot) bool { return true })
	if len(first.Tunnels) != 0 {
		t.Fatalf("initial snapshot has %d tunnels", len(first.Tunnels))
	}
	id, err := m.Start(clientFor(srv, startEcho(t)))
	if err != nil {
		t.Fatal(err)
	}
	open := nextSnap(t, w, "tunnel open", func(s Snapshot) bool {
		st, ok := s.Find(id)
		return ok && st.State == StateOpen
	})
	st, _ := open.Find(id)
	if st.PublicAddr() == "" || st.LocalAddr() == "" || st.ID != id {
		t.Fatalf("open status incomplete: %+v", st)
	}

	// Counters reach watchers too.
	if got := roundTrip(t, dialPublic(t, st.RemotePort), "count me"); got != "count me" {
		t.Fatalf("got %q", got)
	}
	nextSnap(t, w, "counters", func(s Snapshot) bool {
		st, _ := s.Find(id)
		return st.Total == 1 && st.BytesIn == 8 && st.BytesOut == 8
	})

	m.Stop(id)
	nextSnap(t, w, "tunnel gone", func(s Snapshot) bool {
		_, ok := s.Find(id)
		return !ok
	})
	if _, ok := m.Snapshot().Find(id); ok {
		t.Error("stopped tunnel still in Snapshot")
	}
}

func TestManagerRejectsBadConfig(t *testing.T) {
	t.Parallel()
	m := NewManager()
	defer m.Close()
	if _, err := m.Start(ClientConfig{Server: "", LocalPort: 80}); err == nil {
		t.Error("Start with no server succeeded")
	}
	if _, err := m.Start(ClientConfig{Server: "example.invalid", LocalPort: 0}); err == nil {
		t.Error("Start with local port 0 succeeded")
	}
}

func TestManagerFailedTunnelStays(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{Secret: "right"})
	m := NewManager()
	defer m.Close()
	cfg := clientFor(srv, 1)
	cfg.Secret = "wrong"
	id, err := m.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := nextSnap(t, m.Watch(ctx), "failed", func(s Snapshot) bool {
		st, _ := s.Find(id)
		return st.State == StateFailed
	})
	st, _ := s.Find(id)
	if st.Reason != reasonText(ErrInvalidSecret) {
		t.Errorf("reason %q", st.Reason)
	}
}

func TestManagerCloseEndsWatchers(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	m := NewManager()
	w := m.Watch(context.Background())
	m.Start(clientFor(srv, startEcho(t)))
	m.Start(clientFor(srv, startEcho(t)))
	m.Close()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-w:
			if !ok {
				if _, err := m.Start(clientFor(srv, 1)); err == nil {
					t.Error("Start after Close succeeded")
				}
				if _, ok := <-m.Watch(context.Background()); ok {
					t.Error("Watch after Close delivered a snapshot")
				}
				return
			}
		case <-timeout:
			t.Fatal("watch channel not closed by Close")
		}
	}
}

func TestManagerWatchCancel(t *testing.T) {
	t.Parallel()
	m := NewManager()
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	w := m.Watch(ctx)
	<-w
	cancel()
	select {
	case _, ok := <-w:
		if ok {
			// A snapshot may race the cancel; the close must follow.
			if _, ok := <-w; ok {
				t.Fatal("watch channel still open after cancel")
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("watch channel not closed after cancel")
	}
}

// A watcher that never reads must not hold up tunnels or other watchers.
func TestManagerSlowWatcher(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	m := NewManager()
	defer m.Close()
	m.Watch(context.Background()) // never read
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := m.Watch(ctx)
	echoPort := startEcho(t)
	for range 5 {
		if _, err := m.Start(clientFor(srv, echoPort)); err != nil {
			t.Fatal(err)
		}
	}
	nextSnap(t, w, "five open tunnels", func(s Snapshot) bool {
		n := 0
		for _, st := range s.Tunnels {
			if st.State == StateOpen {
				n++
			}
		}
		return n == 5
	})
}

// TestManagerReportsClosedConnections checks that a visitor leaving is
// reported: "N connections" must fall, even when no more bytes move.
func TestManagerReportsClosedConnections(t *testing.T) {
	t.Parallel()
	srv := startServer(t, ServerConfig{})
	m := NewManager()
	defer m.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := m.Watch(ctx)
	id, err := m.Start(clientFor(srv, startEcho(t)))
	if err != nil {
		t.Fatal(err)
	}
	open := nextSnap(t, w, "tunnel open", func(s Snapshot) bool {
		st, ok := s.Find(id)
		return ok && st.State == StateOpen
	})
	st, _ := open.Find(id)
	c := dialPublic(t, st.RemotePort)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 5)
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "hello" {
		t.Fatalf("echo: %q, %v", buf, err)
	}
	nextSnap(t, w, "one active connection", func(s Snapshot) bool {
		st, _ := s.Find(id)
		return st.Active == 1 && st.BytesIn == 5 && st.BytesOut == 5
	})
	c.Close()
	nextSnap(t, w, "no active connection after the visitor left", func(s Snapshot) bool {
		st, _ := s.Find(id)
		return st.Active == 0 && st.Total == 1
	})
}
