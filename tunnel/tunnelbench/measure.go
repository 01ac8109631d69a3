//go:build linux

package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/boretray/bore/tunnel/internal/proctest"
)

// dialTimeout bounds every dial; a tunnel that stalls fails a measurement
// instead of hanging the benchmark.
const dialTimeout = 10 * time.Second

// ioTimeout bounds a single small exchange.
const ioTimeout = 10 * time.Second

// dialFunc opens a TCP connection to addr: on this machine's loopback, or
// from inside a network namespace.
type dialFunc func(ctx context.Context, addr string) (*net.TCPConn, error)

func dial(ctx context.Context, addr string) (*net.TCPConn, error) {
	d := net.Dialer{Timeout: dialTimeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}

// upload sends n bytes to addr and waits for the service to confirm it
// read them all. It returns the time from the first byte sent to the
// confirmation.
func upload(ctx context.Context, addr string, payload []byte, n int64) (time.Duration, error) {
	return uploadVia(ctx, dial, addr, payload, n)
}

// uploadVia is upload with connections from dial.
func uploadVia(ctx context.Context, dial dialFunc, addr string, payload []byte, n int64) (time.Duration, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	t0 := time.Now()
	if _, err := c.Write(binary.BigEndian.AppendUint64([]byte{modeUploadN}, uint64(n))); err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	if err := writeN(c, payload, n); err != nil {
		return 0, fmt.Errorf("upload: %w", err)
	}
	var ack [8]byte
	if _, err := io.ReadFull(c, ack[:]); err != nil {
		return 0, fmt.Errorf("upload: no confirmation from the service: %w", err)
	}
	d := time.Since(t0)
	if got := int64(binary.BigEndian.Uint64(ack[:])); got != n {
		return 0, fmt.Errorf("upload: service got %d bytes of %d", got, n)
	}
	return d, nil
}

// download asks addr for n bytes and reads them. It returns the time from
// the request to the last byte.
func download(ctx context.Context, addr string, n int64) (time.Duration, error) {
	return downloadVia(ctx, dial, addr, n)
}

// downloadVia is download with connections from dial.
func downloadVia(ctx context.Context, dial dialFunc, addr string, n int64) (time.Duration, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return 0, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	t0 := time.Now()
	req := binary.BigEndian.AppendUint64([]byte{modeDownload}, uint64(n))
	if _, err := c.Write(req); err != nil {
		return 0, fmt.Errorf("download: %w", err)
	}
	buf := make([]byte, bulkChunk)
	var got int64
	for {
		k, err := c.Read(buf)
		got += int64(k)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("download: %w", err)
		}
	}
	d := time.Since(t0)
	if got != n {
		return 0, fmt.Errorf("download: got %d bytes of %d", got, n)
	}
	return d, nil
}

// echoOnce writes one byte and reads it back.
func echoOnce(c net.Conn, b byte) error {
	c.SetDeadline(time.Now().Add(ioTimeout))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write([]byte{b}); err != nil {
		return err
	}
	var got [1]byte
	if _, err := io.ReadFull(c, got[:]); err != nil {
		return err
	}
	if got[0] != b {
		return fmt.Errorf("echo returned %q, want %q", got[0], b)
	}
	return nil
}

// setup times n connection setups: connect, send one byte, read it back.
func setup(ctx context.Context, addr string, n int) ([]time.Duration, error) {
	return setupVia(ctx, dial, addr, n)
}

// setupVia is setup with connections from dial.
func setupVia(ctx context.Context, dial dialFunc, addr string, n int) ([]time.Duration, error) {
	ds := make([]time.Duration, 0, n)
	for range n {
		t0 := time.Now()
		c, err := dial(ctx, addr)
		if err != nil {
			return nil, fmt.Errorf("connection setup: dial %s: %w", addr, err)
		}
		err = echoOnce(c, modeEcho)
		d := time.Since(t0)
		c.Close()
		if err != nil {
			return nil, fmt.Errorf("connection setup: %w", err)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// pingPong times n round trips of a 64-byte message on one connection.
func pingPong(ctx context.Context, addr string, n int) ([]time.Duration, error) {
	c, err := dial(ctx, addr)
	if err != nil {
		return nil, fmt.Errorf("ping-pong: dial %s: %w", addr, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	msg := make([]byte, 64)
	msg[0] = modeEcho
	got := make([]byte, 64)
	ds := make([]time.Duration, 0, n)
	c.SetDeadline(time.Now().Add(time.Duration(n) * time.Second))
	for i := range n + n/10 {
		msg[1] = byte(i)
		t0 := time.Now()
		if _, err := c.Write(msg); err != nil {
			return nil, fmt.Errorf("ping-pong: %w", err)
		}
		if _, err := io.ReadFull(c, got); err != nil {
			return nil, fmt.Errorf("ping-pong: %w", err)
		}
		d := time.Since(t0)
		if got[1] != msg[1] {
			return nil, errors.New("ping-pong: echo out of order")
		}
		if i >= n/10 { // the first tenth warms up
			ds = append(ds, d)
		}
	}
	return ds, nil
}

// manyResult is the outcome of holding many connections open at once.
type manyResult struct {
	opened, echoed int
	firstErr       error
	rssBefore      int64 // server + client
	rssWith        int64
}

// many opens n connections to addr with at most inflight dials at a time,
// checks each echoes, measures the memory of pids while all are open, then
// closes them.
func many(ctx context.Context, addr string, n, inflight int, pids []int) (manyResult, error) {
	var r manyResult
	var err error
	if r.rssBefore, err = rssSum(pids); err != nil {
		return r, err
	}
	conns := make([]net.Conn, n)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	var mu sync.Mutex
	fail := func(err error) {
		mu.Lock()
		if r.firstErr == nil {
			r.firstErr = err
		}
		mu.Unlock()
	}
	forEach(n, inflight, func(i int) {
		c, err := dial(ctx, addr)
		if err != nil {
			fail(fmt.Errorf("dial %s: %w", addr, err))
			return
		}
		if err := echoOnce(c, modeEcho); err != nil {
			c.Close()
			fail(fmt.Errorf("first echo: %w", err))
			return
		}
		conns[i] = c
	})
	for _, c := range conns {
		if c != nil {
			r.opened++
		}
	}
	// Every connection echoes again while all are open.
	var okCount int
	forEach(n, inflight, func(i int) {
		if conns[i] == nil {
			return
		}
		if err := echoOnce(conns[i], 'x'); err != nil {
			fail(fmt.Errorf("echo with all connections open: %w", err))
			return
		}
		mu.Lock()
		okCount++
		mu.Unlock()
	})
	r.echoed = okCount
	if r.rssWith, err = rssSum(pids); err != nil {
		return r, err
	}
	return r, nil
}

// forEach calls f(0..n-1) from at most k goroutines at once and waits.
func forEach(n, k int, f func(int)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for range min(n, k) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// usages reads what each of pids holds.
func usages(pids []int) ([]proctest.Stats, error) {
	us := make([]proctest.Stats, len(pids))
	for i, pid := range pids {
		var err error
		if us[i], err = proctest.Usage(pid); err != nil {
			return nil, err
		}
	}
	return us, nil
}

// rssSum returns the resident memory of pids together.
func rssSum(pids []int) (int64, error) {
	us, err := usages(pids)
	var sum int64
	for _, u := range us {
		sum += u.RSS
	}
	return sum, err
}

// cpuSum returns the CPU time of pids together.
func cpuSum(pids []int) (time.Duration, error) {
	us, err := usages(pids)
	var sum time.Duration
	for _, u := range us {
		sum += u.CPU
	}
	return sum, err
}

// percentile returns the p-th percentile (0 < p <= 100) of ds, by the
// nearest-rank method. It sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	rank := int(p/100*float64(len(ds))+0.999999) - 1
	return ds[min(max(rank, 0), len(ds)-1)]
}

// median returns the median of xs.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
