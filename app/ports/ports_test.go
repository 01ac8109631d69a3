package ports

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// listen opens a loopback listener closed at the end of the test.
func listen(t *testing.T) (*net.TCPListener, uint16) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln.(*net.TCPListener), uint16(ln.Addr().(*net.TCPAddr).Port)
}

// selfName is the name the OS gives this test binary ("ports.test").
func selfName(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(filepath.Base(exe), ".exe")
}

func find(list []Port, port uint16) (Port, bool) {
	for _, p := range list {
		if p.Port == port {
			return p, true
		}
	}
	return Port{}, false
}

func TestListeningFindsOwnListener(t *testing.T) {
	_, port := listen(t)
	list, err := Listening(context.Background())
	if err != nil {
		t.Fatalf("Listening: %v", err)
	}
	p, ok := find(list, port)
	if !ok {
		t.Fatalf("port %d not in %+v", port, list)
	}
	if want := selfName(t); p.Process != want || p.PID != int32(os.Getpid()) || p.Addr != "127.0.0.1" {
		t.Errorf("got %+v, want process %q, PID %d, addr 127.0.0.1", p, want, os.Getpid())
	}
	if !slices.IsSortedFunc(list, func(a, b Port) int { return int(a.Port) - int(b.Port) }) {
		t.Errorf("list not sorted by port: %+v", list)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Port == list[i-1].Port {
			t.Errorf("port %d listed twice", list[i].Port)
		}
	}
}

func TestListeningOneEntryForDualStack(t *testing.T) {
	ln4, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln4.Close()
	port := ln4.Addr().(*net.TCPAddr).Port
	ln6, err := net.Listen("tcp6", net.JoinHostPort("::1", strconv.Itoa(port)))
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer ln6.Close()
	list, err := Listening(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range list {
		if int(p.Port) == port {
			n++
			if p.Addr != "127.0.0.1" {
				t.Errorf("addr = %q, want the IPv4 one", p.Addr)
			}
		}
	}
	if n != 1 {
		t.Errorf("port %d listed %d times, want once", port, n)
	}
}

func TestDedupe(t *testing.T) {
	t.Parallel()
	in := []Port{
		{Port: 80, Addr: "::"},
		{Port: 22, Addr: "0.0.0.0", PID: 1, Process: "sshd"},
		{Port: 80, Addr: "0.0.0.0", PID: 9, Process: "nginx"},
		{Port: 22, Addr: "::", PID: 1, Process: "sshd"},
		{Port: 5432, Addr: "10.0.0.1"},
		{Port: 5432, Addr: "127.0.0.1"},
	}
	want := []Port{
		{Port: 22, Addr: "0.0.0.0", PID: 1, Process: "sshd"},
		{Port: 80, Addr: "0.0.0.0", PID: 9, Process: "nginx"},
		{Port: 5432, Addr: "127.0.0.1"},
	}
	if got := dedupe(in); !slices.Equal(got, want) {
		t.Errorf("dedupe(%+v)\n got %+v\nwant %+v", in, got, want)
	}
}

func TestScanner(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s := NewScanner(100 * time.Millisecond)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Run(ctx)
	}()
	defer func() {
		cancel()
		<-done
	}()

	first := next(t, s)
	if !slices.Equal(first, s.Current()) {
		t.Errorf("Current() = %+v, want the first update %+v", s.Current(), first)
	}
	ln, port := listen(t)
	waitFor(t, s, func(l []Port) bool { p, ok := find(l, port); return ok && p.Process == selfName(t) })
	ln.Close()
	waitFor(t, s, func(l []Port) bool { _, ok := find(l, port); return !ok })
}

// next waits for the scanner's next update.
func next(t *testing.T, s *Scanner) []Port {
	t.Helper()
	select {
	case l := <-s.Updates():
		return l
	case <-time.After(30 * time.Second):
		t.Fatal("no update from the scanner within 30s")
		return nil
	}
}

// waitFor reads updates until cond holds.
func waitFor(t *testing.T, s *Scanner, cond func([]Port) bool) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case l := <-s.Updates():
			if cond(l) {
				return
			}
		case <-deadline:
			t.Fatalf("condition not met within 30s; current list %+v", s.Current())
		}
	}
}

func TestScannerNeverBlocks(t *testing.T) {
	// Nobody reads Updates: refreshes must still complete and the channel
	// must hold only the newest list.
	s := NewScanner(time.Second)
	ctx := context.Background()
	for range 3 {
		s.refresh(ctx)
		_, ln := listen(t)
		_ = ln
	}
	s.refresh(ctx)
	if got := len(s.updates); got != 1 {
		t.Fatalf("updates holds %d lists, want 1", got)
	}
	if l := <-s.Updates(); !slices.Equal(l, s.Current()) {
		t.Errorf("pending update is not the newest list")
	}
}

func BenchmarkRefreshUnchanged(b *testing.B) {
	var c cache
	ctx := context.Background()
	if _, err := c.listening(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.listening(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkListeningCold(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := Listening(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
