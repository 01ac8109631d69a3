//go:build !windows

package tunnel

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Tests in this file flood the server: thousands of connections that never
// finish their handshake, and tens of thousands of visitors nobody
// accepts. Each checks that the server's memory, goroutines and file
// descriptors stay bounded and that a real tunnel on the same server keeps
// carrying traffic throughout. They do not run in parallel with other
// tests, so the goroutine and heap figures are the server's own.

// floodRaiseFDLimit lifts the soft limit on open files to the hard limit.
func floodRaiseFDLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot read the open-file limit: %v", err)
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	if lim.Cur < need {
		msg := "the open-file limit is " + strconv.FormatUint(lim.Cur, 10) + ", this test needs " + strconv.FormatUint(need, 10) + " (raise it with ulimit -n)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// floodOpenFDs counts this process's open file descriptors, or -1 where
// /proc is missing.
func floodOpenFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents)
}

// floodHeapInuse returns the live heap after a collection.
func floodHeapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// floodLogCounter is a slog.Handler that counts records at Warn and
// above, to check that a flood does not turn into a flood of log lines.
type floodLogCounter struct{ warns *atomic.Int64 }

func (h floodLogCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h floodLogCounter) Handle(context.Context, slog.Record) error {
	h.warns.Add(1)
	return nil
}
func (h floodLogCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h floodLogCounter) WithGroup(string) slog.Handler      { return h }

// floodMonitor samples a value in the background and keeps the largest.
type floodMonitor struct {
	stop chan struct{}
	done chan struct{}
	max  atomic.Int64
}

func floodWatch(every time.Duration, sample func() int64) *floodMonitor {
	m := &floodMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if v := sample(); v > m.max.Load() {
				m.max.Store(v)
			}
			select {
			case <-m.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return m
}

// end stops sampling and returns the largest value seen.
func (m *floodMonitor) end() int64 {
	close(m.stop)
	<-m.done
	return m.max.Load()
}

// TestFloodIdleHandshakes opens 2000 connections to the control port that
// send nothing, or one byte now and then without ever finishing a frame.
// Each is dropped when its handshake time is up, while a real client keeps
// its tunnel and carries traffic the whole time.
func TestFloodIdleHandshakes(t *testing.T) {
	const n = 2000
	floodRaiseFDLimit(t, 2*n+500)
	// Long enough for most of the attackers to be in their handshake at
	// once, short enough to keep the test quick.
	srv := startServer(t, ServerConfig{}, func(s *Server) { s.handshakeTimeout = time.Second })
	cfg := clientFor(srv, startEcho(t))
	cfg.WarmConns = -1 // its retired ready connections would count as refusals
	tun, _ := runTunnel(t, cfg)
	public := waitOpen(t, tun)
	since := tun.Status().Since
	baseG, baseFDs, baseHeap := runtime.NumGoroutine(), floodOpenFDs(), floodHeapInuse()

	inFlight := floodWatch(2*time.Millisecond, func() int64 { return int64(len(srv.handshakes)) })
	fds := floodWatch(20*time.Millisecond, func() int64 { return int64(floodOpenFDs()) })

	// Attackers: even ones stay silent, odd ones trickle the start of a
	// Hello followed by spaces, one byte per connection per tick.
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		slow           []net.Conn
		closed, talked atomic.Int64
	)
	start := time.Now()
	dialed := make(chan struct{})
	go func() {
		defer close(dialed)
		sem := make(chan struct{}, 256)
		for i := range n {
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.port))), 10*time.Second)
				<-sem
				if err != nil {
					t.Errorf("attacker %d: %v", i, err)
					closed.Add(1)
					return
				}
				defer c.Close()
				if i%2 == 1 {
					mu.Lock()
					slow = append(slow, c)
					mu.Unlock()
				}
				c.SetReadDeadline(time.Now().Add(60 * time.Second))
				b, err := io.ReadAll(c)
				if len(b) > 0 {
					talked.Add(1)
				}
				if err != nil && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("attacker %d: not closed by the server: %v", i, err)
				}
				closed.Add(1)
			}()
		}
	}()
	trickleDone := make(chan struct{})
	go func() {
		defer close(trickleDone)
		const prefix = `{"Hello":`
		sent := map[net.Conn]int{}
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for closed.Load() < n {
			<-tick.C
			mu.Lock()
			conns := append([]net.Conn(nil), slow...)
			mu.Unlock()
			for _, c := range conns {
				k := sent[c]
				if k < 0 {
					continue
				}
				b := byte(' ')
				if k < len(prefix) {
					b = prefix[k]
				}
				if _, err := c.Write([]byte{b}); err != nil {
					sent[c] = -1 // dropped by the server
					continue
				}
				sent[c] = k + 1
			}
		}
	}()

	// The real tunnel works while the flood lasts.
	rounds := 0
	for rounds == 0 || closed.Load() < n {
		msg := "round " + strconv.Itoa(rounds) + "\n"
		c := dialPublic(t, public)
		got := roundTrip(t, c, msg)
		c.Close() // keep the descriptor count about the flood
		if got != msg {
			t.Fatalf("real tunnel echoed %q during the flood, want %q", got, msg)
		}
		rounds++
	}
	<-dialed
	wg.Wait()
	<-trickleDone
	elapsed := time.Since(start)
	peak, peakFDs := inFlight.end(), fds.end()

	if talked.Load() != 0 {
		t.Errorf("%d attackers got bytes from the server, want silence", talked.Load())
	}
	st := srv.Stats()
	if st.Refused["protocol"] != n || st.Refused["busy"] != 0 {
		t.Errorf("refusals %v, want %d protocol and no busy", st.Refused, n)
	}
	if s := tun.Status(); s.State != StateOpen || !s.Since.Equal(since) || s.Total != int64(rounds) {
		t.Errorf("real tunnel %+v, want open since %v with %d visitors", s, since, rounds)
	}
	waitFor(t, "handshakes released", 10*time.Second, func() bool { return len(srv.handshakes) == 0 })
	hostileWaitGoroutines(t, baseG)
	t.Logf("%d attackers dropped in %v; %d round trips meanwhile; peak %d handshakes in flight; fds %d -> peak %d -> %d; heap in use %d KiB -> %d KiB",
		n, elapsed.Round(time.Millisecond), rounds, peak, baseFDs, peakFDs, floodOpenFDs(), baseHeap>>10, floodHeapInuse()>>10)
}

// TestFloodUnacceptedVisitors sends visitors to a tunnel whose client never
// accepts them: the server keeps at most MaxPendingPerTunnel waiting,
// refuses the rest, frees the waiting ones when they expire, and serves
// another tunnel on the same server normally all along. 10 000 visitors by
// default; BORE_SOAK=1 (without -short) sends 100 000.
func TestFloodUnacceptedVisitors(t *testing.T) {
	const limit = 64
	total, rounds := 10_000, 10
	if !testing.Short() && os.Getenv("BORE_SOAK") != "" {
		total, rounds = 100_000, 50
	}
	floodRaiseFDLimit(t, 1000)
	clk := &fakeClock{}
	warns := floodLogCounter{new(atomic.Int64)}
	srv := startServer(t, ServerConfig{MaxPendingPerTunnel: limit, Logger: slog.New(warns)}, func(s *Server) { s.clock = clk })
	cfg := clientFor(srv, startEcho(t))
	cfg.WarmConns = -1 // a steady goroutine count on the server
	tun, _ := runTunnel(t, cfg)
	public := waitOpen(t, tun)

	// The target: a tunnel whose client reads its Connection frames and
	// never claims one.
	ctl, _, target := rawControl(t, srv)
	ctl.SetDeadline(time.Time{})
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(io.Discard, ctl)
	}()
	t.Cleanup(func() { ctl.Close(); <-drained })

	baseG, baseHeap := runtime.NumGoroutine(), floodHeapInuse()
	// The real tunnel may have one visitor pending at a time.
	pending := floodWatch(time.Millisecond, func() int64 { return srv.Stats().Pending })
	fds := floodWatch(20*time.Millisecond, func() int64 { return int64(floodOpenFDs()) })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(int(target)))

	// handled counts the visitors the server has taken off the target's
	// accept queue: refused over the cap, expired, or waiting. The dialers
	// stay at most a window ahead of it: a connection that completes in the
	// kernel after the accept queue overflowed, and is then reset, never
	// reaches the server at all.
	handled := func() int64 {
		st := srv.Stats()
		return st.Refused["pending"] + st.Refused["expired"] + st.Pending
	}
	const window = 1024
	var dialed atomic.Int64

	start := time.Now()
	sent, trips := 0, 0
	var expired int64
	for r := range rounds {
		batch := total / rounds
		var wg sync.WaitGroup
		var failed atomic.Int64
		work := make(chan struct{})
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				d := net.Dialer{Timeout: 10 * time.Second}
				for range work {
					for dialed.Load()-handled() > window {
						time.Sleep(time.Millisecond)
					}
					dialed.Add(1)
					c, err := d.Dial("tcp", addr)
					if err != nil {
						failed.Add(1)
						continue
					}
					// A plain close, not a reset: a reset can overtake
					// the handshake's last ACK on another CPU and kill
					// the connection before the server ever sees it.
					c.Close()
				}
			}()
		}
		fed := make(chan struct{})
		go func() {
			defer close(fed)
			for range batch {
				work <- struct{}{}
			}
			close(work)
		}()
		// The other tunnel keeps working while the flood goes on.
		for busy := true; busy; {
			select {
			case <-fed:
				busy = false
			default:
			}
			msg := "trip " + strconv.Itoa(trips) + "\n"
			c := dialPublic(t, public)
			got := roundTrip(t, c, msg)
			c.Close() // keep the descriptor count about the flood
			if got != msg {
				t.Fatalf("real tunnel echoed %q during round %d, want %q", got, r, msg)
			}
			trips++
		}
		wg.Wait()
		if f := failed.Load(); f > 0 {
			t.Fatalf("round %d: %d of %d visitor dials failed", r, f, batch)
		}
		sent += batch

		// Every visitor has reached the server: refused over the cap,
		// expired, or waiting.
		deadline := time.Now().Add(30 * time.Second)
		for handled() != int64(sent) {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: %d visitors sent, the server has seen %d: %+v", r, sent, handled(), srv.Stats())
			}
			time.Sleep(5 * time.Millisecond)
		}
		if st := srv.Stats(); st.Pending != limit {
			t.Fatalf("round %d: %d visitors pending, want the cap %d", r, st.Pending, limit)
		}
		// Ten seconds pass: the waiting ones are dropped, making room.
		expired += int64(clk.fireAll())
		waitFor(t, "expired visitors freed", 10*time.Second, func() bool { return srv.Stats().Pending == 0 })
	}
	elapsed := time.Since(start)
	peak, peakFDs := pending.end(), fds.end()

	st := srv.Stats()
	if peak > limit+1 {
		t.Errorf("up to %d visitors pending, want at most %d (+1 for the real tunnel)", peak, limit)
	}
	if wantExp := int64(rounds * limit); st.Refused["expired"] != wantExp || expired != wantExp {
		t.Errorf("%d expired (%d timers fired), want %d", st.Refused["expired"], expired, wantExp)
	}
	if want := int64(total - rounds*limit); st.Refused["pending"] != want {
		t.Errorf("%d refused over the cap, want %d", st.Refused["pending"], want)
	}
	if s := tun.Status(); s.State != StateOpen || s.Total != int64(trips) {
		t.Errorf("real tunnel %+v, want open with %d visitors", s, trips)
	}
	// Every refusal is counted, but the log gets a summary now and then,
	// not a line per visitor.
	if w := warns.warns.Load(); w > st.Refused["pending"]/10 {
		t.Errorf("%d warnings logged for %d refused visitors", w, st.Refused["pending"])
	}
	hostileWaitGoroutines(t, baseG)
	heap := floodHeapInuse()
	const slack = 32 << 20
	if heap > baseHeap+slack {
		t.Errorf("heap in use grew from %d KiB to %d KiB over the flood", baseHeap>>10, heap>>10)
	}
	t.Logf("%d visitors in %v (%.0f/s), %d round trips meanwhile; pending peak %d (cap %d); fds peak %d; heap in use %d KiB -> %d KiB; %d warnings logged",
		total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), trips, peak, limit, peakFDs, baseHeap>>10, heap>>10, warns.warns.Load())
}

// TestTunnelReadyWhenHelloArrives checks that every goroutine serving a
// tunnel exists by the time its client reads the server's Hello. A test
// (or a monitor) that counts goroutines once a tunnel is open must not see
// the tunnel's listener start a moment later: that late goroutine looked
// like a leak when counted against a baseline taken right after the Hello.
func TestTunnelReadyWhenHelloArrives(t *testing.T) {
	const tries = 300
	srv := startServer(t, ServerConfig{MaxTunnelsPerIP: tries})
	// Count the goroutines each tunnel starts by their stacks, so that
	// other tests' goroutines winding down do not blur the count. A
	// goroutine not yet scheduled shows only where it was created.
	buf := make([]byte, 8<<20)
	loops := func() int {
		return strings.Count(string(buf[:runtime.Stack(buf, true)]), "created by github.com/boretray/bore/tunnel.(*Server).serveTunnel in goroutine")
	}
	base := loops()
	late := 0
	for i := range tries {
		c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(srv.port))))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		c.Write(encodeFrame(ClientMessage{Kind: ClientHello}))
		if m, err := newFrameReader(c).readServer(); err != nil || m.Kind != ServerHello {
			t.Fatalf("hello reply: %+v, %v", m, err)
		}
		if n := loops(); n < base+i+1 {
			late++
		}
	}
	if late > 0 {
		t.Errorf("in %d of %d tunnels, the visitor loop started after the Hello was sent", late, tries)
	}
}
